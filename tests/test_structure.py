"""The package's structure, as a new contributor relies on it: every module imports on its own, layers import
downwards only, no import cycles, every package's public names in a sorted ``__all__``, and lessons import
only those public names.

Imports are read from the source (``ast``), top-level and inside functions alike: a lazy import that
goes upwards is still a dependency upwards. Only ``if TYPE_CHECKING:`` blocks are left out (annotations).
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ecrlab

ROOT = Path(ecrlab.__file__).resolve().parent
NOTEBOOKS = ROOT.parent / "notebooks"

# The layers, lowest first. A module may import modules of its own layer or of lower layers only.
LAYERS: list[tuple[str, ...]] = [
    ("ecrlab.errors", "ecrlab.oci", "ecrlab.clock", "ecrlab.lazy", "ecrlab.progress", "ecrlab.net"),
    ("ecrlab.images",),
    ("ecrlab.ecr",),
    ("ecrlab.access", "ecrlab.lifecycle"),
    (
        "ecrlab.wire",
        "ecrlab.registry",
        "ecrlab.scanning",
        "ecrlab.replication",
        "ecrlab.monitoring",
        "ecrlab.eks",
        "ecrlab.signing",
        "ecrlab.pullthrough",
    ),
    ("ecrlab.safety", "ecrlab.lab", "ecrlab.display"),
    ("ecrlab.widgets", "ecrlab.cli", "ecrlab.__main__", "ecrlab.coverage", "ecrlab.serve"),
    ("ecrlab.exercises",),
]


def all_modules() -> list[str]:
    names = ["ecrlab"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="ecrlab."):
        names.append(info.name)
    return sorted(names)


def module_path(name: str) -> Path:
    relative = Path(*name.split(".")[1:])
    package = ROOT / relative / "__init__.py"
    return package if package.exists() else (ROOT / relative).with_suffix(".py")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, known: set[str]) -> set[str]:
    """The ecrlab modules ``name`` imports at run time (any depth in the file, not under TYPE_CHECKING)."""
    path = module_path(name)
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ecrlab"):
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("ecrlab"):
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return found


def layer_of(name: str) -> int:
    best = -1
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                best = rank
    if best < 0 and name != "ecrlab":
        raise AssertionError(f"{name} belongs to no layer: add it to LAYERS in tests/test_structure.py")
    return best


MODULES = all_modules()
GRAPH = {name: imports_of(name, set(MODULES)) for name in MODULES}


# Run in one child interpreter: it imports the third-party libraries ecrlab uses, then forks once per ecrlab
# module and imports that module alone in the fork. Every fork starts with no ecrlab module loaded, as a fresh
# interpreter would, without paying for a new interpreter and boto3/moto/pandas in each of ~150 processes.
_FORK_PER_MODULE = """
import importlib, json, os, sys, traceback
names, third_party = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for top in third_party:
    try:
        importlib.import_module(top)
    except Exception:
        pass  # the module's own import below will say what is missing
assert not [m for m in sys.modules if m == "ecrlab" or m.startswith("ecrlab.")]
failures = {}
for name in names:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().strip().splitlines()[-1].encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        error = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if status:
        failures[name] = error or f"exit status {status}"
print(json.dumps(failures))
"""


def _third_party_imports() -> list[str]:
    """The top-level packages outside ecrlab and the standard library that ecrlab's modules import."""
    tops: set[str] = set()
    for name in MODULES:
        for node in ast.walk(ast.parse(module_path(name).read_text())):
            if isinstance(node, ast.Import):
                tops.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                tops.add(node.module.split(".")[0])
    return sorted(t for t in tops if t != "ecrlab" and t not in sys.stdlib_module_names)


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    """Catches cycles that only work thanks to import order (a partially initialised module)."""
    proc = subprocess.run(
        [sys.executable, "-c", _FORK_PER_MODULE, json.dumps(MODULES), json.dumps(_third_party_imports())],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {}


def test_layers_import_downwards_only():
    upward = sorted(
        f"{name} ({layer_of(name)}) imports {dep} ({layer_of(dep)})"
        for name, deps in GRAPH.items()
        if name != "ecrlab"
        for dep in deps
        if dep != "ecrlab" and layer_of(dep) > layer_of(name)
    )
    assert upward == []


def test_the_engine_and_images_stay_low():
    """The two rules the architecture names first, spelled out."""
    engine_deps = {dep for name, deps in GRAPH.items() if name.startswith("ecrlab.ecr") for dep in deps}
    assert not {
        d for d in engine_deps if d.split(".")[1] in {"registry", "widgets", "exercises", "lab", "access", "lifecycle"}
    }
    image_deps = {dep for name, deps in GRAPH.items() if name.startswith("ecrlab.images") for dep in deps}
    assert not {d for d in image_deps if d.split(".")[1] in {"widgets", "exercises", "lab", "ecr", "registry"}}


def test_no_import_cycles():
    """Strongly connected components of the module graph (Tarjan); a package's ``__init__`` re-exporting
    its own submodules is not a cycle unless a submodule imports the package back."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def edges(name: str) -> set[str]:
        # A submodule importing from its own package's __init__ is the package re-export pattern's cost.
        return {d for d in GRAPH.get(name, set()) if d in GRAPH}

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges(v):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in GRAPH:
        if v not in index:
            strongconnect(v)
    assert cycles == []


PACKAGES = [name for name in MODULES if module_path(name).name == "__init__.py"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_exports_a_sorted_all_of_real_names(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"

    # Sorted either plainly or as ruff's RUF022 sorts (CONSTANTS, then Classes, then functions).
    def isort_style(n: str) -> tuple[int, str]:
        return (0 if n.isupper() else 1 if n[:1].isupper() else 2, n)

    assert list(exported) in (sorted(exported), sorted(exported, key=isort_style)), f"{name}.__all__ is not sorted"
    missing = [n for n in exported if not hasattr(module, n) and n not in getattr(module, "_LAZY", {})]
    assert missing == []


def notebook_imports() -> list[tuple[str, str, list[str]]]:
    out = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            try:
                tree = ast.parse("\n".join(lines))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ecrlab"):
                    out.append((path.name, node.module, [a.name for a in node.names]))
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.startswith("ecrlab"):
                            out.append((path.name, alias.name, []))
    return out


def test_lessons_import_only_exported_names():
    """A lesson imports from a package (``ecrlab.images``, ``ecrlab.widgets``, ...), a top-level module
    (``ecrlab.display``) or its own exercises (``ecrlab.exercises.lessonNN``), and only names in ``__all__``."""
    problems = []
    for notebook, module_name, names in notebook_imports():
        module = importlib.import_module(module_name)
        is_package = hasattr(module, "__path__")
        parent = module_name.rpartition(".")[0]
        own_exercises = parent == "ecrlab.exercises"
        top_level = parent == "ecrlab"
        if not (is_package or own_exercises or top_level):
            problems.append(f"{notebook}: imports from {module_name}, a module inside a package")
            continue
        exported = set(getattr(module, "__all__", ()))
        for name in names:
            # ``from ecrlab import images`` or ``from ecrlab.exercises import lesson01`` names a module.
            submodule = is_package and f"{module_name}.{name}" in MODULES
            if name not in exported and not submodule:
                problems.append(f"{notebook}: {module_name}.{name} is not in its __all__")
    assert problems == []

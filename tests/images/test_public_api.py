"""The images package's public names, its place at the bottom of the layers, and what importing it costs."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ecrlab
import ecrlab.images
import ecrlab.widgets

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "ecrlab" / "images"

# What the lessons and the exercises' solution texts take from ``ecrlab.images`` (as ``images.X`` or
# ``from ecrlab.images import X``).
LESSON_NAMES = {
    "BASE_IMAGES",
    "DockerfileError",
    "Image",
    "ImageBuilder",
    "RegistryClient",
    "RegistryClientError",
    "TextProgress",
    "base_image",
    "build_dockerfile",
    "build_index",
    "engine_registry",
    "find_engine",
    "layer_diagram",
    "layer_files",
    "skopeo_copy",
    "start_distribution",
}


def test_all_is_sorted_and_every_name_resolves() -> None:
    names = ecrlab.images.__all__
    assert names == sorted(names) and len(set(names)) == len(names)
    for name in names:
        assert getattr(ecrlab.images, name) is not None, name
        assert name in dir(ecrlab.images)
    assert LESSON_NAMES <= set(names)


def test_unknown_names_are_attribute_errors() -> None:
    for module in (ecrlab, ecrlab.images):
        try:
            module.no_such_name  # noqa: B018
        except AttributeError as exc:
            assert "no_such_name" in str(exc)
        else:
            raise AssertionError(f"{module.__name__}.no_such_name resolved")


def test_exercises_use_only_exported_image_names() -> None:
    used: set[str] = set()
    for path in (ROOT / "ecrlab" / "exercises").glob("lesson*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "ecrlab.images":
                used |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                # Hints and solution texts, as learners run them: ``images.ImageBuilder()``.
                used |= set(re.findall(r"(?<![\w.])images\.([A-Za-z_]\w*)", node.value))
    assert used and used <= set(ecrlab.images.__all__), used - set(ecrlab.images.__all__)


def test_root_keeps_its_names_and_starts_lazily() -> None:
    assert ecrlab.__all__ == ["EcrlabError", "Lab", "LabClock", "LabError", "ServiceError", "start"]
    from ecrlab.lab import Lab, start

    assert ecrlab.start is start and ecrlab.Lab is Lab


def test_default_progress_is_the_widget_layer_s(monkeypatch) -> None:
    assert "default_progress" in ecrlab.widgets.__all__
    assert "default_progress" not in ecrlab.images.__all__
    pytest.importorskip("ipykernel")  # what a Jupyter kernel has loaded

    assert isinstance(ecrlab.widgets.default_progress(), ecrlab.widgets.PushProgress)
    monkeypatch.delitem(sys.modules, "ipykernel")  # a terminal, a script
    assert type(ecrlab.widgets.default_progress()) is ecrlab.images.TextProgress


def _imports(path: Path) -> set[str]:
    """Every ecrlab module ``path`` imports, at module level or inside functions (not under TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ecrlab"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("ecrlab")}
    return found


def test_images_sit_at_the_bottom_of_the_layers() -> None:
    allowed = ("ecrlab.images", "ecrlab.oci", "ecrlab.errors", "ecrlab.lazy", "ecrlab.net")
    for path in sorted(IMAGES.glob("*.py")):
        above = {m for m in _imports(path) if not m.startswith(allowed)}
        assert not above, (
            f"{path.name} imports {sorted(above)}: images import only images, ecrlab.oci, ecrlab.errors, ecrlab.lazy, ecrlab.net"
        )
    assert _imports(ROOT / "ecrlab" / "oci.py") == set()


def _fresh(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_importing_the_oci_objects_is_cheap() -> None:
    loaded = _fresh(
        "import json, sys; import ecrlab.images.oci; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('ecrlab', 'boto3', 'botocore', 'moto', 'httpx', 'ipywidgets'))))"
    )
    assert not [m for m in loaded if not m.startswith("ecrlab")], loaded
    assert len(loaded) <= 8, loaded


def test_import_ecrlab_then_start_works_in_a_fresh_interpreter() -> None:
    result = _fresh(
        "import json, ecrlab\n"
        "with ecrlab.start(deterministic=True) as lab:\n"
        "    name = lab.client('ecr').create_repository(repositoryName='lazy')['repository']['repositoryName']\n"
        "print(json.dumps(name))"
    )
    assert result == "lazy"

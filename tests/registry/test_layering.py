"""The data plane's imports run one way: the blob store and the engine know nothing of HTTP, the
registry's handlers know nothing of the app that routes to them."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

import ecrlab

PACKAGE = pathlib.Path(ecrlab.__file__).parent
HANDLERS = ("blobs", "uploads", "manifests", "tags", "referrers", "context", "errors")


def imported_modules(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["blobstore", "dataplane", "layers", "auth", "engine"])
def test_engine_side_never_imports_the_registry(module):
    imports = imported_modules(PACKAGE / "ecr" / f"{module}.py")
    assert not [m for m in imports if m.startswith("ecrlab.registry")], imports


def test_blob_store_imports_only_the_exception_tree():
    """The bottom of the stack: nothing of ecrlab but its errors (the one exception tree)."""
    imports = [m for m in imported_modules(PACKAGE / "ecr" / "blobstore.py") if m.startswith("ecrlab")]
    assert {m.rpartition(".")[0] if m.startswith("ecrlab.errors.") else m for m in imports} == {"ecrlab.errors"}


@pytest.mark.parametrize("module", HANDLERS)
def test_handlers_never_import_the_app(module):
    imports = imported_modules(PACKAGE / "registry" / f"{module}.py")
    assert "ecrlab.registry.app" not in imports and "ecrlab.registry.server" not in imports, imports


@pytest.mark.parametrize("module", [*HANDLERS, "app", "server"])
def test_each_registry_module_imports_alone(module):
    """In a fresh interpreter, first thing: a cycle would fail with a partially initialised module."""
    done = subprocess.run(
        [sys.executable, "-c", f"import ecrlab.registry.{module}"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr

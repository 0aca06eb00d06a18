"""moto is touched in one package, the engine sits below access, access below the lab: checked from
the source's imports and in fresh interpreters (where a cycle would fail to import)."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import ecrlab.wire

PACKAGE = Path(ecrlab.wire.__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules_under(*parts: str) -> list[Path]:
    return sorted(PACKAGE.joinpath(*parts).rglob("*.py"))


def test_moto_is_imported_only_inside_ecrlab_wire():
    outside = {
        str(path.relative_to(PACKAGE.parent)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "moto")
        for path in modules_under()
        if "wire" not in path.relative_to(PACKAGE).parts[:1]
    }
    assert {path: found for path, found in outside.items() if found} == {}
    # ... and the package does touch moto, so the scan above looks at real imports
    assert any("moto.iam.models" in imported_modules(p) for p in modules_under("wire"))


def test_the_installed_moto_is_the_series_the_adapter_is_written_for():
    assert version("moto").startswith(ecrlab.wire.MOTO_SERIES + "."), (version("moto"), ecrlab.wire.MOTO_SERIES)


def test_the_engine_imports_no_access_module():
    found = {
        str(path.relative_to(PACKAGE.parent)): sorted(
            m for m in imported_modules(path) if m.startswith("ecrlab.access")
        )
        for path in modules_under("ecr")
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_access_imports_neither_the_lab_nor_the_moto_adapter():
    upward = ("ecrlab.lab", "ecrlab.wire", "ecrlab.safety")
    found = {
        str(path.relative_to(PACKAGE.parent)): sorted(m for m in imported_modules(path) if m.startswith(upward))
        for path in modules_under("access")
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_the_adapters_state_modules_import_only_what_they_answer_with():
    # backends answers with access's directory records; the clock and the mock know nothing of ecrlab
    allowed = {"backends": {"ecrlab.access.directory"}, "clock": set(), "mock": set()}
    for name, expected in allowed.items():
        found = {m for m in imported_modules(PACKAGE / "wire" / f"{name}.py") if m.startswith("ecrlab")}
        assert found <= expected | {
            f"{m}.{n}"
            for m in expected
            for n in ("AccessKeyOwner", "IamGroup", "IamRole", "IamUser", "ManagedPolicy", "RoleSession")
        }, (name, found)


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("ecrlab.access.authorizer", "ecrlab.lab"),
        ("ecrlab.access.operations", "ecrlab.lab"),
        ("ecrlab.access.identities", "ecrlab.lab"),
        ("ecrlab.access.accounts", "ecrlab.lab"),
        ("ecrlab.ecr.engine", "ecrlab.access"),
        ("ecrlab.ecr.account_settings", "ecrlab.access"),
        ("ecrlab.wire.backends", "ecrlab.ecr"),
        ("ecrlab.access.directory", "ecrlab.wire"),
        ("ecrlab.wire.iam", "ecrlab.lab"),
        ("ecrlab.wire.sts", "ecrlab.access"),
        ("ecrlab.wire.ecr_api", "ecrlab.access"),
    ],
)
def test_module_imports_first_in_a_fresh_interpreter(module, absent):
    # The root package's __init__ is bypassed (as a lazy one would be), so a cycle that only works
    # because ``ecrlab/__init__.py`` imports the lab first fails here.
    code = (
        "import importlib.util, sys, types\n"
        "root = types.ModuleType('ecrlab')\n"
        "root.__path__ = list(importlib.util.find_spec('ecrlab').submodule_search_locations)\n"
        "sys.modules['ecrlab'] = root\n"
        f"import {module}\n"
        f"loaded = sorted(m for m in sys.modules if m == {absent!r} or m.startswith({absent + '.'!r}))\n"
        "assert not loaded, loaded\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_policy_operations_are_in_the_table_once_access_is_installed():
    code = (
        "import ecrlab.ecr, ecrlab.access\n"
        "assert 'SetRepositoryPolicy' not in ecrlab.ecr.OPERATIONS\n"
        "ecrlab.access.register_operations(); ecrlab.access.register_operations()\n"
        "ops = ecrlab.ecr.OPERATIONS\n"
        "names = ['SetRepositoryPolicy', 'GetRepositoryPolicy', 'DeleteRepositoryPolicy',\n"
        "         'PutRegistryPolicy', 'GetRegistryPolicy', 'DeleteRegistryPolicy']\n"
        "assert all(ops[n].handler.__module__ == 'ecrlab.access.operations' for n in names)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]

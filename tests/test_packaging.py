"""The package's public surface and the environments that install it stay in step."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

import ecrlab
import ecrlab.errors

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_public_api_is_small_and_sorted():
    assert ecrlab.__all__ == sorted(ecrlab.__all__)
    for name in ecrlab.__all__:
        assert hasattr(ecrlab, name)
    assert ecrlab.errors.__all__ == sorted(ecrlab.errors.__all__)


def test_every_service_error_is_in_the_documented_tree():
    for name in ecrlab.errors.__all__:
        obj = getattr(ecrlab.errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, ecrlab.errors.EcrlabError)


def _pip_section(path: Path) -> list[str]:
    doc = yaml.safe_load(path.read_text())
    (pip,) = [d["pip"] for d in doc["dependencies"] if isinstance(d, dict)]
    return pip


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_conda_and_binder_environments_match():
    assert _pip_section(ROOT / "environment.yml") == _pip_section(ROOT / "binder" / "environment.yml")


def test_environments_hold_the_package_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["lab"]]
    listed = {Requirement(r).name.lower(): Requirement(r) for r in _pip_section(ROOT / "environment.yml")}
    pins = _pins()
    for req in needed:
        assert req.name.lower() in listed, f"{req.name} is a dependency but not in environment.yml"
        env_req = listed[req.name.lower()]
        if req.name.lower() in pins:
            version = pins[req.name.lower()]
            assert req.specifier.contains(version), (
                f"constraints.txt pins {req.name}=={version} outside {req.specifier}"
            )
            assert str(env_req.specifier) == f"=={version}", f"environment.yml must pin {req.name}=={version}"
        else:
            assert env_req.specifier == req.specifier, f"{req.name}: {env_req.specifier} != {req.specifier}"


def test_binder_start_sets_the_sandbox_mode():
    start = (ROOT / "binder" / "start").read_text()
    assert re.search(r"^export ECRLAB_MODE=sandbox$", start, re.MULTILINE)
    assert start.rstrip().endswith('exec "$@"')


def test_an_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv("ECRLAB_MODE", "aws")
    with pytest.raises(ecrlab.LabError, match="ECRLAB_MODE"):
        ecrlab.start()


def _imported_top_level_modules(root: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(("tree", "extras"), [("ecrlab", ()), ("tests", ("lab", "test"))])
def test_every_third_party_import_is_a_declared_dependency(tree, extras):
    """A module imported by the package (or the tests) must be installed by `pip install ecrlab` (or the
    test extra): a clean machine has nothing else."""
    from importlib.metadata import packages_distributions, requires

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {Requirement(r).name.lower() for r in project["dependencies"]}
    for extra in extras:
        declared |= {Requirement(r).name.lower() for r in project["optional-dependencies"][extra]}
    # What the declared distributions bring with them (ipywidgets brings IPython, moto brings requests).
    reachable = set(declared)
    todo = list(declared)
    while todo:
        try:
            reqs = requires(todo.pop()) or []
        except Exception:  # noqa: BLE001, S112 - an uninstalled optional dependency has no metadata
            continue
        for line in reqs:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}) or "extra" in str(req.marker):
                name = req.name.lower()
                if name not in reachable:
                    reachable.add(name)
                    todo.append(name)
    providers = packages_distributions()
    for module in sorted(_imported_top_level_modules(ROOT / tree)):
        if module in sys.stdlib_module_names or module in ("ecrlab", "tests", "__future__"):
            continue
        if module.lower() in declared:  # declared for another Python version (tomli) or importable by name
            continue
        dists = {d.lower() for d in providers.get(module, [])}
        assert dists, f"{tree} imports {module}, which no installed distribution provides"
        assert dists & reachable, f"{tree} imports {module} (from {dists}) but pyproject.toml does not declare it"

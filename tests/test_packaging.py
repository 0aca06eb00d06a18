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
            assert req.specifier.contains(version), f"constraints.txt pins {req.name}=={version} outside {req.specifier}"
            assert str(env_req.specifier) == f"=={version}", f"environment.yml must pin {req.name}=={version}"
        else:
            assert env_req.specifier == req.specifier, f"{req.name}: {env_req.specifier} != {req.specifier}"


def test_binder_start_sets_the_sandbox_mode():
    start = (ROOT / "binder" / "start").read_text()
    assert re.search(r"^export ECRLAB_MODE=sandbox$", start, re.M)
    assert start.rstrip().endswith('exec "$@"')


def test_an_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv("ECRLAB_MODE", "aws")
    with pytest.raises(ecrlab.LabError, match="ECRLAB_MODE"):
        ecrlab.start()

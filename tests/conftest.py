"""Shared fixtures: a fresh deterministic lab per test, and the CI rule for skipped real clients."""

from __future__ import annotations

import os
import shutil

import pytest

import ecrlab

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True, scope="session")
def _progress_stays_in_the_test_run(tmp_path_factory):
    """Checks record progress (ecrlab/progress.py): the tests' and their kernels' go to a temporary
    directory, not the home of whoever runs them."""
    os.environ.setdefault("ECRLAB_PROGRESS_DIR", str(tmp_path_factory.mktemp("progress")))


@pytest.fixture
def lab():
    with ecrlab.start(deterministic=True) as running:
        yield running


@pytest.fixture
def ecr(lab):
    return lab.client("ecr")


def require_tool(name: str) -> str:
    """The path of a real client tool; skip without it, except in CI where a skip is a failure."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (.ci/run installs it) but was not found")
        pytest.skip(f"{name} is not installed")
    return path

"""Shared fixtures: a fresh deterministic lab per test, a logged-in registry client and a repository to push
into, a free loopback port, and the CI rule for skipped real clients."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

import ecrlab
from ecrlab.images import RegistryClient

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


@pytest.fixture
def registry(lab):
    """A registry client logged in to the lab's data plane as the administrator."""
    client = RegistryClient.for_lab(lab)
    yield client
    client.close()


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="team/app")
    return "team/app"


def free_port() -> int:
    """A loopback port nothing listens on now (for a process the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_tool(name: str) -> str:
    """The path of a real client tool; skip without it, except in CI where a skip is a failure."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (.ci/run installs it) but was not found")
        pytest.skip(f"{name} is not installed")
    return path

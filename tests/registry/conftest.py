"""Fixtures for the data plane: a logged-in registry client and a repository to push into."""

from __future__ import annotations

import pytest

from ecrlab.registry.client import RegistryClient


@pytest.fixture
def registry(lab):
    client = RegistryClient.login(lab)
    yield client
    client.close()


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="team/app")
    return "team/app"

"""Fixtures for the data plane: a logged-in registry client and a repository to push into."""

from __future__ import annotations

import pytest

from ecrlab.images import RegistryClient


@pytest.fixture
def registry(lab):
    client = RegistryClient.for_lab(lab)
    yield client
    client.close()


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="team/app")
    return "team/app"

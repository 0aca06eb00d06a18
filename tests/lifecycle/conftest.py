"""Fixtures for the lifecycle tests: a repository ``app`` and a way to fill it with dated images."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from ecrlab.ecr.model import ImageRecord, Repository
from tests.lifecycle.lifecycle_support import add_image, make_image


@pytest.fixture
def repo(ecr, lab) -> Repository:
    ecr.create_repository(repositoryName="app")
    return lab.engine.repository(lab.account_id, lab.region, "app")


@pytest.fixture
def images(repo, lab) -> Callable[..., dict[str, ImageRecord]]:
    """``images(A=(["beta-1", "prod-1"], 10), ...)``: name -> (tags, pushed N days ago[, pulled N days ago])."""

    def put(**spec: tuple) -> dict[str, ImageRecord]:
        now = lab.clock.now()
        out = {}
        for seq, (name, (tags, days, *pulled)) in enumerate(spec.items()):
            pulled_at = now - timedelta(days=pulled[0]) if pulled and pulled[0] is not None else None
            out[name] = add_image(repo, make_image(name, tags, now - timedelta(days=days), seq, pulled_at))
        return out

    return put

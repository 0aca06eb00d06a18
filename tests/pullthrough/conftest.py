"""One lab per module: the pull through cache tests use their own prefixes, so they share it."""

from __future__ import annotations

import json

import pytest

import ecrlab
from ecrlab.pullthrough import LAB_ACCESS_TOKEN, LAB_USERNAME


@pytest.fixture(scope="module")
def lab():
    with ecrlab.start(deterministic=True) as running:
        yield running


@pytest.fixture(scope="module")
def ecr(lab):
    return lab.client("ecr")


@pytest.fixture(scope="module")
def good_secret(lab) -> str:
    """A secret holding the lab upstream's credentials, named as ECR requires."""
    value = json.dumps({"username": LAB_USERNAME, "accessToken": LAB_ACCESS_TOKEN})
    return lab.client("secretsmanager").create_secret(Name="ecr-pullthroughcache/lab", SecretString=value)["ARN"]


@pytest.fixture(scope="module")
def wrong_secret(lab) -> str:
    value = json.dumps({"username": LAB_USERNAME, "accessToken": "not-the-token"})
    return lab.client("secretsmanager").create_secret(Name="ecr-pullthroughcache/wrong", SecretString=value)["ARN"]

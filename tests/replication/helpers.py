"""Pushing and pulling across the lab's registries for the replication tests."""

from __future__ import annotations

import base64
from typing import Any

from ecrlab import images
from ecrlab.images.client import RegistryClient


def image(text: str) -> images.Image:
    return images.ImageBuilder(images.base_image("alpine:3.20.3")).copy_bytes(text.encode(), "/app/v.txt").build()


def client_for(lab: Any, ecr: Any, account_id: str | None = None, region: str | None = None) -> RegistryClient:
    """A registry client for (account, region), logged in with a token from ``ecr`` (a client of that
    registry's account and region)."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    return RegistryClient(
        lab.registry_endpoint(account_id=account_id, region=region), username=username, password=password
    )


def statuses(ecr: Any, repository: str, digest: str) -> list[dict[str, str]]:
    answer = ecr.describe_image_replication_status(repositoryName=repository, imageId={"imageDigest": digest})
    return sorted(answer["replicationStatuses"], key=lambda s: (s["registryId"], s["region"]))


def allow_replication_from(ecr: Any, source_account: str, create: bool = True) -> None:
    """A destination registry policy letting ``source_account`` replicate (and create repositories)."""
    import json

    actions = ["ecr:ReplicateImage"] + (["ecr:CreateRepository"] if create else [])
    ecr.put_registry_policy(
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReplicationFromSource",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{source_account}:root"},
                        "Action": actions,
                        "Resource": "*",
                    }
                ],
            }
        )
    )

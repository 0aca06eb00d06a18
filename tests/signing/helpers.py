"""What the signing tests share: a profile ARN, pushes through the registry, the statuses of an image."""

from __future__ import annotations

import json
from typing import Any

from ecrlab import images
from ecrlab.images import RegistryClient

ACCOUNT = "123456789012"


def profile(name: str, account: str = ACCOUNT, region: str = "us-east-1") -> str:
    return f"arn:aws:signer:{region}:{account}:/signing-profiles/{name}"


def rule(profile_arn: str, *filters: str) -> dict[str, Any]:
    out: dict[str, Any] = {"signingProfileArn": profile_arn}
    if filters:
        out["repositoryFilters"] = [{"filter": f, "filterType": "WILDCARD_MATCH"} for f in filters]
    return out


def image(text: str) -> images.Image:
    return images.ImageBuilder().copy_bytes(text.encode(), "/content.txt").build()


def push(client: RegistryClient, repository: str, text: str, tag: str | None = None) -> str:
    return client.push(image(text), repository, tag).digest


def statuses(ecr: Any, repository: str, digest: str) -> list[dict[str, str]]:
    return ecr.describe_image_signing_status(repositoryName=repository, imageId={"imageDigest": digest})[
        "signingStatuses"
    ]


def registry_client_of(lab: Any, name: str, statements: list[dict[str, Any]]) -> RegistryClient:
    """A registry client logged in as a new IAM user ``name`` with an inline policy of ``statements``.

    The client takes its token at once: the lab's sessions share one botocore session, so a session's
    credentials are only its own until the next ``lab.session(...)`` is made."""
    iam = lab.client("iam")
    iam.create_user(UserName=name)
    document = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return RegistryClient.for_lab(lab, lab.session(user=name))


PUSH_ACTIONS = [
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]

"""The AWS managed ECR policies, with their real texts, made attachable in the lab's IAM.

moto's IAM loads AWS managed policies only when asked (``MOTO_IAM_LOAD_MANAGED_POLICIES``, which
loads over a thousand); the lab adds just the ECR ones, from ``ecrlab/data/managed-policies/``,
to every account it runs, so ``attach_user_policy(PolicyArn="arn:aws:iam::aws:policy/...")`` works.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["MANAGED_POLICY_NAMES", "install_managed_policies", "managed_policy", "managed_policy_arn"]

MANAGED_POLICY_NAMES = (
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEC2ContainerRegistryReadOnly",
)


def managed_policy_arn(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


@cache
def managed_policy(name: str) -> dict[str, Any]:
    """One managed policy's record: PolicyName, Arn, Description, DefaultVersionId, dates, Document."""
    if name not in MANAGED_POLICY_NAMES:
        raise KeyError(f"{name} is not one of the AWS managed ECR policies ({', '.join(MANAGED_POLICY_NAMES)})")
    text = resources.files("ecrlab").joinpath("data", "managed-policies", f"{name}.json").read_text()
    return json.loads(text)


def install_managed_policies(account_id: str) -> None:
    """Make the managed ECR policies attachable in ``account_id``'s IAM (idempotent)."""
    from ecrlab.access import directory

    directory.current().add_aws_managed_policies(
        account_id, [(name, managed_policy(name)) for name in MANAGED_POLICY_NAMES]
    )

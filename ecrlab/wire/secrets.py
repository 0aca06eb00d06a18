"""Reads of moto's Secrets Manager state, answered as plain ecrlab data: the secrets a pull through
cache rule names for its upstream's credentials (``moto.secretsmanager.models.secretsmanager_backends``).

ECR reads the secret with its service-linked role; the lab reads moto's state directly, as that role
would see it: whether the secret exists, whether it is scheduled for deletion, which KMS key encrypts it
and its current ``SecretString``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StoredSecret", "read_secret"]

#: The key Secrets Manager encrypts with unless told otherwise (moto's name for it).
DEFAULT_KEY = "alias/aws/secretsmanager"


@dataclass(frozen=True)
class StoredSecret:
    arn: str
    name: str
    deleted: bool  # scheduled for deletion: unreadable until restored
    kms_key_id: str | None  # a customer managed key, or None for Secrets Manager's own key
    kms_key_usable: bool  # the customer managed key exists and is enabled
    secret_string: str | None  # the current SecretString


def read_secret(account: str, region: str, arn: str) -> StoredSecret | None:
    """The secret ``arn`` in (account, region), or None when Secrets Manager has no such secret."""
    from moto.kms.exceptions import NotFoundException
    from moto.kms.models import kms_backends
    from moto.secretsmanager.models import secretsmanager_backends

    secrets = secretsmanager_backends[account][region].secrets
    secret = secrets.get(arn)
    if secret is None:  # looked up by full ARN, or by a partial one (the ARN without its random suffix)
        return None
    key = secret.kms_key_id if secret.kms_key_id not in (None, DEFAULT_KEY) else None
    usable = True
    if key is not None:
        keys = kms_backends[account][region]
        try:
            usable = bool(keys.describe_key(key).enabled)
        except NotFoundException:  # an unknown key or alias
            usable = False
    return StoredSecret(
        arn=secret.arn,
        name=secret.name,
        deleted=secret.is_deleted(),
        kms_key_id=key,
        kms_key_usable=usable,
        secret_string=secret.secret_string,
    )

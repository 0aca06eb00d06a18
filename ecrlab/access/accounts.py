"""More than one AWS account in one lab: ``lab.account("222222222222")``.

Each account has its own IAM, its own ECR registries and an administrator (the account's root user)
whose access key the lab issues. Cross-account requests are decided as in AWS: the caller's identity
policy *and* the resource's policy must allow them (an account's root holds every identity
permission in its own account, and only there).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3

from ecrlab.access import directory
from ecrlab.access.identities import KeyRing, root_principal
from ecrlab.access.managed import install_managed_policies
from ecrlab.errors import LabError

__all__ = ["Account", "SessionFactory"]

#: (access key, secret, session token) -> a boto3 session the sandbox guards.
SessionFactory = Callable[[str, str, "str | None"], boto3.Session]


class Account:
    """One AWS account of the lab: ``.account_id``, ``.client(name)``, ``.session(user=, role=)``."""

    def __init__(self, account_id: str, *, region: str, keyring: KeyRing, session_factory: SessionFactory) -> None:
        if not re.fullmatch(r"\d{12}", account_id):
            raise LabError(f"an AWS account id is 12 digits, not {account_id!r}")
        self.account_id = account_id
        self.region = region
        self._keyring = keyring
        self._session_factory = session_factory
        install_managed_policies(account_id)
        # A key held in this account's IAM sends the administrator's IAM/STS calls here; the lab maps
        # it to the account's root (see admin_key).
        self._admin_key = directory.current().issue_account_key(account_id)
        self.admin = root_principal(account_id)

    @property
    def admin_key(self) -> str:
        """The access key id the account's administrator signs with."""
        return self._admin_key[0]

    def session(self, user: str | None = None, role: str | None = None) -> boto3.Session:
        """A boto3 session as this account's administrator, one of its IAM users, or a role session."""
        if user and role:
            raise LabError("session() takes user= or role=, not both")
        if user or role:
            key, secret, token = self._keyring.credentials(self.account_id, user=user, role=role)
        else:
            (key, secret), token = self._admin_key, None
        return self._session_factory(key, secret, token)

    def client(self, name: str, region_name: str | None = None) -> Any:
        """A boto3 client for service ``name`` as this account's administrator."""
        return self.session().client(name, region_name=region_name or self.region)

    def cli_env(self) -> dict[str, str]:
        """Environment variables for ``lab.aws(..., env=...)`` acting as this account's administrator."""
        key, secret = self._admin_key
        return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}

    def __repr__(self) -> str:
        return f"<Account {self.account_id}>"

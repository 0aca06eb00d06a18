"""More than one AWS account in one lab: ``lab.account("222222222222")``.

Each account has its own IAM (moto keeps one backend per account), its own ECR registries and an
administrator (the account's root user) whose access key the lab issues. Cross-account requests
are decided as in AWS: the caller's identity policy *and* the resource's policy must allow them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import boto3

from ecrlab.access.identities import credentials_for, root_principal
from ecrlab.access.managed import install_managed_policies
from ecrlab.errors import LabError

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["Account"]


class Account:
    """One AWS account of the lab: ``.account_id``, ``.client(name)``, ``.session(user=, role=)``."""

    def __init__(self, lab: Lab, account_id: str) -> None:
        if not re.fullmatch(r"\d{12}", account_id):
            raise LabError(f"an AWS account id is 12 digits, not {account_id!r}")
        from moto.iam.models import iam_backends

        self.lab = lab
        self.account_id = account_id
        self.region = lab.region
        install_managed_policies(account_id)
        # moto finds a request's account from its access key: a key held in this account's IAM
        # sends the administrator's IAM/STS calls here, and the lab maps it to the account's root.
        key = iam_backends[account_id]["aws"].create_temp_access_key()
        self._admin_key = (key.access_key_id, key.secret_access_key)
        self.admin = root_principal(account_id)
        lab.register_principal(key.access_key_id, self.admin)

    def session(self, user: str | None = None, role: str | None = None) -> boto3.Session:
        """A boto3 session as this account's administrator, one of its IAM users, or a role session."""
        if user and role:
            raise LabError("session() takes user= or role=, not both")
        if user or role:
            key, secret, token = credentials_for(self.lab, user=user, role=role, account=self.account_id)
        else:
            (key, secret), token = self._admin_key, None
        return self.lab._boto_session(key, secret, token)

    def client(self, name: str, region_name: str | None = None) -> Any:
        """A boto3 client for service ``name`` as this account's administrator."""
        return self.session().client(name, region_name=region_name or self.region)

    def cli_env(self) -> dict[str, str]:
        """Environment variables for ``lab.aws(..., env=...)`` acting as this account's administrator."""
        key, secret = self._admin_key
        return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}

    def __repr__(self) -> str:
        return f"<Account {self.account_id}>"

"""Where access control reads IAM and STS: the :class:`Directory` the lab installs, and the plain data
it answers with.

The lab's IAM and STS are moto's; :mod:`ecrlab.wire.backends` reads them and answers with the records
below, so access control never holds a moto object and never imports the adapter (which sits above
it). IAM is process-wide in the sandbox, as moto's state is, so the directory is too: the running lab
installs it with :func:`use`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ecrlab.errors import LabError

__all__ = [
    "AccessKeyOwner",
    "Directory",
    "IamGroup",
    "IamRole",
    "IamUser",
    "ManagedPolicy",
    "RoleSession",
    "current",
    "use",
]


@dataclass(frozen=True)
class ManagedPolicy:
    """A managed policy and the text of its default version."""

    name: str
    arn: str
    document: str

    @property
    def aws_managed(self) -> bool:
        return ":iam::aws:" in self.arn


@dataclass(frozen=True)
class IamGroup:
    name: str
    arn: str
    inline: tuple[tuple[str, str], ...]  # (policy name, document), sorted by name
    attached: tuple[ManagedPolicy, ...]  # sorted by ARN


@dataclass(frozen=True)
class IamUser:
    name: str
    arn: str
    inline: tuple[tuple[str, str], ...]
    attached: tuple[ManagedPolicy, ...]
    groups: tuple[IamGroup, ...]
    tags: Mapping[str, str]
    boundary_arn: str | None


@dataclass(frozen=True)
class IamRole:
    name: str
    arn: str
    inline: tuple[tuple[str, str], ...]
    attached: tuple[ManagedPolicy, ...]
    tags: Mapping[str, str]
    boundary_arn: str | None
    trust_policy: str


@dataclass(frozen=True)
class RoleSession:
    """A role session STS handed out (``arn:aws:sts::<acct>:assumed-role/<role>/<session>``)."""

    arn: str
    account: str
    role_arn: str
    access_key_id: str
    session_token: str
    expiration: datetime  # naive UTC, moto's clock (the lab's while a lab runs)
    policy: str | None  # the session policy passed to AssumeRole


@dataclass(frozen=True)
class AccessKeyOwner:
    """Whose access key it is: an IAM user's (``user``), or a role session's (``session``; None when
    the key belongs to a session STS no longer lists)."""

    account: str
    active: bool
    user: str | None = None
    user_arn: str | None = None
    session: RoleSession | None = None
    is_role_key: bool = False


class Directory(Protocol):
    """IAM and STS as access control needs them: lookups, and the few credentials the lab issues."""

    def user(self, account: str, name: str) -> IamUser | None: ...
    def group(self, account: str, name: str) -> IamGroup | None: ...
    def role(self, account: str, name: str) -> IamRole | None: ...
    def managed_policy(self, account: str, arn: str) -> ManagedPolicy | None: ...
    def role_session(self, account: str, arn: str) -> RoleSession | None: ...
    def key_owner(self, access_key: str) -> AccessKeyOwner | None: ...
    def access_key_exists(self, account: str, access_key: str) -> bool: ...
    def issue_user_key(self, account: str, user_name: str) -> tuple[str, str]: ...
    def issue_account_key(self, account: str) -> tuple[str, str]: ...
    def assume_role(
        self, account: str, region: str, role_arn: str, session_name: str, duration: int
    ) -> tuple[str, str, str]: ...
    def add_aws_managed_policies(self, account: str, records: Iterable[tuple[str, Mapping[str, Any]]]) -> None: ...
    def now(self) -> datetime:
        """IAM and STS's time (naive UTC): the lab clock's."""
        ...


_current: Directory | None = None


def use(directory: Directory | None) -> None:
    """Make ``directory`` the one access control reads (None: no lab is running)."""
    global _current
    _current = directory


def current() -> Directory:
    if _current is None:
        raise LabError("no ecrlab sandbox is running in this process: start one with ecrlab.start()")
    return _current

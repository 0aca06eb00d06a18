"""Who is asking, and which policies speak for them: the lab's view of IAM and STS.

IAM users, groups and roles are created the AWS way (``lab.client("iam")``); this module turns an
access key into a :class:`~ecrlab.ecr.model.Principal` and a principal into the policies that apply
to it (inline and attached, its groups', a role session's session policy, a permissions boundary)
and the tags that ``aws:PrincipalTag/...`` conditions read. It reads IAM's state (moto's, through
:mod:`ecrlab.wire.backends`) at decision time, so a policy attached a moment ago counts on the very
next request, as in IAM (minus the delay).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from ecrlab.access import directory
from ecrlab.access.directory import IamGroup, IamRole, IamUser
from ecrlab.access.evaluation import BOUNDARY, IDENTITY, SESSION, Policy
from ecrlab.access.grammar import parse_policy
from ecrlab.ecr.model import Principal
from ecrlab.errors import LabError

__all__ = [
    "EXPIRED",
    "INVALID",
    "Identity",
    "KeyRing",
    "identity_of",
    "invalid_key",
    "principal_for_arn",
    "principal_for_key",
    "root_principal",
]

SESSION_NAME = "ecrlab"  # the RoleSessionName lab.session(role=...) uses
# Principal kinds for credentials IAM refuses before any policy is read.
INVALID, EXPIRED = "invalid-key", "expired-token"

_parsed: dict[tuple[str, str, str], Policy] = {}
_parsed_lock = threading.Lock()


def _policy(text: Any, name: str, kind: str, arn: str = "") -> Policy:
    """A parsed policy, cached by text: the same documents are read on every request."""
    if isinstance(text, dict):
        text = json.dumps(text)
    key = (text, name, kind)
    found = _parsed.get(key)
    if found is None:
        # moto accepted the document already; IAM's rules are laxer than ECR's (unknown actions are fine).
        found = Policy(name, kind, parse_policy(text, resource_policy=False), arn)
        with _parsed_lock:
            _parsed[key] = found
    return found


def root_principal(account: str, is_lab_admin: bool = False) -> Principal:
    return Principal(arn=f"arn:aws:iam::{account}:root", account=account, kind="root", is_lab_admin=is_lab_admin)


@dataclass(frozen=True)
class Identity:
    """What the evaluation needs to know about a principal besides its ARN."""

    principal_arn: str  # aws:PrincipalArn: the role's ARN for a role session
    policies: tuple[Policy, ...]
    session: tuple[Policy, ...] | None
    boundary: tuple[Policy, ...] | None
    tags: dict[str, str]
    username: str = ""
    principal_type: str = "Account"  # aws:PrincipalType: Account | User | AssumedRole


def _attached(holder: IamUser | IamGroup | IamRole, owner: str) -> list[Policy]:
    out = [_policy(doc, f"inline policy {name!r} of {owner}", IDENTITY) for name, doc in holder.inline]
    out += [_policy(m.document, f"{m.name} (attached to {owner})", IDENTITY, m.arn) for m in holder.attached]
    return out


def _boundary(account: str, arn: str | None) -> tuple[Policy, ...] | None:
    if not arn:
        return None
    managed = directory.current().managed_policy(account, arn)
    if managed is None:
        return ()  # a boundary that no longer exists allows nothing
    return (_policy(managed.document, f"{managed.name} (permissions boundary)", BOUNDARY, arn),)


def identity_of(principal: Principal) -> Identity:
    """The policies and tags of ``principal`` as IAM holds them now."""
    if principal.kind == "user":
        user = directory.current().user(principal.account, principal.name)
        if user is None:
            return Identity(principal.arn, (), None, None, {}, principal.name, "User")
        policies = _attached(user, f"user/{user.name}")
        for group in user.groups:
            policies += _attached(group, f"group/{group.name}")
        boundary = _boundary(principal.account, user.boundary_arn)
        return Identity(user.arn, tuple(policies), None, boundary, dict(user.tags), user.name, "User")
    if principal.kind == "assumed-role":
        role_name = principal.arn.split("/")[1]
        role = directory.current().role(principal.account, role_name)
        if role is None:
            return Identity(f"arn:aws:iam::{principal.account}:role/{role_name}", (), None, None, {}, "", "AssumedRole")
        session = directory.current().role_session(principal.account, principal.arn)
        session_policy = (_policy(session.policy, "session policy", SESSION),) if session and session.policy else None
        return Identity(
            role.arn,
            tuple(_attached(role, f"role/{role.name}")),
            session_policy,
            _boundary(principal.account, role.boundary_arn),
            dict(role.tags),
            "",
            "AssumedRole",
        )
    return Identity(principal.arn, (), None, None, {}, "", "Account")


def unknown_principals(document: dict[str, Any]) -> list[str]:
    """The IAM user and role ARNs a resource policy names that do not exist in their account's IAM.
    AWS resolves a resource policy's principals when the policy is saved and refuses one that names
    nobody (accounts, account roots, sessions and service principals are taken as they are)."""
    missing = []
    for statement in document.get("Statement", []):
        for element in ("Principal", "NotPrincipal"):
            value = statement.get(element)
            if not isinstance(value, dict):
                continue
            ids = value.get("AWS", [])
            for arn in [ids] if isinstance(ids, str) else ids:
                parts = arn.split(":", 5)
                if len(parts) != 6 or parts[2] != "iam":
                    continue
                kind, _, rest = parts[5].partition("/")
                name = rest.split("/")[-1]
                if (kind == "user" and directory.current().user(parts[4], name) is None) or (
                    kind == "role" and directory.current().role(parts[4], name) is None
                ):
                    missing.append(arn)
    return missing


def principal_for_arn(arn: str) -> Principal:
    """The principal an ARN names: ``...:root``, ``...:user/[path/]name``, ``...:role/name`` (as a
    session ``ecrlab`` of that role, the way ``lab.session(role=...)`` acts) or an assumed-role ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[4]:
        raise LabError(f"{arn!r} is not an IAM principal ARN")
    account, resource = parts[4], parts[5]
    if resource == "root":
        return root_principal(account)
    kind, _, rest = resource.partition("/")
    if kind == "user":
        return Principal(arn=arn, account=account, kind="user", name=rest.split("/")[-1])
    if kind == "role":
        name = rest.split("/")[-1]
        return Principal(
            arn=f"arn:aws:sts::{account}:assumed-role/{name}/{SESSION_NAME}",
            account=account,
            kind="assumed-role",
            name=name,
        )
    if kind == "assumed-role":
        return Principal(arn=arn, account=account, kind="assumed-role", name=rest.split("/")[0])
    raise LabError(f"{arn!r} is not an IAM user, role or account root")


def principal_for_key(access_key: str, session_token: str | None = None) -> Principal | None:
    """The IAM user or role session that ``access_key`` belongs to, in any account IAM knows."""
    owner = directory.current().key_owner(access_key)
    if owner is None:
        return None
    if not owner.active:
        return invalid_key(owner.account)
    if owner.is_role_key:
        session = owner.session
        if session is None:
            return None
        if session_token is not None and session_token != session.session_token:
            return invalid_key(owner.account)
        if session.expiration <= directory.current().now():
            return Principal(arn=session.arn, account=owner.account, kind=EXPIRED)
        return Principal(
            arn=session.arn, account=session.account, kind="assumed-role", name=session.role_arn.split("/")[-1]
        )
    if owner.user is not None and owner.user_arn is not None:
        return Principal(arn=owner.user_arn, account=owner.account, kind="user", name=owner.user)
    return None


def invalid_key(account: str) -> Principal:
    """The caller behind a key IAM no longer accepts (deleted, inactive, or a wrong session token)."""
    return Principal(arn=f"arn:aws:iam::{account}:invalid-key", account=account, kind=INVALID)


class KeyRing:
    """The credentials the lab hands out for IAM users and roles (``lab.session(user=/role=)``).

    A user gets one access key created on first use and reused after (a new one if the learner
    deleted it); a role is assumed through STS (session name ``ecrlab``) on every call, as
    ``aws sts assume-role`` would."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._user_keys: dict[tuple[str, str], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def credentials(
        self, account: str, user: str | None = None, role: str | None = None
    ) -> tuple[str, str, str | None]:
        """(access key, secret, session token) acting as IAM ``user`` or as a session of ``role``."""
        if user:
            if directory.current().user(account, user) is None:
                raise LabError(
                    f"there is no IAM user named {user!r} in account {account}: create it first with "
                    f"lab.client('iam').create_user(UserName={user!r})"
                )
            with self._lock:
                cached = self._user_keys.get((account, user))
                if cached is None or not directory.current().access_key_exists(account, cached[0]):
                    cached = self._user_keys[(account, user)] = directory.current().issue_user_key(account, user)
            return cached[0], cached[1], None
        if not role:
            raise LabError("credentials for an IAM user (user=) or role (role=) were asked for, naming neither")
        found = directory.current().role(account, role)
        if found is None:
            raise LabError(
                f"there is no IAM role named {role!r} in account {account}: create it first with "
                f"lab.client('iam').create_role(RoleName={role!r}, AssumeRolePolicyDocument=...)"
            )
        return directory.current().assume_role(account, self.region, found.arn, SESSION_NAME, 3600)

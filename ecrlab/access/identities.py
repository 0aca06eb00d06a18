"""Who is asking, and which policies speak for them: the lab's view of moto's IAM and STS.

IAM users, groups and roles are created the AWS way (``lab.client("iam")``); this module turns an
access key into a :class:`~ecrlab.ecr.model.Principal` and a principal into the policies that apply
to it (inline and attached, its groups', a role session's session policy, a permissions boundary)
and the tags that ``aws:PrincipalTag/...`` conditions read. It reads moto's state at decision time,
so a policy attached a moment ago counts on the very next request, as in IAM (minus the delay).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecrlab.access.evaluation import BOUNDARY, IDENTITY, SESSION, Policy
from ecrlab.access.grammar import parse_policy
from ecrlab.ecr.model import Principal
from ecrlab.errors import LabError

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = [
    "EXPIRED",
    "INVALID",
    "Identity",
    "credentials_for",
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


def _iam(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


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


def _attached(holder: Any, owner: str) -> list[Policy]:
    out = [
        _policy(doc, f"inline policy {name!r} of {owner}", IDENTITY) for name, doc in sorted(holder.policies.items())
    ]
    for arn, managed in sorted(holder.managed_policies.items()):
        version = next(v for v in managed.versions if v.is_default)
        out.append(_policy(version.document, f"{managed.name} (attached to {owner})", IDENTITY, arn))
    return out


def _boundary(account: str, arn: str | None) -> tuple[Policy, ...] | None:
    if not arn:
        return None
    managed = _iam(account).managed_policies.get(arn)
    if managed is None:
        return ()  # a boundary that no longer exists allows nothing
    version = next(v for v in managed.versions if v.is_default)
    return (_policy(version.document, f"{managed.name} (permissions boundary)", BOUNDARY, arn),)


def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return (
            {v["Key"]: v["Value"] for v in tags.values()}
            if all(isinstance(v, dict) for v in tags.values())
            else dict(tags)
        )
    return {t["Key"]: t["Value"] for t in tags or []}


def identity_of(principal: Principal) -> Identity:
    """The policies and tags of ``principal`` as moto's IAM holds them now."""
    iam = _iam(principal.account)
    if principal.kind == "user":
        user = iam.users.get(principal.name)
        if user is None:
            return Identity(principal.arn, (), None, None, {}, principal.name, "User")
        policies = _attached(user, f"user/{user.name}")
        for group in iam.get_groups_for_user(user.name):
            policies += _attached(group, f"group/{group.name}")
        tags = _tag_dict(iam.tagger.list_tags_for_resource(user.arn)["Tags"])
        boundary = _boundary(principal.account, getattr(user, "permissions_boundary_arn", None))
        return Identity(user.arn, tuple(policies), None, boundary, tags, user.name, "User")
    if principal.kind == "assumed-role":
        role_name = principal.arn.split("/")[1]
        role = _role(iam, role_name)
        if role is None:
            return Identity(f"arn:aws:iam::{principal.account}:role/{role_name}", (), None, None, {}, "", "AssumedRole")
        session = _session_policy(principal)
        boundary = _boundary(principal.account, role.permissions_boundary_arn)
        return Identity(
            role.arn,
            tuple(_attached(role, f"role/{role.name}")),
            session,
            boundary,
            _tag_dict(role.tags),
            "",
            "AssumedRole",
        )
    return Identity(principal.arn, (), None, None, {}, "", "Account")


def _role(iam: Any, name: str) -> Any:
    return next((r for r in iam.roles.values() if r.name == name), None)


def _session_policy(principal: Principal) -> tuple[Policy, ...] | None:
    from moto.sts.models import sts_backends

    for assumed in reversed(sts_backends[principal.account]["aws"].assumed_roles):
        if assumed.arn == principal.arn:
            return (_policy(assumed.policy, "session policy", SESSION),) if assumed.policy else None
    return None


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
                iam = _iam(parts[4])
                if (kind == "user" and name not in iam.users) or (kind == "role" and _role(iam, name) is None):
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
    """The IAM user or role session that ``access_key`` belongs to, in any account moto knows."""
    import moto.core.utils as moto_utils
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account, partitions in list(iam_backends.items()):
        iam = partitions["aws"]
        key = iam.access_keys.get(access_key)
        if key is None:
            continue
        if key.status != "Active":
            return invalid_key(account)
        if key.role_arn:
            for assumed in sts_backends[account]["aws"].assumed_roles:
                if assumed.access_key_id == access_key:
                    if session_token is not None and session_token != assumed.session_token:
                        return invalid_key(account)
                    if assumed.expiration <= moto_utils.utcnow():
                        return Principal(arn=assumed.arn, account=account, kind=EXPIRED)
                    role_name = assumed.role_arn.split("/")[-1]
                    return Principal(arn=assumed.arn, account=assumed.account_id, kind="assumed-role", name=role_name)
            return None
        user = iam.get_user_from_access_key_id(access_key)
        if user is not None:
            return Principal(arn=user.arn, account=account, kind="user", name=user.name)
    return None


def invalid_key(account: str) -> Principal:
    """The caller behind a key IAM no longer accepts (deleted, inactive, or a wrong session token)."""
    return Principal(arn=f"arn:aws:iam::{account}:invalid-key", account=account, kind=INVALID)


def credentials_for(
    lab: Lab, user: str | None = None, role: str | None = None, account: str | None = None
) -> tuple[str, str, str | None]:
    """(access key, secret, session token) acting as IAM ``user`` or as a session of ``role``.

    A user gets one access key the lab creates on first use and reuses after; a role is assumed
    through STS (session name ``ecrlab``) on every call, as ``aws sts assume-role`` would.
    """
    account = account or lab.account_id
    iam = _iam(account)
    if user:
        if user not in iam.users:
            raise LabError(
                f"there is no IAM user named {user!r} in account {account}: create it first with "
                f"lab.client('iam').create_user(UserName={user!r})"
            )
        cache = lab.__dict__.setdefault("_user_keys", {})
        cached = cache.get((account, user))
        if cached is None or cached[0] not in iam.access_keys:  # first use, or the learner deleted the key
            key = iam.create_access_key(user)
            cache[(account, user)] = (key.access_key_id, key.secret_access_key)
        key_id, secret = cache[(account, user)]
        return key_id, secret, None
    assert role
    found = _role(iam, role)
    if found is None:
        raise LabError(
            f"there is no IAM role named {role!r} in account {account}: create it first with "
            f"lab.client('iam').create_role(RoleName={role!r}, AssumeRolePolicyDocument=...)"
        )
    from moto.sts.models import sts_backends

    assumed = sts_backends[account]["aws"].assume_role(
        region_name=lab.region,
        role_session_name=SESSION_NAME,
        role_arn=found.arn,
        policy="",
        duration=3600,
        external_id="",
    )
    return assumed.access_key_id, assumed.secret_access_key, assumed.session_token

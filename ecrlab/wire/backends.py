"""Read-only lookups in moto's IAM and STS state, answered as plain ecrlab data, and the few writes
the lab makes there directly (access keys, role sessions, the AWS managed ECR policies).

This module is the :class:`~ecrlab.access.directory.Directory` the lab installs for access control:
it answers with that module's records, never a moto object, so moto's model classes can change shape
without reaching past this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ecrlab.access.directory import AccessKeyOwner, IamGroup, IamRole, IamUser, ManagedPolicy, RoleSession

__all__ = [
    "access_key_exists",
    "add_aws_managed_policies",
    "assume_role",
    "group",
    "issue_account_key",
    "issue_user_key",
    "key_owner",
    "managed_policy",
    "now",
    "role",
    "role_session",
    "user",
]


def _iam(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _sts(account: str) -> Any:
    from moto.sts.models import sts_backends

    return sts_backends[account]["aws"]


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _managed(policy: Any) -> ManagedPolicy:
    version = next(v for v in policy.versions if v.is_default)
    return ManagedPolicy(policy.name, policy.arn, _text(version.document))


def _inline(holder: Any) -> tuple[tuple[str, str], ...]:
    return tuple((name, _text(doc)) for name, doc in sorted(holder.policies.items()))


def _attached(holder: Any) -> tuple[ManagedPolicy, ...]:
    return tuple(_managed(p) for _, p in sorted(holder.managed_policies.items()))


def _tags(tags: Any) -> dict[str, str]:
    """moto keeps tags as a list of {Key, Value}, a dict of them, or a plain dict, by resource."""
    if isinstance(tags, dict):
        if all(isinstance(v, dict) for v in tags.values()):
            return {v["Key"]: v["Value"] for v in tags.values()}
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags or []}


def _group(found: Any) -> IamGroup:
    return IamGroup(found.name, found.arn, _inline(found), _attached(found))


def user(account: str, name: str) -> IamUser | None:
    iam = _iam(account)
    found = iam.users.get(name)
    if found is None:
        return None
    return IamUser(
        found.name,
        found.arn,
        _inline(found),
        _attached(found),
        tuple(_group(g) for g in iam.get_groups_for_user(found.name)),
        _tags(iam.tagger.list_tags_for_resource(found.arn)["Tags"]),
        getattr(found, "permissions_boundary_arn", None),
    )


def group(account: str, name: str) -> IamGroup | None:
    found = _iam(account).groups.get(name)
    return None if found is None else _group(found)


def role(account: str, name: str) -> IamRole | None:
    found = next((r for r in _iam(account).roles.values() if r.name == name), None)
    if found is None:
        return None
    return IamRole(
        found.name,
        found.arn,
        _inline(found),
        _attached(found),
        _tags(found.tags),
        found.permissions_boundary_arn,
        _text(found.assume_role_policy_document),
    )


def managed_policy(account: str, arn: str) -> ManagedPolicy | None:
    found = _iam(account).managed_policies.get(arn)
    return None if found is None else _managed(found)


def _session(assumed: Any) -> RoleSession:
    return RoleSession(
        assumed.arn,
        assumed.account_id,
        assumed.role_arn,
        assumed.access_key_id,
        assumed.session_token,
        assumed.expiration,
        assumed.policy or None,
    )


def role_session(account: str, arn: str) -> RoleSession | None:
    """The latest session of ``arn`` STS handed out in ``account``."""
    for assumed in reversed(_sts(account).assumed_roles):
        if assumed.arn == arn:
            return _session(assumed)
    return None


def key_owner(access_key: str) -> AccessKeyOwner | None:
    """Who holds ``access_key``, in any account moto knows; None for a key IAM never issued."""
    from moto.iam.models import iam_backends

    for account, partitions in list(iam_backends.items()):
        iam = partitions["aws"]
        key = iam.access_keys.get(access_key)
        if key is None:
            continue
        active = key.status == "Active"
        if key.role_arn:
            session = next((a for a in _sts(account).assumed_roles if a.access_key_id == access_key), None)
            return AccessKeyOwner(account, active, session=session and _session(session), is_role_key=True)
        found = iam.get_user_from_access_key_id(access_key)
        if found is None:
            return AccessKeyOwner(account, active)
        return AccessKeyOwner(account, active, user=found.name, user_arn=found.arn)
    return None


def access_key_exists(account: str, access_key: str) -> bool:
    return access_key in _iam(account).access_keys


def issue_user_key(account: str, user_name: str) -> tuple[str, str]:
    """A new access key for IAM user ``user_name``: (key id, secret)."""
    key = _iam(account).create_access_key(user_name)
    return key.access_key_id, key.secret_access_key


def issue_account_key(account: str) -> tuple[str, str]:
    """An access key held in ``account``'s IAM but owned by no user: moto finds a request's account
    from its key, so IAM and STS calls signed with it land in ``account``."""
    key = _iam(account).create_temp_access_key()
    return key.access_key_id, key.secret_access_key


def assume_role(account: str, region: str, role_arn: str, session_name: str, duration: int) -> tuple[str, str, str]:
    """A role session from STS directly (no trust check: the lab acts for its own administrator):
    (access key, secret, session token)."""
    assumed = _sts(account).assume_role(
        region_name=region,
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=duration,
        external_id="",
    )
    return assumed.access_key_id, assumed.secret_access_key, assumed.session_token


def add_aws_managed_policies(account: str, records: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Make AWS managed policies attachable in ``account``'s IAM (idempotent). ``records``: (name,
    record with PolicyName, Arn, Description, DefaultVersionId, dates, Document), as AWS lists them."""
    from moto.iam.models import AWSManagedPolicy

    backend = _iam(account)
    for name, record in records:
        arn = record.get("Arn") or f"arn:aws:iam::aws:policy/{name}"
        if arn in backend.managed_policies:
            continue
        policy = AWSManagedPolicy.from_data(name, account, "us-east-1", dict(record))
        policy.description = record["Description"]
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[arn] = policy


def now() -> datetime:
    """moto's time (naive UTC): the lab clock's while a lab runs (see :mod:`ecrlab.wire.clock`)."""
    import moto.core.utils as moto_utils

    return moto_utils.utcnow()

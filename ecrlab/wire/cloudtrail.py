"""CloudTrail's ``LookupEvents`` in moto, answered from the lab's trail; IAM unique ids for its records.

moto's CloudTrail keeps trails but no event history, and has no ``LookupEvents``. moto dispatches a
CloudTrail action (``X-Amz-Target: ...CloudTrail_20131101.LookupEvents``) to the method of the same
snake_case name on ``moto.cloudtrail.responses.CloudTrailResponse``; this module adds that one method,
answering from :meth:`ecrlab.monitoring.trail.Trail.lookup` for the caller's account (found by the lab's
resolver, as ECR finds it) and the request's region. Every other CloudTrail action stays moto's.
Errors are CloudTrail's (``InvalidLookupAttributesException``...) in moto's JSON error shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ecrlab.errors import ServiceError

if TYPE_CHECKING:
    from ecrlab.ecr.model import Principal
    from ecrlab.monitoring.trail import Trail

__all__ = ["install", "uninstall", "unique_id"]


class _Installed:
    """The running lab's trail, resolver and clock; None while no lab runs."""

    trail: Trail | None = None
    resolve: Callable[[str, str | None], Principal] | None = None
    now: Callable[[], datetime] | None = None


def _timestamp(value: Any) -> datetime | None:
    """JSON 1.1 sends timestamps as epoch seconds; accept ISO 8601 text too, as CloudTrail does."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, timezone.utc)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    raise TypeError(f"cannot encode {type(value).__name__}")


def lookup_events(self: Any) -> str:
    from moto.core.exceptions import JsonRESTError

    trail, resolve, now = _Installed.trail, _Installed.resolve, _Installed.now
    if trail is None or resolve is None or now is None:
        raise JsonRESTError("UnsupportedOperationException", "No ecrlab sandbox is running in this process")
    token = self.headers.get("X-Amz-Security-Token") or self.headers.get("x-amz-security-token")
    principal = resolve(self.get_access_key(), token)
    try:
        max_results = self._get_param("MaxResults")
        page = trail.lookup(
            principal.account,
            self.region,
            now(),
            lookup_attributes=self._get_param("LookupAttributes"),
            start_time=_timestamp(self._get_param("StartTime")),
            end_time=_timestamp(self._get_param("EndTime")),
            event_category=self._get_param("EventCategory"),
            max_results=int(max_results) if max_results is not None else None,
            next_token=self._get_param("NextToken"),
        )
    except ServiceError as exc:
        raise JsonRESTError(exc.code, exc.message) from None
    except (ValueError, TypeError) as exc:  # a timestamp or number that does not parse
        raise JsonRESTError("SerializationException", f"Could not read the request: {exc}") from None
    return json.dumps(page, default=_encode)


def unique_id(account: str, kind: str, name: str) -> str | None:
    """The IAM unique id (``AIDA...`` for a user, ``AROA...`` for a role) CloudTrail writes as
    ``principalId``; None when IAM has no such user or role."""
    from moto.iam.exceptions import NoSuchEntity, NotFoundException
    from moto.iam.models import iam_backends

    try:
        backend = iam_backends[account]["aws"]
        found = backend.get_user(name) if kind == "user" else backend.get_role(name)
    except (NoSuchEntity, NotFoundException):  # a name IAM does not know has no unique id
        return None
    return getattr(found, "id", None)


def install(trail: Trail, resolve: Callable[[str, str | None], Principal], now: Callable[[], datetime]) -> None:
    """Add ``LookupEvents`` to moto's CloudTrail (process-wide; idempotent), answering from ``trail``."""
    from moto.cloudtrail.responses import CloudTrailResponse

    _Installed.trail, _Installed.resolve, _Installed.now = trail, resolve, now
    CloudTrailResponse.lookup_events = lookup_events  # type: ignore[attr-defined]


def uninstall() -> None:
    _Installed.trail, _Installed.resolve, _Installed.now = None, None, None

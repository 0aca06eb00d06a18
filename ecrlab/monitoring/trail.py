"""The lab's CloudTrail: one record per ECR call on either plane, and ECR's own service events.

Records take CloudTrail's documented shape (``eventVersion``, ``userIdentity``, ``eventTime``,
``eventSource``, ``eventName``, ``awsRegion``, ``sourceIPAddress``, ``userAgent``, ``requestParameters``,
``responseElements``, ``errorCode``/``errorMessage``, ``requestID``, ``eventID``, ``readOnly``,
``resources``, ``eventType``, ``managementEvent``, ``recipientAccountId``, ``eventCategory``) and are
built from the engine's event stream: a :class:`~ecrlab.ecr.events.CallDecided` becomes an ``AwsApiCall``
record, a :class:`~ecrlab.ecr.events.LifecyclePolicyExecuted` one or more ``PolicyExecutionEvent``
service events. :meth:`Trail.lookup` answers CloudTrail's ``LookupEvents`` from them (event history: one
account and region, newest first, the last 90 days).

``lab.trail.records`` keeps ``eventTime`` as a ``datetime`` (what Python code compares); the JSON that
``LookupEvents`` returns as ``CloudTrailEvent`` carries it as CloudTrail writes it, ``2026-01-01T00:00:00Z``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ecrlab.ecr.events import CallDecided, EventStream, LifecyclePolicyExecuted
from ecrlab.ecr.model import Principal
from ecrlab.errors import error_class

__all__ = [
    "EVENT_HISTORY_DAYS",
    "IMAGES_PER_EVENT",
    "LOOKUP_ATTRIBUTES",
    "READ_ONLY_OPERATIONS",
    "Trail",
    "cloudtrail_json",
    "user_identity",
]

# The User Guide: "where 10 or more images are expired Amazon ECR sends multiple events"; the lab puts
# at most 9 images in one PolicyExecutionEvent.
IMAGES_PER_EVENT = 9

#: Event history keeps 90 days; LookupEvents sees nothing older.
EVENT_HISTORY_DAYS = 90

#: The keys LookupEvents filters on (one per request), as botocore's model lists them.
LOOKUP_ATTRIBUTES = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)

#: ECR operations CloudTrail marks ``readOnly: true``: they read state and change none.
READ_ONLY_OPERATIONS = frozenset(
    {
        "BatchCheckLayerAvailability",
        "BatchGetImage",
        "BatchGetRepositoryScanningConfiguration",
        "DescribeImageReplicationStatus",
        "DescribeImageScanFindings",
        "DescribeImageSigningStatus",
        "DescribeImages",
        "DescribePullThroughCacheRules",
        "DescribeRegistry",
        "DescribeRepositories",
        "DescribeRepositoryCreationTemplates",
        "GetAccountSetting",
        "GetAuthorizationToken",
        "GetDownloadUrlForLayer",
        "GetLifecyclePolicy",
        "GetLifecyclePolicyPreview",
        "GetRegistryPolicy",
        "GetRegistryScanningConfiguration",
        "GetRepositoryPolicy",
        "GetSigningConfiguration",
        "ListImageReferrers",
        "ListImages",
        "ListTagsForResource",
    }
)

# Responses CloudTrail leaves out (``responseElements: null``): reads, and the registry password.
_NO_RESPONSE_ELEMENTS = READ_ONLY_OPERATIONS

_MAX_ATTRIBUTE_VALUE = 2000  # botocore's model: AttributeValue is 1-2000 characters
_DEFAULT_PAGE = 50
_REPOSITORY_TYPE = "AWS::ECR::Repository"
_EVENT_IDS = uuid.UUID("5f0c3a52-8d1e-4c1b-9a57-ec41ab000001")  # namespace of the lab's CloudTrail event ids

InvalidLookupAttributesException = error_class("InvalidLookupAttributesException")
InvalidTimeRangeException = error_class("InvalidTimeRangeException")
InvalidMaxResultsException = error_class("InvalidMaxResultsException")
InvalidNextTokenException = error_class("InvalidNextTokenException")
InvalidEventCategoryException = error_class("InvalidEventCategoryException")

#: (account, kind, name) -> the IAM unique id (AIDA.../AROA...) or None: the lab reads it from IAM.
UniqueIdLookup = Callable[[str, str, str], "str | None"]
#: principal -> the access key it signed with most recently, or None.
AccessKeyLookup = Callable[[Principal], "str | None"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    """``value`` as CloudTrail's JSON carries it: timestamps as ISO strings, blobs as base64."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def user_identity(
    principal: Principal,
    access_key: str | None = None,
    unique_id: UniqueIdLookup | None = None,
) -> dict[str, Any]:
    """CloudTrail's ``userIdentity`` for ``principal``: Root, IAMUser or AssumedRole, with the IAM
    unique id as ``principalId`` and the access key the call was signed with."""
    ids = unique_id or (lambda account, kind, name: None)
    identity: dict[str, Any]
    if principal.kind == "root":
        identity = {"type": "Root", "principalId": principal.account, "arn": principal.arn}
    elif principal.kind == "user":
        user_id = ids(principal.account, "user", principal.name) or principal.name
        identity = {"type": "IAMUser", "principalId": user_id, "arn": principal.arn}
    elif principal.kind == "assumed-role":
        role = principal.name
        session = principal.arn.rsplit("/", 1)[-1]
        role_id = ids(principal.account, "role", role) or role
        identity = {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": principal.arn,
        }
    elif principal.kind == "anonymous":
        # What CloudTrail writes for an unauthenticated caller.
        return {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    else:  # a deleted or inactive key, an expired session: only the key is known
        identity = {"type": "Unknown", "principalId": ""}
    identity["accountId"] = principal.account
    if access_key:
        identity["accessKeyId"] = access_key
    if principal.kind == "user":
        identity["userName"] = principal.name
    if principal.kind == "assumed-role":
        identity["sessionContext"] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": ids(principal.account, "role", principal.name) or principal.name,
                "arn": f"arn:aws:iam::{principal.account}:role/{principal.name}",
                "accountId": principal.account,
                "userName": principal.name,
            },
            "attributes": {"mfaAuthenticated": "false"},
        }
    return identity


def _username(identity: dict[str, Any]) -> str | None:
    """The ``Username`` LookupEvents shows and filters on: the user, the role session, or ``root``."""
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity.get("userName")
    if kind == "AssumedRole":
        return identity["arn"].rsplit("/", 1)[-1]
    if kind == "Root":
        return "root"
    return None


def cloudtrail_json(record: dict[str, Any]) -> str:
    """The record as CloudTrail delivers it (``CloudTrailEvent`` in LookupEvents): one JSON object."""
    return json.dumps(_plain(record), separators=(",", ":"))


@dataclass(frozen=True)
class _Entry:
    """A record with what LookupEvents filters on, computed once."""

    record: dict[str, Any]
    time: datetime
    keys: dict[str, frozenset[str]]


class Trail:
    """CloudTrail-shaped records of everything the engine decided, oldest first (``records``), and the
    per-account, per-region event history ``LookupEvents`` reads (:meth:`lookup`)."""

    def __init__(
        self,
        events: EventStream,
        new_id: Callable[[], str] | None = None,
        *,
        access_key: AccessKeyLookup | None = None,
        unique_id: UniqueIdLookup | None = None,
    ) -> None:
        self.records: list[dict[str, Any]] = []
        self._history: dict[tuple[str, str], list[_Entry]] = {}
        # (account, region) -> (attribute, value) -> positions in _history, ascending: a filtered lookup
        # walks only the records that match, not the whole history.
        self._index: dict[tuple[str, str], dict[tuple[str, str], list[int]]] = {}
        self._lock = threading.Lock()
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self.access_key = access_key
        self.unique_id = unique_id
        events.subscribe(self._on_call, CallDecided)
        events.subscribe(self._on_lifecycle, LifecyclePolicyExecuted)

    # -- recording --------------------------------------------------------------------------------
    def _append(self, record: dict[str, Any], accounts: Iterable[str]) -> None:
        entry = _Entry(record, record["eventTime"], _lookup_keys(record))
        with self._lock:
            self.records.append(record)
            for account in dict.fromkeys(accounts):  # once each, in order
                where = (account, record["awsRegion"])
                history = self._history.setdefault(where, [])
                index = self._index.setdefault(where, {})
                for key, values in entry.keys.items():
                    for value in values:
                        index.setdefault((key, value), []).append(len(history))
                history.append(entry)

    def _on_call(self, event: CallDecided) -> None:
        principal = event.principal
        key = self.access_key(principal) if self.access_key is not None else None
        resources = _resources(event)
        record: dict[str, Any] = {
            "eventVersion": "1.08",
            "userIdentity": user_identity(principal, key, self.unique_id),
            "eventTime": event.time,
            "eventSource": "ecr.amazonaws.com",
            "eventName": event.operation,
            "awsRegion": event.region,
            "sourceIPAddress": event.source_ip,
            "userAgent": event.user_agent,
        }
        if event.error_code is not None:
            record["errorCode"] = event.error_code
            record["errorMessage"] = event.error_message
        record["requestParameters"] = _plain(dict(event.params)) or None
        record["responseElements"] = (
            None
            if event.response is None or event.operation in _NO_RESPONSE_ELEMENTS
            else _plain(_without_blobs(event.response))
        )
        record.update(
            {
                "requestID": event.request_id,
                # Derived from the request id rather than drawn from the engine's seeded generator, so
                # recording a call changes no id the engine hands out afterwards (tokens, upload ids).
                "eventID": str(uuid.uuid5(_EVENT_IDS, event.request_id)),
                "readOnly": event.operation in READ_ONLY_OPERATIONS,
                "resources": resources,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": event.account,
                "eventCategory": "Management",
            }
        )
        if not resources:
            del record["resources"]
        # A call on another account's registry is in both accounts' event history, as in CloudTrail.
        accounts = [event.account, principal.account] if principal.account.isdigit() else [event.account]
        self._append(record, accounts)

    def _on_lifecycle(self, event: LifecyclePolicyExecuted) -> None:
        actions = list(event.actions)
        for start in range(0, len(actions), IMAGES_PER_EVENT):
            record = {
                "eventVersion": "1.05",
                "userIdentity": {"accountId": event.account, "invokedBy": "AWS Internal"},
                "eventTime": event.time,
                "eventSource": "ecr.amazonaws.com",
                "eventName": "PolicyExecutionEvent",
                "awsRegion": event.region,
                "sourceIPAddress": "AWS Internal",
                "userAgent": "AWS Internal",
                "requestParameters": None,
                "responseElements": None,
                "eventID": self._new_id(),
                "readOnly": True,
                "resources": [{"ARN": event.repository_arn, "accountId": event.account, "type": _REPOSITORY_TYPE}],
                "eventType": "AwsServiceEvent",
                "managementEvent": True,
                "recipientAccountId": event.account,
                "serviceEventDetails": {
                    "repositoryName": event.repository,
                    "lifecycleEventPolicy": event.policy,
                    "lifecycleEventImageActions": actions[start : start + IMAGES_PER_EVENT],
                },
                "eventCategory": "Management",
            }
            self._append(record, [event.account])

    # -- reading ----------------------------------------------------------------------------------
    def history(self, account: str, region: str) -> list[dict[str, Any]]:
        """The records ``account`` sees in ``region``, oldest first."""
        with self._lock:
            return [e.record for e in self._history.get((account, region), [])]

    def who(self, event_name: str, repository: str | None = None, account: str | None = None) -> list[dict[str, Any]]:
        """Successful ``event_name`` calls (newest first), optionally on one repository: "who deleted it?"."""
        found = []
        with self._lock:
            records = list(self.records)
        for record in reversed(records):
            if record["eventName"] != event_name or "errorCode" in record:
                continue
            if account is not None and record.get("recipientAccountId") != account:
                continue
            params = record.get("requestParameters") or {}
            if repository is not None and params.get("repositoryName") != repository:
                continue
            found.append(record)
        return found

    def lookup(
        self,
        account: str,
        region: str,
        now: datetime,
        *,
        lookup_attributes: list[dict[str, Any]] | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        event_category: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """One page of CloudTrail's ``LookupEvents`` for ``account`` in ``region`` at lab time ``now``:
        ``{"Events": [...], "NextToken": ...}``, newest first. Raises CloudTrail's validation errors."""
        attribute = _attribute(lookup_attributes)
        if max_results is not None and not 1 <= max_results <= _DEFAULT_PAGE:
            raise InvalidMaxResultsException(f"Value {max_results} for MaxResults is invalid: it must be 1 to 50.")
        if event_category is not None and event_category != "insight":
            raise InvalidEventCategoryException(
                f"Event category {event_category} is not valid. Valid values are: insight."
            )
        oldest = now - timedelta(days=EVENT_HISTORY_DAYS)
        start = max(start_time, oldest) if start_time is not None else oldest
        end = end_time if end_time is not None else now
        if start_time is not None and end_time is not None and start_time > end_time:
            raise InvalidTimeRangeException("Start time must be earlier than end time.")
        query = _fingerprint(account, region, attribute, start_time, end_time, event_category)
        with self._lock:
            entries = self._history.get((account, region), [])
            below = len(entries) if next_token is None else _decode_token(next_token, query, len(entries))
            size = max_results or _DEFAULT_PAGE
            page: list[_Entry] = []
            resume: int | None = None
            positions: Iterable[int]
            if event_category == "insight":
                positions = ()  # no Insights events exist in the lab
            elif attribute is None:
                positions = range(below - 1, -1, -1)
            else:
                matching = self._index.get((account, region), {}).get(attribute, [])
                positions = reversed(matching[: bisect.bisect_left(matching, below)])
            for index in positions:
                entry = entries[index]
                if not start <= entry.time <= end:
                    continue
                if len(page) == size:
                    resume = index + 1
                    break
                page.append(entry)
        out: dict[str, Any] = {"Events": [_lookup_event(e) for e in page]}
        if resume is not None:
            out["NextToken"] = _encode_token(resume, query)
        return out


def _without_blobs(response: dict[str, Any]) -> dict[str, Any]:
    # The registry password never reaches a log.
    return {k: v for k, v in response.items() if k != "authorizationData"}


def _resources(event: CallDecided) -> list[dict[str, str]]:
    """The repository a call named, as CloudTrail lists it (``ARN``, ``accountId``)."""
    name = event.params.get("repositoryName")
    if not isinstance(name, str) or not name:
        return []
    account = event.params.get("registryId") or event.account
    return [{"accountId": account, "ARN": f"arn:aws:ecr:{event.region}:{account}:repository/{name}"}]


def _lookup_keys(record: dict[str, Any]) -> dict[str, frozenset[str]]:
    identity = record.get("userIdentity") or {}
    resources = record.get("resources") or []
    names: set[str] = set()
    for resource in resources:
        names.add(resource["ARN"])
        names.add(resource["ARN"].split(":repository/", 1)[-1])
    username = _username(identity)
    keys = {
        "EventId": frozenset({record["eventID"]}),
        "EventName": frozenset({record["eventName"]}),
        "EventSource": frozenset({record["eventSource"]}),
        "ReadOnly": frozenset({"true" if record.get("readOnly") else "false"}),
        "ResourceName": frozenset(names),
        "ResourceType": frozenset({_REPOSITORY_TYPE} if resources else set()),
        "Username": frozenset({username} if username else set()),
        "AccessKeyId": frozenset({identity["accessKeyId"]} if identity.get("accessKeyId") else set()),
    }
    return keys


def _lookup_event(entry: _Entry) -> dict[str, Any]:
    record = entry.record
    identity = record.get("userIdentity") or {}
    event: dict[str, Any] = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "true" if record.get("readOnly") else "false",
    }
    if identity.get("accessKeyId"):
        event["AccessKeyId"] = identity["accessKeyId"]
    event["EventTime"] = entry.time
    event["EventSource"] = record["eventSource"]
    username = _username(identity)
    if username:
        event["Username"] = username
    event["Resources"] = [
        {"ResourceType": _REPOSITORY_TYPE, "ResourceName": r["ARN"].split(":repository/", 1)[-1]}
        for r in record.get("resources") or []
    ]
    event["CloudTrailEvent"] = cloudtrail_json(record)
    return event


def _attribute(lookup_attributes: list[dict[str, Any]] | None) -> tuple[str, str] | None:
    if not lookup_attributes:
        return None
    if len(lookup_attributes) > 1:
        raise InvalidLookupAttributesException("You cannot specify more than one lookup attribute in a request.")
    item = lookup_attributes[0]
    key, value = item.get("AttributeKey"), item.get("AttributeValue")
    if key not in LOOKUP_ATTRIBUTES:
        raise InvalidLookupAttributesException(
            f"{key} is not a valid attribute key. Valid attribute keys are: {', '.join(LOOKUP_ATTRIBUTES)}."
        )
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_ATTRIBUTE_VALUE:
        raise InvalidLookupAttributesException(
            f"The value for {key} must be between 1 and {_MAX_ATTRIBUTE_VALUE} characters long."
        )
    if key == "ReadOnly" and value not in ("true", "false"):
        raise InvalidLookupAttributesException("The value for ReadOnly must be true or false.")
    return key, value


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _encode_token(index: int, query: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"i": index, "q": query}).encode()).decode()


def _decode_token(token: str, query: str, length: int) -> int:
    """Where the previous page stopped; the token must come from the same query."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        index = int(data["i"])
        same = data["q"] == query
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidNextTokenException("Invalid NextToken.") from None
    if not same or not 0 <= index <= length:
        raise InvalidNextTokenException("Invalid NextToken.")
    return index

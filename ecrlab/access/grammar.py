"""The grammar of IAM policy documents, checked the way AWS checks it before storing a policy.

``parse_policy`` is the one entry point: it returns the document with ``Statement`` always a list
and raises :class:`PolicyGrammarError` naming the statement and the rule broken. ECR's
``SetRepositoryPolicy`` and ``PutRegistryPolicy`` call it with ``resource_policy=True,
service="ecr"`` (every action must then be a real ECR action), IAM simulation and the playground
call it for identity policies.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime, timezone
from typing import Any

from ecrlab.access.actions import ECR_ACTIONS, expand_actions
from ecrlab.ecr.jsonlimits import loads_bounded
from ecrlab.errors import PolicyGrammarError, SerializationException

__all__ = ["CONDITION_OPERATORS", "PolicyGrammarError", "as_list", "parse_policy", "split_operator"]

_VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")

#: Condition operators by the kind of value they compare (without IfExists / ForAnyValue: / ForAllValues:).
CONDITION_OPERATORS: dict[str, str] = {
    **{
        op: "string"
        for op in (
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        )
    },
    **{
        op: "numeric"
        for op in (
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        )
    },
    **{
        op: "date"
        for op in (
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        )
    },
    "Bool": "bool",
    "BinaryEquals": "binary",
    "IpAddress": "ip",
    "NotIpAddress": "ip",
    **{op: "arn" for op in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")},
    "Null": "null",
}

_SID = re.compile(r"^[A-Za-z0-9 ]*$")
_ACCOUNT = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL_ARN = re.compile(
    r"^arn:aws:(?:iam::\d{12}:(?:root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+|federated-user/[\w+=,.@-]+)"
    r"|sts::\d{12}:(?:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+|federated-user/[\w+=,.@-]+))$"
)
_CONDITION_KEY = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9_/+=,.@:${}*?-]+$")


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


def parse_date(text: str) -> datetime | None:
    """An ISO 8601 date/time or epoch seconds, as IAM's Date operators accept them (UTC if no zone)."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def split_operator(name: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` → ``("ForAnyValue", "StringLike", True)``; unknown → PolicyGrammarError."""
    qualifier: str | None = None
    if ":" in name:
        qualifier, _, name = name.partition(":")
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            raise PolicyGrammarError(f"'{qualifier}:' is not a set operator; use ForAnyValue: or ForAllValues:")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    if base not in CONDITION_OPERATORS:
        raise PolicyGrammarError(f"'{name}' is not a condition operator")
    if base == "Null" and (if_exists or qualifier):
        raise PolicyGrammarError("the Null operator takes no IfExists suffix and no set operator")
    return qualifier, base, if_exists


def parse_policy(text: str, *, resource_policy: bool, service: str | None = None) -> dict[str, Any]:
    """Parse ``text`` and check its grammar; return the document with ``Statement`` always a list.

    ``resource_policy``: statements must name a Principal (and identity policies must not).
    ``service``: every action must belong to that service and, for ``ecr``, name (or match) a real action.
    """
    if not isinstance(text, str) or not text.strip():
        raise PolicyGrammarError("The policy is empty")
    try:
        doc = loads_bounded(text, what="policy")
    except SerializationException as exc:
        raise PolicyGrammarError(f"The policy is not valid JSON: {exc.message}") from None
    if not isinstance(doc, dict):
        raise PolicyGrammarError("The policy must be a JSON object")
    unknown = set(doc) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyGrammarError(f"Unknown top-level element(s): {', '.join(sorted(unknown))}")
    if doc.get("Version", "2008-10-17") not in _VERSIONS:
        raise PolicyGrammarError(f"Version must be one of {', '.join(_VERSIONS)}")
    statements = doc.get("Statement")
    if statements is None:
        raise PolicyGrammarError("The policy has no Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyGrammarError("Statement must be an object or a non-empty list of objects")
    sids: set[str] = set()
    for index, statement in enumerate(statements, 1):
        _check_statement(statement, index, resource_policy, service)
        sid = statement.get("Sid")
        if sid:
            if sid in sids:
                raise PolicyGrammarError(f"Statement {index}: Sid '{sid}' is used twice; Sids must be unique")
            sids.add(sid)
    return {**doc, "Statement": statements}


def _check_statement(st: Any, index: int, resource_policy: bool, service: str | None) -> None:
    where = f"Statement {index}" + (f" ({st['Sid']})" if isinstance(st, dict) and st.get("Sid") else "")
    if not isinstance(st, dict):
        raise PolicyGrammarError(f"{where} must be an object")
    unknown = set(st) - _STATEMENT_KEYS
    if unknown:
        raise PolicyGrammarError(f"{where} has unknown element(s): {', '.join(sorted(unknown))}")
    sid = st.get("Sid")
    if sid is not None and (not isinstance(sid, str) or not _SID.match(sid)):
        raise PolicyGrammarError(f"{where}: Sid may hold only letters, digits and spaces")
    if st.get("Effect") not in ("Allow", "Deny"):
        raise PolicyGrammarError(f"{where}: Effect must be Allow or Deny (case matters), not {st.get('Effect')!r}")
    _check_actions(st, where, service)
    _check_principals(st, where, resource_policy)
    if "Resource" in st and "NotResource" in st:
        raise PolicyGrammarError(f"{where} must not have both Resource and NotResource")
    if not resource_policy and "Resource" not in st and "NotResource" not in st:
        raise PolicyGrammarError(f"{where} has no Resource; identity policies must say which resources they cover")
    for resource in as_list(st.get("Resource", st.get("NotResource", []))):
        if not isinstance(resource, str) or not (resource == "*" or resource.startswith("arn:")):
            raise PolicyGrammarError(f'{where}: resource {resource!r} must be "*" or an ARN (arn:aws:...)')
    _check_condition(st.get("Condition", {}), where)


def _check_actions(st: dict[str, Any], where: str, service: str | None) -> None:
    if ("Action" in st) == ("NotAction" in st):
        raise PolicyGrammarError(f"{where} must have exactly one of Action or NotAction")
    actions = as_list(st.get("Action", st.get("NotAction")))
    if not actions:
        raise PolicyGrammarError(f"{where}: the action list is empty")
    for action in actions:
        if not isinstance(action, str) or (action != "*" and not re.match(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$", action)):
            raise PolicyGrammarError(f"{where}: {action!r} is not an action (service:Action, e.g. ecr:BatchGetImage)")
        if service and action != "*":
            prefix = action.split(":", 1)[0]
            if prefix.lower() != service:
                raise PolicyGrammarError(
                    f"{where}: '{action}' is not an {service} action; this policy only takes {service} actions"
                )
        if action.lower().startswith("ecr:") and not expand_actions(action) and service == "ecr":
            close = difflib.get_close_matches(action, ECR_ACTIONS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise PolicyGrammarError(f"{where}: '{action}' matches no ECR action{hint}")


def _check_principals(st: dict[str, Any], where: str, resource_policy: bool) -> None:
    has_principal = "Principal" in st or "NotPrincipal" in st
    if resource_policy and not has_principal:
        raise PolicyGrammarError(f"{where} has no Principal; a resource policy must name who it applies to")
    if not resource_policy and has_principal:
        raise PolicyGrammarError(f"{where} has a Principal; identity policies must not name one")
    if "Principal" in st and "NotPrincipal" in st:
        raise PolicyGrammarError(f"{where} must not have both Principal and NotPrincipal")
    if not has_principal:
        return
    element = "Principal" if "Principal" in st else "NotPrincipal"
    value = st[element]
    if value == "*":
        return
    if not isinstance(value, dict) or not value:
        raise PolicyGrammarError(
            f'{where}: {element} must be "*" or an object like {{"AWS": "arn:aws:iam::111122223333:root"}}'
        )
    for kind, ids in value.items():
        if kind not in _PRINCIPAL_TYPES:
            raise PolicyGrammarError(f"{where}: {element} type {kind!r} must be one of {', '.join(_PRINCIPAL_TYPES)}")
        for ident in as_list(ids):
            if not isinstance(ident, str) or not ident:
                raise PolicyGrammarError(f"{where}: {element} {kind} values must be strings")
            if kind == "AWS" and ident != "*" and not (_ACCOUNT.match(ident) or _AWS_PRINCIPAL_ARN.match(ident)):
                raise PolicyGrammarError(
                    f'{where}: invalid principal {ident!r}: use "*", a 12-digit account id, or an IAM ARN '
                    "(arn:aws:iam::111122223333:root, :user/name, :role/name); wildcards are not allowed in principals"
                )


def _check_condition(condition: Any, where: str) -> None:
    if not isinstance(condition, dict):
        raise PolicyGrammarError(f"{where}: Condition must be an object of operator → {{key: values}}")
    for operator, block in condition.items():
        try:
            _, base, _ = split_operator(operator)
        except PolicyGrammarError as exc:
            raise PolicyGrammarError(f"{where}: {exc}") from None
        if not isinstance(block, dict) or not block:
            raise PolicyGrammarError(f"{where}: Condition {operator} must be an object of condition key → value(s)")
        for key, values in block.items():
            if not _CONDITION_KEY.match(key):
                raise PolicyGrammarError(
                    f"{where}: {key!r} is not a condition key (prefix:name, e.g. aws:PrincipalTag/team)"
                )
            for value in as_list(values):
                if not isinstance(value, (str, bool, int, float)) or isinstance(value, dict):
                    raise PolicyGrammarError(
                        f"{where}: Condition {operator} {key} values must be strings, numbers or booleans"
                    )
                _check_value(base, operator, key, value, where)


def _check_value(base: str, operator: str, key: str, value: Any, where: str) -> None:
    kind = CONDITION_OPERATORS[base]
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if kind in ("bool", "null") and text.lower() not in ("true", "false"):
        raise PolicyGrammarError(f'{where}: {operator} on {key} takes "true" or "false", not {value!r}')
    if kind == "numeric":
        try:
            float(text)
        except ValueError:
            raise PolicyGrammarError(f"{where}: {operator} on {key} takes numbers, not {value!r}") from None
    if kind == "date" and parse_date(text) is None:
        raise PolicyGrammarError(f"{where}: {operator} on {key} takes ISO 8601 dates or epoch seconds, not {value!r}")
    if kind == "ip":
        import ipaddress

        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise PolicyGrammarError(
                f"{where}: {operator} on {key} takes IP addresses or CIDR ranges, not {value!r}"
            ) from None

"""Condition operators, as IAM evaluates them against a request's context.

The rules (IAM User Guide, "Condition operators" and "Single-valued vs. multivalued context keys"):
several operators in a block, and several keys under one operator, are ANDed; several values for
one key are ORed (and a negated operator matches when the request value equals none of them). A key
missing from the request makes a positive operator false and a negated one true; ``...IfExists``
makes a missing key true. ``ForAnyValue:`` needs one request value to match (false when the key is
missing or empty); ``ForAllValues:`` needs every request value to match (true when missing or empty).
"""

from __future__ import annotations

import base64
import ipaddress
import operator
import re
from collections.abc import Callable
from typing import Any

from ecrlab.access.actions import wildcard_regex
from ecrlab.access.grammar import CONDITION_OPERATORS, as_list, parse_date, split_operator

__all__ = ["Context", "conditions_match", "parse_date", "substitute"]

# A request context: lower-cased condition key → a string, or a list of strings for multivalued keys.
Context = dict[str, Any]

_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
    "ArnNotEquals",
    "ArnNotLike",
}
_POSITIVE_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def substitute(text: str, context: Context) -> str | None:
    """Replace policy variables (``${aws:username}``, ``${aws:PrincipalTag/team}``, ``${*}``...) from
    ``context``; None when a variable has no value (the element then matches nothing, as in IAM)."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        inner = match.group(1)
        if inner in ("*", "?", "$"):
            return inner
        name, _, default = inner.partition(",")
        found = context.get(name.strip().lower())
        if isinstance(found, str):
            return found
        if default.strip().startswith("'") and default.strip().endswith("'"):
            return default.strip()[1:-1]
        missing = True
        return ""

    out = _VARIABLE.sub(value, text)
    return None if missing else out


def conditions_match(condition: dict[str, Any], context: Context, *, variables: bool = True) -> bool:
    """Whether a statement's Condition block holds for the request ``context``."""
    for name, block in condition.items():
        qualifier, base, if_exists = split_operator(name)
        for key, wanted in block.items():
            present = context.get(key.lower())
            if not _key_matches(qualifier, base, if_exists, present, as_list(wanted), context, variables):
                return False
    return True


def _key_matches(
    qualifier: str | None,
    base: str,
    if_exists: bool,
    present: Any,
    wanted: list[Any],
    context: Context,
    variables: bool,
) -> bool:
    if base == "Null":
        absent = present is None or present == []
        return all((str(w).lower() == "true") == absent for w in wanted)
    wanted_values = []
    for w in wanted:
        text = str(w).lower() if isinstance(w, bool) else str(w)
        if variables and "${" in text:
            resolved = substitute(text, context)
            if resolved is None:
                continue
            text = resolved
        wanted_values.append(text)
    values = present if isinstance(present, list) else ([] if present is None else [present])
    if qualifier == "ForAllValues":
        return all(_one(base, v, wanted_values) for v in values)
    if qualifier == "ForAnyValue":
        return any(_one(base, v, wanted_values) for v in values)
    if not values:
        return if_exists or base in _NEGATED
    if base in _NEGATED:
        positive = _POSITIVE_OF[base]
        return not any(_one(positive, v, wanted_values) for v in values)
    return any(_one(base, v, wanted_values) for v in values)


def _one(base: str, value: Any, wanted: list[str]) -> bool:
    """Whether one request value satisfies ``base`` against the statement's values (ORed)."""
    if base in _NEGATED:
        return not _one(_POSITIVE_OF[base], value, wanted)
    value = str(value).lower() if isinstance(value, bool) else str(value)
    kind = CONDITION_OPERATORS[base]
    return any(_compare(base, kind, value, w) for w in wanted)


# Numeric* and Date* operators by what follows the prefix (the Not forms are negated before this).
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}


def _compare(base: str, kind: str, value: str, wanted: str) -> bool:
    if kind == "string":
        if base == "StringEquals":
            return value == wanted
        if base == "StringEqualsIgnoreCase":
            return value.lower() == wanted.lower()
        return bool(wildcard_regex(wanted, False).match(value))  # StringLike
    if kind == "arn":
        if base == "ArnEquals" and "*" not in wanted and "?" not in wanted:
            return value == wanted
        return _arn_like(value, wanted)
    if kind == "numeric":
        try:
            a, b = float(value), float(wanted)
        except ValueError:
            return False
        return _ORDER[base.removeprefix("Numeric")](a, b)
    if kind == "date":
        a, b = parse_date(value), parse_date(wanted)
        if a is None or b is None:
            return False
        return _ORDER[base.removeprefix("Date")](a, b)
    if kind == "bool":
        return value.lower() == wanted.lower()
    if kind == "binary":
        try:
            return base64.b64decode(wanted) == value.encode()
        except ValueError:
            return False
    if kind == "ip":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(wanted, strict=False)
        except ValueError:
            return False
    raise AssertionError(f"unhandled condition operator {base}")


def _arn_like(value: str, pattern: str) -> bool:
    """ArnLike compares the six colon-separated parts one by one, each with wildcards."""
    parts, wanted = value.split(":", 5), pattern.split(":", 5)
    if len(parts) != 6 or len(wanted) != 6:
        return False
    return all(wildcard_regex(w, False).match(p) for p, w in zip(parts, wanted))

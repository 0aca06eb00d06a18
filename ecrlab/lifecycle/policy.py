"""Lifecycle policy text: parsed and checked the way ECR checks it before it will store it.

Every refusal is ECR's ``InvalidParameterException`` with its wording
(``Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy
validation failure: ...'``), followed by where the fault is (``rules[1]``, with its ``rulePriority``
when it has one) so a learner can find the broken rule.

The archive family, as the User Guide's "Lifecycle policy properties" and "Archiving an image" state it:
``action.type`` ``transition`` needs ``targetStorageClass: archive`` (its only value), which no other action
takes; ``selection.storageClass`` is ``standard`` (the default) for ``imageCountMoreThan``,
``sinceImagePushed`` and ``sinceImagePulled``, and is required as ``archive`` for ``sinceImageTransitioned``;
archived images can only be expired, and not before they have been in the archive for 90 days (the
archive's minimum storage duration), so such a rule needs ``countNumber`` of at least 90. The ``any`` and
``untagged`` rules are checked per storage class, as ECR's messages say.

Enums are lower case in the policy JSON (``tagged``, ``expire``) and upper case in the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ecrlab.ecr.jsonlimits import loads_bounded
from ecrlab.errors import InvalidParameterException, SerializationException

__all__ = [
    "ARCHIVE_MINIMUM_DAYS",
    "COUNT_TYPES",
    "MAX_TEXT",
    "MAX_WILDCARDS",
    "MIN_TEXT",
    "LifecyclePolicy",
    "Rule",
    "canonical_text",
    "parse_lifecycle_policy",
]

MIN_TEXT, MAX_TEXT = 100, 30720  # botocore's LifecyclePolicyText length limits
MAX_WILDCARDS = 4  # per tagPatternList entry
TAG_STATUSES = ("tagged", "untagged", "any")
COUNT_TYPES = ("imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")
#: Archived images may not be expired by a lifecycle rule before this many days in the archive.
ARCHIVE_MINIMUM_DAYS = 90
_RULE_KEYS = ("rulePriority", "description", "selection", "action")
_SELECTION_KEYS = (
    "tagStatus",
    "tagPatternList",
    "tagPrefixList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
)
_ACTION_KEYS = ("type", "targetStorageClass")
_PREFIX = (
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "
)


@dataclass(frozen=True)
class Rule:
    """One rule of a policy, as the evaluator uses it."""

    priority: int
    tag_status: str  # tagged | untagged | any
    count_type: str  # imageCountMoreThan | sinceImagePushed | sinceImagePulled | sinceImageTransitioned
    count_number: int
    description: str = ""
    tag_prefixes: tuple[str, ...] = ()
    tag_patterns: tuple[str, ...] = ()
    count_unit: str | None = None
    action: str = "expire"  # expire | transition (to the archive)
    storage_class: str = "standard"  # the storage class the rule selects from: standard | archive
    storage_class_given: bool = field(default=False, compare=False)  # written back only if the policy had it

    def as_json(self) -> dict[str, Any]:
        """The rule as ECR writes it back (keys in a fixed order, only those that were given)."""
        selection: dict[str, Any] = {"tagStatus": self.tag_status}
        if self.tag_patterns:
            selection["tagPatternList"] = list(self.tag_patterns)
        if self.tag_prefixes:
            selection["tagPrefixList"] = list(self.tag_prefixes)
        if self.storage_class_given:
            selection["storageClass"] = self.storage_class
        selection["countType"] = self.count_type
        if self.count_unit:
            selection["countUnit"] = self.count_unit
        selection["countNumber"] = self.count_number
        out: dict[str, Any] = {"rulePriority": self.priority}
        if self.description:
            out["description"] = self.description
        out["selection"] = selection
        out["action"] = (
            {"type": "transition", "targetStorageClass": "archive"} if self.transitions else {"type": "expire"}
        )
        return out

    @property
    def transitions(self) -> bool:
        return self.action == "transition"

    def summary(self) -> str:
        """A one-line reading of the rule for people: ``tagged prod* · keep 3 newest``."""
        if self.tag_status == "tagged":
            what = "tagged " + " & ".join(self.tag_patterns or tuple(p + "…" for p in self.tag_prefixes))
        else:
            what = self.tag_status
        if self.count_type == "imageCountMoreThan":
            how = f"more than {self.count_number} images"
        elif self.count_type == "sinceImagePushed":
            how = f"pushed more than {self.count_number} days ago"
        elif self.count_type == "sinceImagePulled":
            how = f"not pulled for more than {self.count_number} days"
        else:
            how = f"archived more than {self.count_number} days ago"
        if self.storage_class == "archive":
            what = f"archived {what}"
        return f"{what}: {how}" + (" → archive" if self.transitions else "")


@dataclass(frozen=True)
class LifecyclePolicy:
    """A validated lifecycle policy: its rules in priority order (lowest number first)."""

    rules: tuple[Rule, ...]
    text: str = field(default="", compare=False)

    def rule(self, priority: int) -> Rule:
        return next(r for r in self.rules if r.priority == priority)


def _fail(detail: str, where: str = "") -> InvalidParameterException:
    suffix = f" ({where})" if where else ""
    return InvalidParameterException(f"{_PREFIX}{detail}{suffix}'")


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _expect(value: Any, kind: str, where: str) -> None:
    if _type_name(value) != kind:
        raise _fail(
            f'instance type ({_type_name(value)}) does not match any allowed primitive type (allowed: ["{kind}"])',
            where,
        )


def _keys(obj: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...], where: str) -> None:
    missing = sorted(k for k in required if k not in obj)
    if missing:
        raise _fail(f"object has missing required properties ({json.dumps(missing)})", where)
    extra = sorted(k for k in obj if k not in allowed)
    if extra:
        raise _fail(f"object instance has properties which are not allowed by the schema: ({json.dumps(extra)})", where)


def _enum(value: Any, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise _fail(
            f"instance value ({json.dumps(value)}) not found in enum (possible values: {json.dumps(list(allowed))})",
            where,
        )


def _string_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    _expect(value, "array", f"{where}.{name}")
    if not value:
        raise _fail(f"{name} must contain at least one entry", where)
    for item in value:
        _expect(item, "string", f"{where}.{name}")
        if not item:
            raise _fail(f"{name} entries must not be empty", where)
    return tuple(value)


def _rule(raw: Any, index: int) -> Rule:
    where = f"rules[{index}]"
    _expect(raw, "object", where)
    if isinstance(raw.get("rulePriority"), int) and not isinstance(raw["rulePriority"], bool):
        where = f"rules[{index}], rulePriority {raw['rulePriority']}"
    _keys(raw, _RULE_KEYS, ("rulePriority", "selection", "action"), where)
    priority = raw["rulePriority"]
    _expect(priority, "integer", where + ": rulePriority")
    if priority < 1:
        raise _fail(
            f"numeric instance is lower than the required minimum (minimum: 1, found: {priority})",
            where + ": rulePriority",
        )
    description = raw.get("description", "")
    _expect(description, "string", where + ": description")

    action = raw["action"]
    _expect(action, "object", where + ": action")
    _keys(action, _ACTION_KEYS, ("type",), where + ": action")
    _enum(action["type"], ("expire", "transition"), where + ": action.type")
    if action["type"] == "transition":
        if "targetStorageClass" not in action:
            raise _fail("targetStorageClass must be specified when the action type is transition", where)
        _enum(action["targetStorageClass"], ("archive",), where + ": action.targetStorageClass")
    elif "targetStorageClass" in action:
        raise _fail("targetStorageClass can only be specified when the action type is transition", where)

    sel = raw["selection"]
    _expect(sel, "object", where + ": selection")
    _keys(sel, _SELECTION_KEYS, ("tagStatus", "countType", "countNumber"), where + ": selection")
    status = sel["tagStatus"]
    _enum(status, TAG_STATUSES, where + ": selection.tagStatus")
    prefixes = _string_list(sel["tagPrefixList"], "tagPrefixList", where) if "tagPrefixList" in sel else ()
    patterns = _string_list(sel["tagPatternList"], "tagPatternList", where) if "tagPatternList" in sel else ()
    if status == "tagged":
        if not prefixes and not patterns:
            raise _fail("Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.", where)
        if prefixes and patterns:
            raise _fail("Can only specify one of tagPrefixList or tagPatternList when tagStatus=TAGGED.", where)
    elif prefixes or patterns:
        listed = "tagPrefixList" if prefixes else "tagPatternList"
        raise _fail(f"{listed} can only be specified when tagStatus=TAGGED, not tagStatus={status.upper()}.", where)
    for pattern in patterns:
        if pattern.count("*") > MAX_WILDCARDS:
            raise _fail(
                f"tagPatternList entry {json.dumps(pattern)} has {pattern.count('*')} wildcards; "
                f"at most {MAX_WILDCARDS} wildcards (*) are allowed per pattern.",
                where,
            )

    storage = sel.get("storageClass", "standard")
    _enum(storage, ("standard", "archive"), where + ": selection.storageClass")
    count_type = sel["countType"]
    _enum(count_type, COUNT_TYPES, where + ": selection.countType")
    if count_type == "sinceImageTransitioned":
        if storage != "archive":
            raise _fail("storageClass must be archive when countType is sinceImageTransitioned.", where)
        if action["type"] != "expire":
            raise _fail("Images in the archive storage class can only be expired.", where)
    elif storage != "standard":
        raise _fail(f"storageClass must be standard when countType is {count_type}.", where)
    unit = sel.get("countUnit")
    if count_type == "imageCountMoreThan":
        if unit is not None:
            raise _fail("countUnit cannot be specified when countType is imageCountMoreThan.", where)
    else:
        if unit is None:
            raise _fail(f"countUnit must be specified when countType is {count_type}.", where)
        _enum(unit, ("days",), where + ": selection.countUnit")
    number = sel["countNumber"]
    _expect(number, "integer", where + ": selection.countNumber")
    if number < 1:
        raise _fail(
            f"numeric instance is lower than the required minimum (minimum: 1, found: {number})",
            where + ": selection.countNumber",
        )
    if count_type == "sinceImageTransitioned" and number < ARCHIVE_MINIMUM_DAYS:
        raise _fail(
            f"countNumber must be at least {ARCHIVE_MINIMUM_DAYS} for sinceImageTransitioned: archived images have a "
            f"minimum storage duration of {ARCHIVE_MINIMUM_DAYS} days.",
            where,
        )
    return Rule(
        priority,
        status,
        count_type,
        number,
        description,
        prefixes,
        patterns,
        unit,
        action["type"],
        storage,
        "storageClass" in sel,
    )


def parse_lifecycle_policy(text: Any) -> LifecyclePolicy:
    """Parse and validate a lifecycle policy text; raise InvalidParameterException as ECR would."""
    if not isinstance(text, str):
        raise _fail("Could not map policyString into LifecyclePolicy.")
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        bound = f"greater than or equal to {MIN_TEXT}" if len(text) < MIN_TEXT else f"less than or equal to {MAX_TEXT}"
        raise InvalidParameterException(
            f"Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length {bound}'"
        )
    try:
        doc = loads_bounded(text, max_bytes=4 * MAX_TEXT, what="lifecycle policy")
    except SerializationException:
        raise _fail("Could not map policyString into LifecyclePolicy.") from None
    if not isinstance(doc, dict):
        raise _fail("Could not map policyString into LifecyclePolicy.")
    _keys(doc, ("rules",), ("rules",), "")
    _expect(doc["rules"], "array", "rules")
    if not doc["rules"]:
        raise _fail("array is too short: must have at least 1 elements but instance has 0 elements", "rules")
    rules = [_rule(raw, i) for i, raw in enumerate(doc["rules"])]

    seen: dict[int, int] = {}
    for i, rule in enumerate(rules):
        if rule.priority in seen:
            raise _fail(
                f"rulePriority {rule.priority} is used by more than one rule; each rule needs a unique rulePriority.",
                f"rules[{seen[rule.priority]}] and rules[{i}]",
            )
        seen[rule.priority] = i
    ordered = sorted(rules, key=lambda r: r.priority)
    for storage in ("standard", "archive"):
        in_class = [r for r in ordered if r.storage_class == storage]
        for rule in in_class[:-1]:
            if rule.tag_status == "any":
                raise _fail(
                    "Rule for tagStatus=ANY must have the lowest priority per storage class",
                    f"rulePriority {rule.priority} is not the highest rulePriority number among the {storage} rules",
                )
        untagged = [r.priority for r in in_class if r.tag_status == "untagged"]
        if len(untagged) > 1:
            raise _fail(
                "Only one rule can select Untagged images per storage class.",
                "rulePriority " + " and ".join(str(p) for p in untagged),
            )
    return LifecyclePolicy(tuple(ordered), text)


def canonical_text(policy: LifecyclePolicy) -> str:
    """The policy as ECR stores and returns it: compact JSON, rules in rulePriority order (inferred
    from GetLifecyclePolicy handing back reordered rules)."""
    return json.dumps({"rules": [r.as_json() for r in policy.rules]}, separators=(",", ":"))

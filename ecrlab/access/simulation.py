"""IAM's policy simulator (``SimulatePrincipalPolicy``, ``SimulateCustomPolicy``), answered by the
same evaluation that decides real requests, in the response shape of IAM's API.

As in IAM, the simulator uses only the policies it is given or that are attached to the source
principal, plus the ``ResourcePolicy`` parameter; it never reads the repositories' own policies,
and it fills no context key the caller did not pass (``MissingContextValues`` lists the ones the
policies would have read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ecrlab.access import directory
from ecrlab.access.directory import IamGroup, IamRole, IamUser
from ecrlab.access.evaluation import BOUNDARY, IDENTITY, RESOURCE, Decision, Policy, Request, evaluate
from ecrlab.access.grammar import as_list, parse_policy
from ecrlab.errors import PolicyGrammarError, SimulationError

__all__ = ["SimulationError", "SourcedPolicy", "input_policies", "policies_of_arn", "simulate"]


@dataclass(frozen=True)
class SourcedPolicy:
    """A policy with IAM's SourcePolicyId / SourcePolicyType and its text (for statement positions)."""

    policy: Policy
    source_id: str
    source_type: str
    text: str


def _sourced(text: str, source_id: str, source_type: str, kind: str = IDENTITY) -> SourcedPolicy:
    try:
        document = parse_policy(text, resource_policy=kind == RESOURCE)
    except PolicyGrammarError as exc:
        raise SimulationError("InvalidInput", f"{source_id} is not a valid policy: {exc}") from None
    return SourcedPolicy(Policy(source_id, kind, document), source_id, source_type, text)


def _holder_policies(holder: IamUser | IamGroup | IamRole, kind: str) -> list[SourcedPolicy]:
    """The policies of ``holder``; an inline policy's SourcePolicyType is its holder's ``kind``."""
    out = [_sourced(doc, name, kind) for name, doc in holder.inline]
    for managed in holder.attached:
        out.append(_sourced(managed.document, managed.name, "aws-managed" if managed.aws_managed else "user-managed"))
    return out


def policies_of_arn(arn: str) -> tuple[list[SourcedPolicy], str]:
    """The identity policies of the user, group or role ``arn`` and the account it lives in."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or "/" not in parts[5]:
        raise SimulationError(
            "InvalidInput", f"Invalid ARN {arn!r}: PolicySourceArn must name an IAM user, group or role"
        )
    account, (kind, _, rest) = parts[4], parts[5].partition("/")
    name = rest.split("/")[-1]
    if kind == "user":
        user = directory.current().user(account, name)
        if user is None:
            raise SimulationError("NoSuchEntity", f"The user with name {name} cannot be found.")
        out = _holder_policies(user, "user")
        for group in user.groups:
            out += _holder_policies(group, "group")
        return out, account
    if kind == "group":
        group = directory.current().group(account, name)
        if group is None:
            raise SimulationError("NoSuchEntity", f"The group with name {name} cannot be found.")
        return _holder_policies(group, "group"), account
    if kind == "role":
        role = directory.current().role(account, name)
        if role is None:
            raise SimulationError("NoSuchEntity", f"The role with name {name} cannot be found.")
        return _holder_policies(role, "role"), account
    raise SimulationError("InvalidInput", f"Invalid ARN {arn!r}: PolicySourceArn must name an IAM user, group or role")


def _context(entries: list[dict[str, Any]]) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    for entry in entries or []:
        key = entry.get("ContextKeyName", "")
        values = [str(v) for v in entry.get("ContextKeyValues", [])]
        multi = str(entry.get("ContextKeyType", "string")).endswith("List")
        ctx[key.lower()] = values if multi else (values[0] if values else "")
    return ctx


def _positions(text: str) -> list[tuple[dict[str, int], dict[str, int]]]:
    """Start and end (line, column; 1-based) of each statement in ``text``, as IAM reports them."""
    decoder = json.JSONDecoder()
    key_at = text.find('"Statement"')
    if key_at < 0:
        return []
    i = text.index(":", key_at) + 1
    while text[i].isspace():
        i += 1
    spans: list[tuple[int, int]] = []
    if text[i] == "{":
        _, end = decoder.raw_decode(text, i)
        spans.append((i, end))
    else:
        i += 1
        while True:
            while text[i] in " \t\r\n,":
                i += 1
            if text[i] == "]":
                break
            _, end = decoder.raw_decode(text, i)
            spans.append((i, end))
            i = end

    def where(offset: int) -> dict[str, int]:
        line = text.count("\n", 0, offset) + 1
        return {"Line": line, "Column": offset - (text.rfind("\n", 0, offset) + 1) + 1}

    return [(where(a), where(b)) for a, b in spans]


def _condition_keys(policies: list[SourcedPolicy]) -> set[str]:
    keys = set()
    for sp in policies:
        for st in sp.policy.statements:
            for block in st.get("Condition", {}).values():
                keys.update(block)
    return keys


def simulate(
    policies: list[SourcedPolicy],
    actions: list[str],
    resources: list[str] | None,
    *,
    caller_arn: str,
    caller_account: str,
    resource_policy: str | None = None,
    resource_owner: str | None = None,
    boundaries: list[str] | None = None,
    context_entries: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """IAM's ``EvaluationResults`` for every action × resource."""
    resource_sp = [_sourced(resource_policy, "ResourcePolicy", "resource", RESOURCE)] if resource_policy else []
    boundary_sp = [
        _sourced(text, f"PermissionsBoundaryPolicyInputList.{i}", "none", BOUNDARY)
        for i, text in enumerate(boundaries or [], 1)
    ]
    by_id = {sp.source_id: sp for sp in policies + resource_sp + boundary_sp}
    context = _context(context_entries or [])
    missing = sorted(k for k in _condition_keys(list(by_id.values())) if k.lower() not in context)
    owner_account = (
        (resource_owner or "").split(":")[4] if resource_owner and resource_owner.startswith("arn:") else resource_owner
    )
    results = []
    for action in actions:
        for resource in resources or ["*"]:
            parts = resource.split(":")
            account = owner_account or (
                parts[4] if resource.startswith("arn:") and len(parts) > 4 and parts[4] else caller_account
            )
            request = Request(
                caller_arn,
                caller_account,
                action,
                resource,
                account,
                context,
                principal_arn=caller_arn,
                is_root=caller_arn.endswith(":root"),
            )
            decision = evaluate(
                request,
                [sp.policy for sp in policies],
                [sp.policy for sp in resource_sp],
                boundary=[sp.policy for sp in boundary_sp] if boundary_sp else None,
            )
            results.append(_result(decision, by_id, missing, bool(boundary_sp)))
    return results


def _result(
    decision: Decision, by_id: dict[str, SourcedPolicy], missing: list[str], has_boundary: bool
) -> dict[str, Any]:
    matched = []
    for m in decision.deciding:
        sp = by_id[m.policy]
        positions = _positions(sp.text)
        start, end = positions[m.index - 1] if m.index <= len(positions) else ({"Line": 1, "Column": 1},) * 2
        matched.append(
            {
                "SourcePolicyId": sp.source_id,
                "SourcePolicyType": sp.source_type,
                "StartPosition": start,
                "EndPosition": end,
            }
        )
    r = decision.request
    out: dict[str, Any] = {
        "EvalActionName": r.action,
        "EvalResourceName": r.resource,
        "EvalDecision": decision.decision,
        "MatchedStatements": matched,
        "MissingContextValues": missing,
        "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
    }
    if has_boundary:
        out["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": decision.missing != BOUNDARY}
    return out


def input_policies(texts: list[str], prefix: str = "PolicyInputList") -> list[SourcedPolicy]:
    """The caller-supplied identity policies, named as IAM names them (``PolicyInputList.1``...)."""
    return [_sourced(text, f"{prefix}.{i}", "IAM Policy") for i, text in enumerate(as_list(texts or []), 1)]

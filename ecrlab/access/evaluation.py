"""IAM's policy evaluation logic, for one request: who (principal), what (action), on what
(resource), in which context, decided from the policies that apply, with the reasons kept.

The order is AWS's ("Policy evaluation logic", IAM User Guide): an explicit Deny in any policy wins;
then, within one account, an Allow in an identity-based policy *or* a resource-based policy that names
the principal suffices; across accounts, both the caller's identity-based policy and the resource's
policy must allow. Session policies and permissions boundaries, when present, limit what
identity-based policies grant. A resource policy that names only an *account* delegates to that
account's identity policies and grants nothing by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecrlab.access.actions import wildcard_regex
from ecrlab.access.conditions import Context, conditions_match, substitute
from ecrlab.access.grammar import as_list, parse_policy

__all__ = ["Decision", "Match", "Policy", "Request", "evaluate"]

# Policy kinds, as the denial messages name them.
IDENTITY, RESOURCE, SESSION, BOUNDARY = (
    "identity-based policy",
    "resource-based policy",
    "session policy",
    "permissions boundary",
)


@dataclass(frozen=True)
class Policy:
    """One policy document and where it comes from (``name`` is what explanations print)."""

    name: str
    kind: str  # IDENTITY, RESOURCE, SESSION or BOUNDARY
    document: dict[str, Any]
    arn: str = ""

    @classmethod
    def from_text(cls, text: str, name: str, kind: str = IDENTITY, arn: str = "", service: str | None = None) -> Policy:
        """Parse and check ``text`` (PolicyGrammarError if AWS would refuse it)."""
        return cls(name, kind, parse_policy(text, resource_policy=kind == RESOURCE, service=service), arn)

    @property
    def statements(self) -> list[dict[str, Any]]:
        return self.document["Statement"]

    @property
    def variables(self) -> bool:
        # Policy variables exist only in version 2012-10-17 documents; elsewhere ${...} is literal.
        return self.document.get("Version") == "2012-10-17"


@dataclass(frozen=True)
class Request:
    """What is asked. ``principal_arn`` is ``aws:PrincipalArn`` (the role's ARN for a role session);
    ``resource_account`` is the account that owns the resource."""

    principal: str  # the caller's ARN as AWS shows it (user, assumed-role session, root)
    principal_account: str
    action: str
    resource: str
    resource_account: str
    context: Context = field(default_factory=dict)
    principal_arn: str = ""
    is_root: bool = False

    @property
    def cross_account(self) -> bool:
        return self.principal_account != self.resource_account


@dataclass(frozen=True)
class Match:
    """A statement that applies to the request."""

    policy: str
    kind: str
    index: int  # 1-based position in the policy
    sid: str
    effect: str
    grant: str = ""  # for resource policies: how the principal matched ("*", "direct", "role", "account")

    def __str__(self) -> str:
        label = f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")
        via = f", principal matched as {self.grant}" if self.grant else ""
        return f"{self.effect:<5} {self.policy} [{self.kind}] {label}{via}"


@dataclass(frozen=True)
class Decision:
    """The outcome, with its reasons. ``decision`` uses IAM simulation's words:
    ``allowed``, ``explicitDeny`` or ``implicitDeny``."""

    request: Request
    decision: str
    matches: tuple[Match, ...]
    denied_in: str = ""  # policy kind holding the deciding explicit Deny
    missing: str = ""  # policy kind with no Allow, for an implicit deny

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    @property
    def deciding(self) -> tuple[Match, ...]:
        """The statements that decided: the Denies for a deny, the Allows for an allow."""
        effect = "Allow" if self.allowed else "Deny"
        return tuple(m for m in self.matches if m.effect == effect)

    def message(self) -> str:
        """The AccessDeniedException message real AWS gives for this refusal."""
        r = self.request
        head = f"User: {r.principal} is not authorized to perform: {r.action} on resource: {r.resource}"
        if self.decision == "explicitDeny":
            article = "an" if self.denied_in[0] in "aeiou" else "a"
            return f"{head} with an explicit deny in {article} {self.denied_in}"
        return f"{head} because no {self.missing} allows the {r.action} action"

    def explain(self) -> str:
        """A few lines saying what was decided and which statements decided it."""
        r = self.request
        verdict = {
            "allowed": "ALLOW",
            "explicitDeny": "DENY (explicit deny)",
            "implicitDeny": "DENY (nothing allows it)",
        }
        lines = [f"{verdict[self.decision]}: {r.principal} → {r.action} on {r.resource}"]
        if r.cross_account:
            lines.append(
                f"  cross-account ({r.principal_account} → {r.resource_account}): both the identity policy and the resource policy must allow"
            )
        for m in self.matches:
            mark = "✓" if m.effect == "Allow" else "✗"
            lines.append(f"  {mark} {m}")
        if r.is_root and not r.cross_account:
            lines.append("  ✓ the account's root user holds every permission in its own account")
        if self.decision == "implicitDeny":
            lines.append(f"  no {self.missing} allows {r.action}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


def _matches_any(patterns: list[Any], value: str, ignore_case: bool, context: Context, variables: bool) -> bool:
    for pattern in patterns:
        if variables and "${" in pattern:
            pattern = substitute(pattern, context)
            if pattern is None:
                continue
        if wildcard_regex(pattern, ignore_case).match(value):
            return True
    return False


def _principal_grant(element: Any, request: Request) -> str:
    """How ``element`` (a Principal value) names the caller: "*", "direct", "role", "account" or ""."""
    if element == "*":
        return "*"
    best = ""
    for kind, ids in element.items():
        if kind != "AWS":
            continue  # services, federated and canonical users are never the lab's callers
        for ident in as_list(ids):
            if ident == "*":
                return "*"
            if ident == request.principal:
                return "direct"
            if request.principal_arn and ident == request.principal_arn and ident != request.principal:
                best = "role"
            elif ident in (request.principal_account, f"arn:aws:iam::{request.principal_account}:root"):
                if request.is_root:
                    return "direct"
                best = best or "account"
    return best


def _statement_applies(st: dict[str, Any], policy: Policy, request: Request) -> tuple[bool, str]:
    ctx, variables = request.context, policy.variables
    if "Action" in st:
        if not _matches_any(as_list(st["Action"]), request.action, True, ctx, False):
            return False, ""
    elif _matches_any(as_list(st["NotAction"]), request.action, True, ctx, False):
        return False, ""
    if "Resource" in st:
        if not _matches_any(as_list(st["Resource"]), request.resource, False, ctx, variables):
            return False, ""
    elif "NotResource" in st and _matches_any(as_list(st["NotResource"]), request.resource, False, ctx, variables):
        return False, ""
    grant = ""
    if "Principal" in st:
        grant = _principal_grant(st["Principal"], request)
        if not grant:
            return False, ""
    elif "NotPrincipal" in st:
        if _principal_grant(st["NotPrincipal"], request):
            return False, ""
        grant = "not listed in NotPrincipal"
    if "Condition" in st and not conditions_match(st["Condition"], ctx, variables=variables):
        return False, ""
    return True, grant


def _applicable(policies: list[Policy], request: Request) -> list[Match]:
    out = []
    for policy in policies:
        for index, st in enumerate(policy.statements, 1):
            applies, grant = _statement_applies(st, policy, request)
            if applies:
                out.append(Match(policy.name, policy.kind, index, st.get("Sid", ""), st["Effect"], grant))
    return out


def evaluate(
    request: Request,
    identity: list[Policy] = (),  # type: ignore[assignment]
    resource: list[Policy] = (),  # type: ignore[assignment]
    session: list[Policy] | None = None,
    boundary: list[Policy] | None = None,
) -> Decision:
    """Decide ``request``. ``session``/``boundary`` are None when the caller has none (an empty list
    would mean "one that allows nothing")."""
    identity_m = _applicable(list(identity), request)
    resource_m = _applicable(list(resource), request)
    session_m = _applicable(session, request) if session is not None else []
    boundary_m = _applicable(boundary, request) if boundary is not None else []
    matches = tuple(identity_m + resource_m + session_m + boundary_m)

    for kind, found in ((RESOURCE, resource_m), (IDENTITY, identity_m), (SESSION, session_m), (BOUNDARY, boundary_m)):
        if any(m.effect == "Deny" for m in found):
            return Decision(request, "explicitDeny", matches, denied_in=kind)

    def allows(found: list[Match]) -> bool:
        return any(m.effect == "Allow" for m in found)

    identity_ok = request.is_root or allows(identity_m)
    limits_missing = ""
    if not request.is_root:
        if session is not None and not allows(session_m):
            limits_missing = SESSION
        elif boundary is not None and not allows(boundary_m):
            limits_missing = BOUNDARY
    identity_grants = identity_ok and not limits_missing
    resource_allows = [m for m in resource_m if m.effect == "Allow"]

    if request.cross_account:
        if not identity_grants:
            return Decision(request, "implicitDeny", matches, missing=limits_missing if identity_ok else IDENTITY)
        if not resource_allows:
            return Decision(request, "implicitDeny", matches, missing=RESOURCE)
        return Decision(request, "allowed", matches)

    if identity_grants:
        return Decision(request, "allowed", matches)
    # Same account: a resource policy naming the caller (or everyone, or the caller's role) grants
    # on its own; one naming only the account delegates to identity policies, which did not allow.
    direct = [m for m in resource_allows if m.grant in ("*", "direct", "not listed in NotPrincipal")]
    via_role = [m for m in resource_allows if m.grant == "role"]
    if direct or (via_role and limits_missing != SESSION):
        return Decision(request, "allowed", matches)
    return Decision(request, "implicitDeny", matches, missing=limits_missing if identity_ok else IDENTITY)

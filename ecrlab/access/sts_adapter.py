"""The moto STS adapter: ``AssumeRole`` is decided by the role's trust policy and the caller's identity
policies before moto hands out credentials (moto checks neither).

The decision is the lab's one policy engine (:meth:`LabAuthorizer.decide`) with the trust policy as the
resource policy of the role, which must allow in every case: in the role's account, a trust policy
naming the caller (or its role) suffices, one naming the account root delegates to the caller's
identity policies; across accounts both must allow. A refusal is STS's ``AccessDenied`` (HTTP 403) worded as AWS words it.

The lab's administrator is not checked (it may act as any role, as ``lab.session(role=...)`` does).
Only ``TokenResponse.assume_role`` is wrapped; every other STS action stays moto's. Written against moto 5.2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrlab.access.evaluation import RESOURCE, Decision, Policy
from ecrlab.access.grammar import PolicyGrammarError, parse_policy

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["install", "trust_decision"]

_ORIGINAL = "_ecrlab_original_assume_role"


def trust_decision(lab: Lab, caller_key: str, session_token: str | None, role_arn: str) -> Decision | None:
    """The decision on ``sts:AssumeRole`` of ``role_arn`` by whoever signs with ``caller_key``;
    None when the lab does not judge it (its administrator, or a role that does not exist: STS's own
    error follows)."""
    from moto.iam.models import iam_backends

    principal = lab.resolve_principal(caller_key, session_token)
    if principal.is_lab_admin:
        return None
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return None
    account, name = parts[4], parts[5].split("/")[-1]
    role = next((r for r in iam_backends[account]["aws"].roles.values() if r.name == name), None)
    if role is None:
        return None
    try:
        document = parse_policy(role.assume_role_policy_document, resource_policy=True)
    except PolicyGrammarError:
        document = {"Statement": []}  # a trust policy IAM accepted but we cannot read trusts nobody
    trust = Policy(f"trust policy of role {name!r}", RESOURCE, document)
    decision = lab.engine.authorizer.decide(
        principal,
        "sts:AssumeRole",
        role.arn,
        region=lab.region,
        registry_id=account,
        resource_policies=[trust],
    )
    # Unlike a repository policy, a trust policy is required: an identity policy allowing
    # sts:AssumeRole opens no role whose trust policy does not name the caller or its account.
    if decision.allowed and not any(m.kind == RESOURCE and m.effect == "Allow" for m in decision.matches):
        return Decision(decision.request, "implicitDeny", decision.matches, missing=RESOURCE)
    return decision


def install(lab: Lab) -> None:
    """Wrap moto's AssumeRole (idempotent, process-wide; the active lab decides)."""
    from moto.sts.responses import TokenResponse

    if not hasattr(TokenResponse, _ORIGINAL):
        setattr(TokenResponse, _ORIGINAL, TokenResponse.assume_role)
        TokenResponse.assume_role = _assume_role  # type: ignore[method-assign]


def _assume_role(self: Any) -> Any:
    from moto.core.exceptions import AccessDeniedError

    from ecrlab.lab import active_lab

    lab = active_lab()
    if lab is not None:
        role_arn = self._get_param("RoleArn") or ""
        decision = trust_decision(lab, self.get_access_key(), self.headers.get("X-Amz-Security-Token"), role_arn)
        if decision is not None and not decision.allowed:
            # 403 AccessDenied in STS's XML error shape: "User: <arn> is not authorized to perform:
            # sts:AssumeRole on resource: <role arn>"
            raise AccessDeniedError(decision.request.principal, f"sts:AssumeRole on resource: {role_arn}")
    return getattr(type(self), _ORIGINAL)(self)

"""The lab's authorizer: decides every ECR request, API and data plane alike, with IAM's logic.

Installed as ``lab.engine.authorizer``; the engine calls it as ``authorizer(call, action, resource)``
before running any operation (and the registry before serving a blob or manifest), and it raises
AccessDeniedException worded as real AWS words it. :meth:`LabAuthorizer.decide` answers the same
question without raising, for the playground, IAM simulation and tests.

What applies to a request on a repository in account A: the caller's identity policies (from the
lab's IAM), the repository policy, and A's registry policy (for the actions its scope covers).
The lab's own administrator is allowed everything in the lab's own account, so a learner cannot
lock themself out; in any other account it is that account's root user of a foreign account like any
other, allowed only what the other account's repository or registry policy grants it.

``sts:AssumeRole`` is decided here too (:meth:`LabAuthorizer.assume_role_decision`), with the role's
trust policy as the resource policy, which must allow in every case: in the role's account, a trust
policy naming the caller (or its role) suffices, one naming the account root delegates to the
caller's identity policies; across accounts both must allow.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecrlab.access import directory
from ecrlab.access.evaluation import RESOURCE, Decision, Policy, Request, evaluate
from ecrlab.access.grammar import parse_policy
from ecrlab.access.identities import EXPIRED, INVALID, Identity, identity_of, root_principal
from ecrlab.ecr.model import Principal, repository_arn
from ecrlab.errors import AccessDeniedException, ExpiredTokenException, PolicyGrammarError, UnrecognizedClientException

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.operations import Call

__all__ = ["REGISTRY_POLICY_V1_ACTIONS", "LabAuthorizer", "install", "resource_arn_for"]

#: The actions a registry policy may grant under the V1 scope (V2 covers every ECR action).
REGISTRY_POLICY_V1_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:ReplicateImage")
_REPO_ARN = re.compile(r"^arn:aws:ecr:(?P<region>[^:]+):(?P<account>\d{12}):repository/(?P<name>.+)$")


class LabAuthorizer:
    """Decides (principal, action, resource, context) for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._resource_policies: dict[tuple[str, str], Policy] = {}

    # -- the engine's hook ------------------------------------------------------------------------
    def __call__(self, call: Call, action: str, resource: str) -> None:
        if call.principal.kind == INVALID:
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        if call.principal.kind == EXPIRED:
            raise ExpiredTokenException("The security token included in the request is expired")
        for arn in self.resources_for(call, resource):
            decision = self.decide(
                call.principal,
                action,
                arn,
                region=call.region,
                params=call.params,
                source_ip=call.source_ip,
                registry_id=call.registry_id,
            )
            call.context.setdefault("decisions", []).append(decision)
            if not decision.allowed:
                raise AccessDeniedException(decision.message())

    def resources_for(self, call: Call, resource: str) -> list[str]:
        """The ARNs a call acts on. Listing every repository is an action on ``repository/*``;
        naming repositories is an action on each of them."""
        if call.operation == "DescribeRepositories":
            names = call.params.get("repositoryNames") or []
            if names:
                return [repository_arn(call.registry_id, call.region, n) for n in names]
            return [repository_arn(call.registry_id, call.region, "*")]
        return [resource]

    # -- deciding ---------------------------------------------------------------------------------
    def decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        *,
        region: str,
        params: dict[str, Any] | None = None,
        source_ip: str = "127.0.0.1",
        registry_id: str | None = None,
        extra_context: dict[str, Any] | None = None,
        identity: Identity | None = None,
        resource_policies: list[Policy] | None = None,
    ) -> Decision:
        """The decision on one request, with its reasons (never raises AccessDenied).

        ``resource_policies``: the resource's policies when it is not an ECR resource (a role's trust
        policy for ``sts:AssumeRole``); ECR's repository and registry policies are found here."""
        match = _REPO_ARN.match(resource)
        resource_account = match["account"] if match else (registry_id or principal.account)
        identity = identity or identity_of(principal)
        context = self._context(principal, identity, region, source_ip, params or {}, match)
        context.update({k.lower(): v for k, v in (extra_context or {}).items()})
        request = Request(
            principal=principal.arn,
            principal_account=principal.account,
            action=action,
            resource=resource,
            resource_account=resource_account,
            context=context,
            principal_arn=identity.principal_arn,
            is_root=principal.kind == "root",
        )
        if principal.is_lab_admin and resource_account == principal.account:
            return Decision(request, "allowed", ())
        if resource_policies is None:
            resource_policies = self._resource_policies_for(
                action, resource, match, resource_account, match["region"] if match else region
            )
        return evaluate(
            request,
            identity=list(identity.policies),
            resource=resource_policies,
            session=list(identity.session) if identity.session is not None else None,
            boundary=list(identity.boundary) if identity.boundary is not None else None,
        )

    def assume_role_decision(self, principal: Principal, role_arn: str, region: str) -> Decision | None:
        """The decision on ``sts:AssumeRole`` of ``role_arn`` by ``principal``; None when the lab does
        not judge it (its administrator on a role of its own account, or a role that does not exist:
        STS's own error follows)."""
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("role/"):
            return None
        account, name = parts[4], parts[5].split("/")[-1]
        if principal.is_lab_admin and account == principal.account:
            return None  # lab.session(role=...) acts as any role of the lab's account
        role = directory.current().role(account, name)
        if role is None:
            return None
        try:
            document = parse_policy(role.trust_policy, resource_policy=True)
        except PolicyGrammarError:
            document = {"Statement": []}  # a trust policy IAM accepted but we cannot read trusts nobody
        trust = Policy(f"trust policy of role {name!r}", RESOURCE, document)
        decision = self.decide(
            principal, "sts:AssumeRole", role.arn, region=region, registry_id=account, resource_policies=[trust]
        )
        # Unlike a repository policy, a trust policy is required: an identity policy allowing
        # sts:AssumeRole opens no role whose trust policy does not name the caller or its account.
        if decision.allowed and not any(m.kind == RESOURCE and m.effect == "Allow" for m in decision.matches):
            return Decision(decision.request, "implicitDeny", decision.matches, missing=RESOURCE)
        return decision

    def replication_decision(
        self,
        source_account: str,
        destination_account: str,
        region: str,
        repository_name: str,
        action: str = "ecr:ReplicateImage",
    ) -> Decision:
        """Whether ECR may replicate (``ecr:ReplicateImage``) or create the repository
        (``ecr:CreateRepository``) into another registry: decided by the destination's registry
        policy, acting for the source account's root, as real ECR does."""
        return self.decide(
            root_principal(source_account),
            action,
            repository_arn(destination_account, region, repository_name),
            region=region,
        )

    def _resource_policies_for(
        self, action: str, resource: str, match: re.Match[str] | None, account: str, region: str
    ) -> list[Policy]:
        registry = self.engine.registries.get((account, region))
        if registry is None or match is None:
            # Resource-based policies attach to resources with ARNs: GetAuthorizationToken and the
            # registry-wide actions ("*") are granted by identity policies alone.
            return []
        out: list[Policy] = []
        repo = registry.repositories.get(match["name"])
        if repo is not None and repo.policy_text:
            out.append(self._resource_policy(repo.policy_text, f"repository policy of {repo.name!r}"))
        scope = registry.account_settings.get("REGISTRY_POLICY_SCOPE", "V2")
        if registry.policy_text and (scope == "V2" or action in REGISTRY_POLICY_V1_ACTIONS):
            out.append(self._resource_policy(registry.policy_text, f"registry policy of {account}"))
        return out

    def _resource_policy(self, text: str, name: str) -> Policy:
        key = (text, name)
        policy = self._resource_policies.get(key)
        if policy is None:
            try:
                document = parse_policy(text, resource_policy=True, service="ecr")
            except PolicyGrammarError:
                document = {"Statement": []}  # stored policies were validated; never fail a request on one
            policy = Policy(name, RESOURCE, document)
            self._resource_policies[key] = policy
        return policy

    def _context(
        self,
        principal: Principal,
        identity: Identity,
        region: str,
        source_ip: str,
        params: dict[str, Any],
        match: re.Match[str] | None,
    ) -> dict[str, Any]:
        now: datetime = self.engine.clock.now()
        ctx: dict[str, Any] = {
            "aws:principalarn": identity.principal_arn,
            "aws:principalaccount": principal.account,
            "aws:principaltype": identity.principal_type,
            "aws:sourceip": source_ip,
            "aws:currenttime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:epochtime": str(int(now.timestamp())),
            "aws:securetransport": "true",
            "aws:requestedregion": region,
        }
        if identity.username:
            ctx["aws:username"] = identity.username
        for key, value in identity.tags.items():
            ctx[f"aws:principaltag/{key.lower()}"] = value
        if match is not None:
            repo = self.engine.registries.get((match["account"], match["region"]))
            found = repo.repositories.get(match["name"]) if repo else None
            for key, value in (found.tags if found else {}).items():
                ctx[f"aws:resourcetag/{key.lower()}"] = value
                ctx[f"ecr:resourcetag/{key.lower()}"] = value
        tags = params.get("tags")
        if isinstance(tags, list) and tags:
            for tag in tags:
                ctx[f"aws:requesttag/{str(tag.get('Key', '')).lower()}"] = tag.get("Value", "")
            ctx["aws:tagkeys"] = [str(tag.get("Key", "")) for tag in tags]
        elif params.get("tagKeys"):
            ctx["aws:tagkeys"] = list(params["tagKeys"])
        return ctx


def resource_arn_for(action: str, account: str, region: str, repository: str) -> str:
    """The resource an ECR action acts on when aimed at ``repository``: its ARN, or ``*`` for the
    registry-wide actions (GetAuthorizationToken, registry policy, settings...)."""
    from ecrlab.ecr.operations import OPERATIONS

    op = OPERATIONS.get(action.split(":", 1)[1])
    if op is not None and op.resource == "*" and op.name != "DescribeRepositories":
        return "*"
    return repository_arn(account, region, repository)


def install(engine: Engine) -> LabAuthorizer:
    """Make a LabAuthorizer the engine's authorizer and return it."""
    authorizer = LabAuthorizer(engine)
    engine.authorizer = authorizer
    return authorizer

"""Pull-time update exclusions: principals whose pulls do not move an image's ``lastRecordedPullTime``.

ECR records the pull time on (nearly) every pull, and ``sinceImagePulled`` lifecycle rules read it; a
scanner or CI role that pulls every image daily would keep them all "recently pulled". The registry's
exclusion list (IAM user or role ARNs, up to 100) names such principals: their pulls still succeed, but
leave the recorded pull time where it was, so they spare no image from a ``sinceImagePulled`` rule.

A role on the list covers every session of that role: an assumed-role caller
(``arn:aws:sts::<account>:assumed-role/<role>/<session>``) matches ``arn:aws:iam::<account>:role[/path]/<role>``.

IAM: the API's operations are Register/Deregister/ListPullTimeUpdateExclusions, and the Service Authorization
Reference lists the actions ``ecr:RegisterPullTimeUpdateExclusion``, ``ecr:DeregisterPullTimeUpdateExclusion``
and ``ecr:ListPullTimeUpdateExclusions``, which are the ones checked here. The User Guide's "Managing pull-time
update exclusions" names them ``ecr:CreatePullTimeUpdateExclusion`` / ``ecr:DeletePullTimeUpdateExclusion``
(and a ``create-pull-time-update-exclusion`` CLI command that the AWS CLI does not have).
"""

from __future__ import annotations

from typing import Any

from ecrlab.ecr.model import Principal, Registry
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import decode_token, encode_token, invalid_token
from ecrlab.errors import ExclusionAlreadyExistsException, ExclusionNotFoundException, LimitExceededException

__all__ = ["MAX_EXCLUSIONS", "excluded"]

#: Exclusions a registry may hold (User Guide: "up to 100 exclusions per account").
MAX_EXCLUSIONS = 100


def _identity(arn: str) -> tuple[str, str, str] | None:
    """(account, user|role, name) of an IAM user or role ARN; the path does not matter to a match."""
    _, _, resource = arn.partition(":iam::")
    if not resource or "/" not in resource:
        return None
    account, _, rest = resource.partition(":")
    kind, _, path_and_name = rest.partition("/")
    return account, kind, path_and_name.rsplit("/", 1)[-1]


def excluded(registry: Registry, principal: Principal | None) -> bool:
    """Whether a pull by ``principal`` leaves pull times as they are in ``registry``."""
    if principal is None or not registry.pull_time_exclusions:
        return False
    kind = {"user": "user", "assumed-role": "role"}.get(principal.kind)
    if kind is None:
        return False
    return (principal.account, kind, principal.name) in {_identity(arn) for arn in registry.pull_time_exclusions}


@operation("RegisterPullTimeUpdateExclusion", resource="*", notes="IAM user or role ARNs, at most 100 per registry")
def register_pull_time_update_exclusion(call: Call) -> dict[str, Any]:
    arn = call.params["principalArn"]  # the model's PrincipalArn pattern was checked with the parameters
    registry = call.registry
    if arn in registry.pull_time_exclusions:
        raise ExclusionAlreadyExistsException(arn, registry.account)
    if len(registry.pull_time_exclusions) >= MAX_EXCLUSIONS:
        raise LimitExceededException(
            f"The pull time update exclusion list of the registry with id '{registry.account}' already holds "
            f"{MAX_EXCLUSIONS} principals, the most it can hold"
        )
    created = call.engine.clock.stamp()
    registry.pull_time_exclusions[arn] = created
    return {"principalArn": arn, "createdAt": created}


@operation("DeregisterPullTimeUpdateExclusion", resource="*", notes="ExclusionNotFoundException for an absent ARN")
def deregister_pull_time_update_exclusion(call: Call) -> dict[str, Any]:
    arn = call.params["principalArn"]
    registry = call.registry
    if registry.pull_time_exclusions.pop(arn, None) is None:
        raise ExclusionNotFoundException(arn, registry.account)
    return {"principalArn": arn}


@operation("ListPullTimeUpdateExclusions", resource="*", notes="in order of registration; maxResults 1-1000")
def list_pull_time_update_exclusions(call: Call) -> dict[str, Any]:
    """The excluded ARNs in the order they were registered, pages cut by a token naming the last one."""
    arns = list(call.registry.pull_time_exclusions)
    p = call.params
    if p.get("nextToken"):
        after = decode_token(p["nextToken"])
        if after not in arns:
            raise invalid_token()
        arns = arns[arns.index(after) + 1 :]
    size = p.get("maxResults") or 100
    page = arns[:size]
    out: dict[str, Any] = {"pullTimeUpdateExclusions": page}
    if len(arns) > size:
        out["nextToken"] = encode_token(page[-1])
    return out

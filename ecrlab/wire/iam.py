"""IAM's policy simulator in moto's IAM: ``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy``, which
moto does not implement, answered with :mod:`ecrlab.access.simulation`.

It only adds these two actions to moto's ``IamResponse`` (moto dispatches an IAM action to the method
of the same snake_case name, and serialises an ``ActionResult`` with botocore's model); every other
IAM action stays moto's. The caller of ``SimulateCustomPolicy`` is whoever signs the request, found
by the resolver the lab installs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecrlab.access.simulation import input_policies, policies_of_arn, simulate
from ecrlab.errors import SimulationError

if TYPE_CHECKING:
    from ecrlab.ecr.model import Principal

__all__ = ["install", "uninstall"]

# The running lab's "who signs with this access key"; None while no lab runs.
_resolve: Callable[[str], Principal] | None = None


def _raise(exc: SimulationError) -> None:
    from moto.iam.exceptions import InvalidInput, NoSuchEntity

    raise (NoSuchEntity if exc.code == "NoSuchEntity" else InvalidInput)(str(exc))


def _caller(self: Any) -> tuple[str, str]:
    """The calling principal's ARN and account, from the request's access key (as ECR resolves it)."""
    resolve = _resolve
    if resolve is None:
        return f"arn:aws:iam::{self.current_account}:root", self.current_account
    principal = resolve(self.get_access_key())
    return principal.arn, principal.account


def _page(self: Any, results: list[dict[str, Any]]) -> Any:
    from moto.core.responses import ActionResult

    start = int(self._get_param("Marker") or 0)
    size = int(self._get_param("MaxItems") or 1000)
    page = results[start : start + size]
    out: dict[str, Any] = {"EvaluationResults": page, "IsTruncated": start + size < len(results)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + size)
    return ActionResult(out)


def _simulated(self: Any, inputs: Callable[[], tuple[list[Any], str, str]]) -> Any:
    """Run IAM's simulation for ``inputs()`` = (policies, caller ARN, caller account) with the request's
    common parameters, and answer one page of its results (or IAM's error for bad input)."""
    try:
        policies, caller_arn, caller_account = inputs()
        results = simulate(
            policies,
            self._get_param("ActionNames") or [],
            self._get_param("ResourceArns"),
            caller_arn=caller_arn,
            caller_account=caller_account,
            resource_policy=self._get_param("ResourcePolicy"),
            resource_owner=self._get_param("ResourceOwner"),
            boundaries=self._get_param("PermissionsBoundaryPolicyInputList"),
            context_entries=self._get_param("ContextEntries"),
        )
    except SimulationError as exc:
        _raise(exc)
    return _page(self, results)


def simulate_principal_policy(self: Any) -> Any:
    def inputs() -> tuple[list[Any], str, str]:
        source = self._get_param("PolicySourceArn")
        policies, account = policies_of_arn(source)
        policies += input_policies(self._get_param("PolicyInputList") or [])
        return policies, self._get_param("CallerArn") or source, account

    return _simulated(self, inputs)


def simulate_custom_policy(self: Any) -> Any:
    def inputs() -> tuple[list[Any], str, str]:
        caller_arn, account = _caller(self)
        caller_arn = self._get_param("CallerArn") or caller_arn
        return input_policies(self._get_param("PolicyInputList") or []), caller_arn, caller_arn.split(":")[4] or account

    return _simulated(self, inputs)


def install(resolve: Callable[[str], Principal]) -> None:
    """Add the two simulator actions to moto's IAM (process-wide; idempotent) and resolve callers
    with ``resolve(access_key)`` until :func:`uninstall`."""
    global _resolve
    from moto.iam.responses import IamResponse

    _resolve = resolve
    IamResponse.simulate_principal_policy = simulate_principal_policy  # type: ignore[attr-defined]
    IamResponse.simulate_custom_policy = simulate_custom_policy  # type: ignore[attr-defined]


def uninstall() -> None:
    global _resolve
    _resolve = None

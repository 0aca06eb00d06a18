"""STS ``AssumeRole`` in moto, decided before moto hands out credentials (moto checks neither the
role's trust policy nor the caller's identity policies).

Only ``TokenResponse.assume_role`` is wrapped; every other STS action stays moto's. The decision is
the lab's (:meth:`ecrlab.access.authorizer.LabAuthorizer.assume_role_decision`, installed here as a
callback); a refusal is STS's ``AccessDenied`` (HTTP 403) in its XML error shape, worded as AWS words
it: "User: <arn> is not authorized to perform: sts:AssumeRole on resource: <role arn>".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Decider", "install", "uninstall"]

_ORIGINAL = "_ecrlab_original_assume_role"

#: (caller's access key, session token or None, role ARN) -> the refused caller's ARN, or None to let
#: moto go on (allowed, or not the lab's to judge).
Decider = Callable[[str, "str | None", str], "str | None"]

_decide: Decider | None = None


def install(decide: Decider) -> None:
    """Wrap moto's AssumeRole (process-wide; idempotent) and ask ``decide`` until :func:`uninstall`."""
    global _decide
    from moto.sts.responses import TokenResponse

    _decide = decide
    if not hasattr(TokenResponse, _ORIGINAL):
        setattr(TokenResponse, _ORIGINAL, TokenResponse.assume_role)
        TokenResponse.assume_role = _assume_role  # type: ignore[method-assign]


def uninstall() -> None:
    global _decide
    _decide = None


def _assume_role(self: Any) -> Any:
    from moto.core.exceptions import AccessDeniedError

    decide = _decide
    if decide is not None:
        role_arn = self._get_param("RoleArn") or ""
        refused = decide(self.get_access_key(), self.headers.get("X-Amz-Security-Token"), role_arn)
        if refused is not None:
            raise AccessDeniedError(refused, f"sts:AssumeRole on resource: {role_arn}")
    return getattr(type(self), _ORIGINAL)(self)

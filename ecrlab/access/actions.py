"""The IAM actions of Amazon ECR and the matching of action patterns (``ecr:Batch*``) against them.

The list is botocore's ECR operations plus the permission-only actions real ECR checks
(``ReplicateImage``, ``BatchImportUpstreamImage``, ``GetImageCopyStatus``); ``ListImageReferrers`` is
not an IAM action: real ECR authorises it with ``ecr:BatchGetImage``.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

__all__ = ["ECR_ACTIONS", "expand_actions", "wildcard_regex"]

_PERMISSION_ONLY = ("BatchImportUpstreamImage", "GetImageCopyStatus", "ReplicateImage")
_NOT_ACTIONS = ("ListImageReferrers",)


if TYPE_CHECKING:
    #: Every IAM action of ECR, ``ecr:Name``, sorted.
    ECR_ACTIONS: tuple[str, ...]


@cache
def _ecr_actions() -> tuple[str, ...]:
    # The model comes from botocore's data files alone (never a session, which would read the learner's
    # AWS profile and fail when AWS_PROFILE names a profile not configured here).
    from ecrlab.ecr.params import service_model

    model = service_model()
    names = set(model.operation_names) - set(_NOT_ACTIONS) | set(_PERMISSION_ONLY)
    return tuple(sorted(f"ecr:{name}" for name in names))


def __getattr__(name: str) -> Any:
    # ECR_ACTIONS, every IAM action of ECR (``ecr:Name``, sorted), is read on first use.
    if name == "ECR_ACTIONS":
        return _ecr_actions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=4096)
def wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """``*`` (any run) and ``?`` (one character) as IAM reads them in actions, resources and StringLike."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def expand_actions(pattern: str) -> list[str]:
    """The ECR actions an action pattern covers (``ecr:Get*`` → every ECR Get action)."""
    rx = wildcard_regex(pattern, True)
    return [a for a in _ecr_actions() if rx.match(a)]

"""Access control: policy documents, identities and the decisions made from them.

- :mod:`~ecrlab.access.grammar`: parse and check a policy document (clear errors, AWS's rules);
- :mod:`~ecrlab.access.conditions`: condition operators, IfExists, ForAnyValue/ForAllValues, policy variables;
- :mod:`~ecrlab.access.evaluation`: AWS's evaluation logic for one request, with its explanation;
- :mod:`~ecrlab.access.directory`: where IAM and STS are read (the lab installs the moto adapter's);
- :mod:`~ecrlab.access.identities`: access keys → principals, principals → their policies;
- :mod:`~ecrlab.access.managed`: the AWS managed ECR policies, attachable with their real texts;
- :mod:`~ecrlab.access.authorizer`: the engine's authorizer for every ECR request, API and registry;
- :mod:`~ecrlab.access.accounts`: more AWS accounts in one lab (``lab.account("222222222222")``);
- :mod:`~ecrlab.access.simulation`: IAM's policy simulator (answered in IAM's API by :mod:`ecrlab.wire.iam`);
- :mod:`~ecrlab.access.operations`: the ECR operations that need policies (repository and registry policies).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrlab.lazy import lazy_exports

if TYPE_CHECKING:
    from ecrlab.access.authorizer import LabAuthorizer
    from ecrlab.access.directory import Directory
    from ecrlab.access.identities import principal_for_arn
    from ecrlab.ecr.engine import Engine

__all__ = ["install", "principal_for_arn", "register_operations"]

# Loaded on first use: the moto adapter reads ``ecrlab.access.directory`` without pulling in the engine.
_LAZY = {"principal_for_arn": "ecrlab.access.identities"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


def register_operations() -> None:
    """Add the operations that need the policy engine (repository and registry policies) to the
    engine's table; the lab and the coverage table load them this way (idempotent)."""
    import ecrlab.access.operations  # noqa: F401  (importing registers them)


def install(engine: Engine, account_id: str, iam: Directory) -> LabAuthorizer:
    """Access control for ``engine``: its policy operations, ``iam`` as the IAM and STS it reads, the
    AWS managed ECR policies in ``account_id``'s IAM, and a
    :class:`~ecrlab.access.authorizer.LabAuthorizer` deciding every call."""
    from ecrlab.access import authorizer, directory
    from ecrlab.access.managed import install_managed_policies

    register_operations()
    directory.use(iam)
    install_managed_policies(account_id)
    return authorizer.install(engine)

"""Replication and repository creation templates.

- :mod:`~ecrlab.replication.configuration`: PutReplicationConfiguration (read back by DescribeRegistry)
  and which destinations a repository's pushes go to;
- :mod:`~ecrlab.replication.copier`: the subscriber that copies each push on the lab clock, the
  destinations' status (DescribeImageReplicationStatus) and the "ECR Replication Action" event;
- :mod:`~ecrlab.replication.templates`: repository creation templates, applied when replication, a pull
  through cache or a push to a missing repository makes ECR create a repository.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrlab.replication.copier import ReplicationAction, replication_statuses

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.events import Subscription

__all__ = ["ReplicationAction", "attach", "register_operations", "replication_statuses"]


def register_operations() -> None:
    """Add the replication and creation-template operations to the engine's table (idempotent)."""
    import ecrlab.replication.configuration
    import ecrlab.replication.copier
    import ecrlab.replication.templates  # noqa: F401  (importing registers them)


def attach(engine: Engine) -> Subscription:
    """Replicate ``engine``'s pushes as its registries' configurations say, and let CREATE_ON_PUSH
    templates create the repositories pushes name; returns the replication subscription."""
    from ecrlab.replication import copier, templates

    register_operations()
    engine.repository_missing = templates.create_on_push
    return copier.attach(engine)

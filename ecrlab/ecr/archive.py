"""The archive storage class: moving an image into ECR's archive and restoring it.

What the User Guide documents ("Archiving an image", "Restoring an image") and the sandbox does:

- An archived image (``imageStatus`` ``ARCHIVED``) cannot be pulled: a manifest GET answers 404 and
  BatchGetImage lists it as a failure. It is still described and listed when the ``imageStatus`` filter
  asks for it; DescribeImages and ListImages show only ``ACTIVE`` images by default.
- A restore (UpdateImageStorageClass to ``STANDARD``) moves the image to ``ACTIVATING``: it stays in the
  archive, unpullable, until the restore completes. ECR says a restore takes "up to 20 minutes"; the lab
  completes it exactly :data:`RESTORE_TIME` of lab time later, on the lab clock.
- Re-pushing an archived image restores it at once.
- A restored image "behaves like a newly pushed image": it is published as an ``ImagePushed`` with
  ``new_image`` set and ``source="restore"``, so scan on push and replication see it again (the scan
  from before the archive is not carried over: the scanning feature drops it when the image is archived).
- ``lastArchivedAt`` / ``lastActivatedAt`` record the latest transition each way.

The lifecycle feature archives through :func:`archive_image` too (``transition`` actions).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ecrlab.ecr.events import ImagePushed

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.model import ImageRecord, Principal, Repository

__all__ = [
    "ACTIVATING",
    "ACTIVE",
    "ARCHIVED",
    "RESTORE_TIME",
    "activate",
    "archive_image",
    "restore_now",
    "start_restore",
]

ACTIVE, ARCHIVED, ACTIVATING = "ACTIVE", "ARCHIVED", "ACTIVATING"
#: How long a restore takes in lab time: the upper bound ECR documents ("up to 20 minutes").
RESTORE_TIME = timedelta(minutes=20)


def archive_image(image: ImageRecord, at: datetime) -> None:
    """Move ``image`` to the archive storage class (callers hold the engine's lock)."""
    image.status = ARCHIVED
    image.last_archived_at = at
    image.restore_id += 1  # a restore still pending is void


def start_restore(engine: Engine, repo: Repository, image: ImageRecord, principal: Principal) -> None:
    """Begin restoring an archived image: ``ACTIVATING`` now, ``ACTIVE`` once :data:`RESTORE_TIME` has
    passed on the lab clock (callers hold the engine's lock)."""
    image.status = ACTIVATING
    image.restore_id += 1
    ticket = image.restore_id
    due = engine.clock.now() + RESTORE_TIME

    def complete() -> None:
        with engine.lock:
            current = engine.registry(repo.account, repo.region).repositories.get(repo.name)
            live = current.images.get(image.digest) if current is not None else None
            # Deleted, re-archived, or restored by a re-push in the meantime: this restore has nothing to do.
            if live is not image or image.status != ACTIVATING or image.restore_id != ticket:
                return
            restore_now(engine, repo, image, principal, due)
        engine.events.deliver()

    engine.events.schedule(due, complete, f"restore {repo.name}@{image.digest[:19]} from the archive")


def activate(image: ImageRecord, at: datetime) -> None:
    """Make ``image`` ACTIVE (standard storage) at ``at``; a restore still pending is void."""
    image.status = ACTIVE
    image.last_activated_at = at
    image.restore_id += 1


def restore_now(engine: Engine, repo: Repository, image: ImageRecord, principal: Principal, at: datetime) -> None:
    """Complete a restore: ``image`` ACTIVE at ``at``, published as a fresh push (callers hold the engine's
    lock and deliver the stream once they release it)."""
    activate(image, at)
    engine.events.enqueue(
        ImagePushed(
            repo.account,
            repo.region,
            at,
            repository=repo.name,
            digest=image.digest,
            tag=image.tags[0] if image.tags else None,
            media_type=image.media_type,
            principal=principal,
            new_image=True,
            source="restore",
        )
    )

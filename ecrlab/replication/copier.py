"""Replication that copies: a subscriber to the engine's ``ImagePushed`` events.

Each push (a new image, or a tag put on one) to a repository a replication rule matches is copied
once to every destination the rules name: the same manifest bytes (so the same digest), the same tag
and repository name, and every blob the image references stored in the destination registry's own
blob store and linked into its repository, so the destination's ``/v2/`` serves it with that
registry's token. A copy takes time in AWS: the subscriber records IN_PROGRESS for each destination
and schedules the copy on the lab clock (:data:`REPLICATION_DELAY` after the push); the job settles it
as COMPLETE or FAILED and publishes a :class:`ReplicationAction` ("ECR Replication Action").

Rules followed (User Guide, "Private image replication"):

- only pushes made after the configuration exists replicate; deletes, repository policies and
  lifecycle policies never do;
- no chaining: a replica arriving in a registry that replicates further is not copied again;
- cross-account, the destination's registry policy must allow the source account
  ``ecr:ReplicateImage``, and ``ecr:CreateRepository`` when the repository does not exist there yet,
  decided by the policy engine; otherwise the destination FAILS and nothing is copied;
- a repository replication creates gets the default settings, or those of the destination's
  creation template for REPLICATION;
- where the destination's tag is immutable and already names another image, the image is
  replicated without that tag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ecrlab.access.authorizer import LabAuthorizer
from ecrlab.ecr.events import Event, ImagePushed, TagMoved
from ecrlab.ecr.images import find_image, tag_is_immutable
from ecrlab.ecr.layers import copy_layer, layer_links
from ecrlab.ecr.manifests import parse_manifest
from ecrlab.ecr.model import COMPLETE, FAILED, IN_PROGRESS, DestinationStatus, ImageRecord, Principal, Repository
from ecrlab.ecr.operations import Call, operation
from ecrlab.errors import ImageNotFoundException, ServiceError
from ecrlab.replication.configuration import Destination, destinations_for
from ecrlab.replication.templates import REPLICATION, create_repository

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.events import Subscription

__all__ = [
    "ACCESS_DENIED",
    "COMPLETE",
    "FAILED",
    "IN_PROGRESS",
    "REPLICATION_DELAY",
    "DestinationStatus",
    "ReplicationAction",
    "attach",
    "replication_statuses",
    "service_principal",
]

#: The failureCode of a destination that refused the copy. ECR documents ReplicationError only as a
#: string; this code is the sandbox's (inferred), the reason beside it says what was missing.
ACCESS_DENIED = "ACCESS_DENIED"
#: How long a copy takes on the lab clock. AWS documents no figure (copies usually land within
#: minutes); a fixed delay keeps deterministic labs deterministic and lets a lesson watch IN_PROGRESS.
REPLICATION_DELAY = timedelta(seconds=30)
# Where a replica comes from, on the ImagePushed it causes: never replicated again (no chaining).
_SOURCE = "replication"


@dataclass(frozen=True)
class ReplicationAction(Event):
    """ECR's "ECR Replication Action" event: one push copied (``result`` SUCCESS) or not (FAILED) into
    the destination registry (``account``, ``region``) from ``source_account``/``source_region``."""

    repository: str
    digest: str
    tag: str | None
    source_account: str
    source_region: str
    result: str  # SUCCESS | FAILED
    failure_code: str | None = None
    failure_reason: str | None = None


def service_principal(account: str) -> Principal:
    """The identity replication acts as: ECR's service-linked role in the source account."""
    return Principal(
        arn=(f"arn:aws:sts::{account}:assumed-role/AWSServiceRoleForECRReplication/replication.ecr.amazonaws.com"),
        account=account,
        kind="assumed-role",
        name="AWSServiceRoleForECRReplication",
    )


def replication_statuses(
    engine: Engine, account: str, region: str, repository: str, digest: str
) -> list[DestinationStatus]:
    """The destinations of the last push of ``digest`` to ``repository`` and where each stands."""
    with engine.lock:
        table = _table(engine, account, region)
        return [dataclasses.replace(s) for s in table.get((repository, digest), {}).values()]


def _table(engine: Engine, account: str, region: str) -> dict[tuple[str, str], dict[Destination, DestinationStatus]]:
    return engine.registry(account, region).replication_statuses


# -- the subscriber ---------------------------------------------------------------------------------
def attach(engine: Engine) -> Subscription:
    """Replicate ``engine``'s pushes from now on; returns the subscription."""
    return engine.events.subscribe(lambda event: _pushed(engine, event), ImagePushed)


def _pushed(engine: Engine, event: ImagePushed) -> None:
    if event.source == _SOURCE:
        return  # a replica: ECR does not chain replication
    with engine.lock:
        registry = engine.registries.get((event.account, event.region))
        repo = registry.repositories.get(event.repository) if registry else None
        image = repo.images.get(event.digest) if repo else None
        if registry is None or repo is None or image is None:
            return  # deleted before this push was delivered: nothing left to copy
        targets = destinations_for(registry, event.repository)
        if not targets:
            return
        # What to copy is fixed at push time (the image, its blobs and any images an index lists),
        # so a later tag move or delete in the source does not change what arrives.
        snapshot = _snapshot(repo, image)
        now = engine.clock.now()
        table = _table(engine, event.account, event.region)
        statuses = table.setdefault((event.repository, event.digest), {})
        for target in targets:
            # A new record per push: a job settles its own push's record, never a later push's.
            statuses[target] = DestinationStatus(target[0], target[1], IN_PROGRESS, now)
        records = dict(statuses)
        due = event.time + REPLICATION_DELAY
    for target in targets:
        engine.events.schedule(
            due,
            lambda target=target: _replicate(engine, event, repo, snapshot, target, records[target]),
            f"replicate {event.repository}@{event.digest[:19]} to {target[0]}/{target[1]}",
        )


def _snapshot(repo: Repository, image: ImageRecord) -> list[ImageRecord]:
    """``image`` and, for an index, the images it lists that the repository holds: children first."""
    out: list[ImageRecord] = []
    for child in parse_manifest(image.manifest, image.media_type).children:
        if child in repo.images:
            out.extend(_snapshot(repo, repo.images[child]))
    out.append(dataclasses.replace(image, tags=list(image.tags)))
    return out


def _replicate(
    engine: Engine,
    event: ImagePushed,
    source: Repository,
    images: list[ImageRecord],
    target: Destination,
    status: DestinationStatus,
) -> None:
    account, region = target
    with engine.lock:
        call = Call(engine, "ReplicateImage", service_principal(event.account), region, {"registryId": account})
        destination = engine.registry(account, region)
        repo = destination.repositories.get(event.repository)
        refusal = _refusal(engine, event, account, region, creating=repo is None)
        if refusal is None:
            try:
                if repo is None:
                    repo, _ = create_repository(call, account, region, event.repository, REPLICATION, call.principal)
                for image in images:
                    _copy(call, source, repo, image, event.tag if image.digest == event.digest else None)
            except ServiceError as exc:  # a template's settings the destination refuses, say
                refusal = (exc.code, exc.message)
        status.updated_at = engine.clock.now()
        if refusal is None:
            status.status, status.failure_code, status.reason = COMPLETE, None, None
        else:
            status.status, status.failure_code, status.reason = FAILED, refusal[0], refusal[1]
        call.emit(
            ReplicationAction(
                account,
                region,
                status.updated_at,
                repository=event.repository,
                digest=event.digest,
                tag=event.tag,
                source_account=event.account,
                source_region=event.region,
                result="SUCCESS" if refusal is None else "FAILED",
                failure_code=status.failure_code,
                failure_reason=status.reason,
            )
        )


def _refusal(engine: Engine, event: ImagePushed, account: str, region: str, creating: bool) -> tuple[str, str] | None:
    """(failureCode, reason) when the destination's registry policy does not let the source account
    replicate (and create the repository); None when it may. Within one account the service-linked
    role may do both."""
    if account == event.account:
        return None
    authorizer = engine.authorizer
    if not isinstance(authorizer, LabAuthorizer):
        return None  # an engine without access control (unit tests of the engine alone)
    actions = ["ecr:ReplicateImage"] + (["ecr:CreateRepository"] if creating else [])
    for action in actions:
        decision = authorizer.replication_decision(event.account, account, region, event.repository, action)
        if not decision.allowed:
            reason = (
                f"The registry policy of {account} in {region} does not allow account {event.account} "
                f"{action} on repository '{event.repository}'"
            )
            return ACCESS_DENIED, reason
    return None


def _copy(call: Call, source: Repository, target: Repository, image: ImageRecord, tag: str | None) -> None:
    """Store ``image`` in ``target`` with its blobs, and ``tag`` unless the target's immutable tag
    already names another image; publish the push as the destination sees it."""
    engine = call.engine
    for digest, _size in parse_manifest(image.manifest, image.media_type).blobs:
        if digest not in layer_links(target):
            copy_layer(engine, source, target, digest)
    existing = target.images.get(image.digest)
    new_image = existing is None
    if existing is None:
        existing = dataclasses.replace(
            image,
            tags=[],
            pushed_at=engine.clock.stamp(),
            last_pulled_at=None,
            sequence=engine.next_sequence(),
        )
        target.images[image.digest] = existing
    current = target.image_tags.get(tag) if tag else None
    if tag and current not in (None, image.digest) and tag_is_immutable(target, tag):
        tag = None  # replicated without the tag, as the User Guide's considerations say
    if tag and current != image.digest:
        if current is not None:
            target.images[current].tags.remove(tag)
            call.emit(
                TagMoved(target.account, target.region, engine.clock.now(), target.name, tag, image.digest, current)
            )
        existing.tags.append(tag)
        target.image_tags[tag] = image.digest
    elif not new_image:
        return  # already there, tag and all: nothing arrived
    call.emit(
        ImagePushed(
            target.account,
            target.region,
            existing.pushed_at if new_image else engine.clock.now(),
            repository=target.name,
            digest=image.digest,
            tag=tag,
            media_type=image.media_type,
            principal=call.principal,
            new_image=new_image,
            source=_SOURCE,
        )
    )


# -- the operation ----------------------------------------------------------------------------------
@operation("DescribeImageReplicationStatus", notes="IN_PROGRESS until the copy's time on the lab clock")
def describe_image_replication_status(call: Call) -> dict[str, Any]:
    repo = call.repository()
    image_id = call.params["imageId"]
    image, _code, _reason = find_image(repo, image_id)
    if image is None:
        raise ImageNotFoundException(image_id, repo.name, repo.account)
    statuses = _table(call.engine, repo.account, repo.region).get((repo.name, image.digest), {})
    out_id = {"imageDigest": image.digest, **({"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {})}
    return {
        "repositoryName": repo.name,
        "imageId": out_id,
        "replicationStatuses": [s.describe() for s in statuses.values()],
    }

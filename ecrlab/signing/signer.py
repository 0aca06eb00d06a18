"""Signing on push: a subscriber to the engine's ``ImagePushed`` events, and DescribeImageSigningStatus.

Each new image pushed to a repository that a signing rule covers is signed once per signing profile the
matching rules name (User Guide, "Managed signing"):

- **as the pushing principal.** ECR signs "using the identity of the entity pushing the image", which must
  be allowed ``signer:SignPayload`` on the profile; the lab's authorizer decides that with the principal's
  IAM policies at signing time. Refused, the profile's status is FAILED with the code AWS Signer answers a
  refused ``SignPayload`` with (``AccessDeniedException``) and IAM's refusal as the reason; nothing is stored.
- **on the lab clock.** The push returns at once with the status IN_PROGRESS; the signature is made
  :data:`SIGNING_DELAY` later (AWS documents no figure: signing is asynchronous and usually takes seconds).
- **as a referrer.** The signature (:mod:`ecrlab.signing.notation`, signed with the registry's lab key,
  :mod:`ecrlab.signing.keys`) is stored in the image's repository like any push: its envelope and the empty
  config as blobs, the signature manifest (``subject`` = the image) untagged, so ``ListImageReferrers`` and the
  registry's referrers API list it and any client can pull it. Its own push publishes ``ImagePushed`` with
  ``source="signing"``.

Not signed: referrers themselves (signatures, SBOMs: manifests with a ``subject``), a tag put on an image
that is already there (the image was signed when it arrived), an image restored from the archive with a profile
that already signed it, and replicas (ECR replicates the source's signatures with its images, as referrers).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ecrlab.access.authorizer import LabAuthorizer
from ecrlab.ecr.events import ImageDeleted, ImagePushed, RepositoryDeleted
from ecrlab.ecr.images import find_image, put_image
from ecrlab.ecr.layers import link_layer
from ecrlab.ecr.model import COMPLETE, FAILED, IN_PROGRESS, ImageRecord, Principal, Repository, SigningStatus
from ecrlab.ecr.operations import Call, operation
from ecrlab.errors import ImageAlreadyExistsException, ImageNotFoundException
from ecrlab.oci import OCI_MANIFEST, sha256_digest
from ecrlab.signing import notation
from ecrlab.signing.configuration import profiles_for
from ecrlab.signing.keys import signing_key

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.events import Subscription

__all__ = [
    "ACCESS_DENIED",
    "COMPLETE",
    "FAILED",
    "IN_PROGRESS",
    "PROFILE_ATTRIBUTE",
    "SIGNING_DELAY",
    "SOURCE",
    "attach",
    "signing_statuses",
]

#: The failureCode of a push whose principal may not sign with the profile: the error code AWS Signer's
#: SignPayload answers (ECR documents failureCode only as a string).
ACCESS_DENIED = "AccessDeniedException"
#: How long signing takes on the lab clock; a fixed figure keeps deterministic labs deterministic and lets a
#: lesson see IN_PROGRESS.
SIGNING_DELAY = timedelta(seconds=5)
#: The ``source`` of the ImagePushed a stored signature publishes.
SOURCE = "signing"
#: The extended attribute (protected, not critical) naming the signing profile in the lab's envelopes.
PROFILE_ATTRIBUTE = "ecrlab.signingProfileArn"
_NOT_SIGNED_AGAIN = (SOURCE, "replication")


def signing_statuses(engine: Engine, account: str, region: str, repository: str, digest: str) -> list[SigningStatus]:
    """Where signing the image ``digest`` of ``repository`` stands, one status per signing profile."""
    with engine.lock:
        table = engine.registry(account, region).signing_statuses
        return [dataclasses.replace(s) for s in table.get((repository, digest), {}).values()]


# -- the subscriber ---------------------------------------------------------------------------------
def attach(engine: Engine) -> list[Subscription]:
    """Sign ``engine``'s pushes as its registries' signing configurations say, from now on."""
    return [
        engine.events.subscribe(lambda event: _pushed(engine, event), ImagePushed),
        engine.events.subscribe(lambda event: _forget(engine, event), ImageDeleted, RepositoryDeleted),
    ]


def _pushed(engine: Engine, event: ImagePushed) -> None:
    if event.source in _NOT_SIGNED_AGAIN or not event.new_image:
        return
    with engine.lock:
        registry = engine.registries.get((event.account, event.region))
        repo = registry.repositories.get(event.repository) if registry else None
        image = repo.images.get(event.digest) if repo else None
        if registry is None or image is None or image.subject is not None:
            return  # gone already, or a referrer (a signature, an SBOM): only images are signed
        known = registry.signing_statuses.get((event.repository, event.digest), {})
        # An image restored from the archive comes back as a new push; its signatures never left.
        profiles = [
            p for p in profiles_for(registry, event.repository) if p not in known or known[p].status != COMPLETE
        ]
        if not profiles:
            return
        statuses = registry.signing_statuses.setdefault((event.repository, event.digest), {})
        for profile in profiles:
            # A new record per push: a job settles its own push's record, never a later push's.
            statuses[profile] = SigningStatus(profile, IN_PROGRESS, engine.clock.now())
        records = dict(statuses)
    for profile in profiles:
        engine.events.schedule(
            event.time + SIGNING_DELAY,
            lambda profile=profile: _sign(engine, event, records[profile]),
            f"sign {event.repository}@{event.digest[:19]} with {profile.rsplit('/', 1)[-1]}",
        )


def _forget(engine: Engine, event: ImageDeleted | RepositoryDeleted) -> None:
    with engine.lock:
        registry = engine.registries.get((event.account, event.region))
        if registry is None:
            return
        gone = [event.digest] if isinstance(event, ImageDeleted) else list(event.digests)
        for digest in gone:
            registry.signing_statuses.pop((event.repository, digest), None)


def _sign(engine: Engine, event: ImagePushed, status: SigningStatus) -> None:
    with engine.lock:
        status.updated_at = engine.clock.now()
        registry = engine.registries.get((event.account, event.region))
        repo = registry.repositories.get(event.repository) if registry else None
        image = repo.images.get(event.digest) if repo else None
        if repo is None or image is None:
            status.status, status.failure_code = FAILED, "ImageNotFoundException"
            status.failure_reason = "The image was deleted before it was signed"
            return
        refusal = _refusal(engine, event.principal, status.profile_arn)
        if refusal is not None:
            status.status, status.failure_code, status.failure_reason = FAILED, ACCESS_DENIED, refusal
            return
        status.signature_digest = _store(engine, event.principal, repo, image, status)
        status.status, status.failure_code, status.failure_reason = COMPLETE, None, None


def _refusal(engine: Engine, principal: Principal, profile_arn: str) -> str | None:
    """IAM's refusal of ``signer:SignPayload`` on the profile for ``principal``; None when allowed."""
    authorizer = engine.authorizer
    if not isinstance(authorizer, LabAuthorizer):
        return None  # an engine without access control (unit tests of the engine alone)
    _arn, _partition, _service, region, account, _resource = profile_arn.split(":", 5)
    decision = authorizer.decide(principal, "signer:SignPayload", profile_arn, region=region, registry_id=account)
    return None if decision.allowed else decision.message()


def _store(engine: Engine, principal: Principal, repo: Repository, image: ImageRecord, status: SigningStatus) -> str:
    """Sign ``image`` and store the signature in ``repo`` as its referrer; returns the signature's digest."""
    signature = notation.sign(
        signing_key(engine, repo.account, repo.region),
        media_type=image.media_type,
        digest=image.digest,
        size=len(image.manifest),
        signed_at=status.updated_at,
        extended={PROFILE_ATTRIBUTE: status.profile_arn},
    )
    store = engine.blobs.store(repo.account, repo.region)
    for blob in (notation.EMPTY_CONFIG, signature.envelope):
        digest = sha256_digest(blob)
        if not store.exists(digest):
            upload = store.start_upload(engine.new_id(), status.updated_at, repo.name)
            upload.append([blob])
            store.commit(upload.id, digest, len(blob))
        link_layer(repo, digest, len(blob))
    call = Call(
        engine,
        "PutImage",
        principal,
        repo.region,
        {
            "registryId": repo.account,
            "repositoryName": repo.name,
            "imageManifest": signature.manifest,
            "imageManifestMediaType": OCI_MANIFEST,
        },
        source=SOURCE,
    )
    try:
        put_image(call)
    except ImageAlreadyExistsException:
        pass  # the same signature, made again at the same instant of a deterministic lab: already stored
    return signature.digest


# -- the operation ----------------------------------------------------------------------------------
@operation("DescribeImageSigningStatus", notes="one status per signing profile; IN_PROGRESS until signed")
def describe_image_signing_status(call: Call) -> dict[str, Any]:
    repo = call.repository()
    image_id = call.params["imageId"]
    image, _code, _reason = find_image(repo, image_id)
    if image is None:
        raise ImageNotFoundException(image_id, repo.name, repo.account)
    statuses = call.registry.signing_statuses.get((repo.name, image.digest), {})
    out_id = {"imageDigest": image.digest, **({"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {})}
    return {
        "repositoryName": repo.name,
        "imageId": out_id,
        "registryId": repo.account,
        "signingStatuses": [s.describe() for s in statuses.values()],
    }

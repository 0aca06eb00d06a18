"""Image operations: PutImage, BatchGetImage, DescribeImages, ListImages, BatchDeleteImage.

Archived images (:mod:`ecrlab.ecr.archive`) stay in the repository but are not pulled: BatchGetImage
lists them as ``ImageNotFound`` failures (the 404 the User Guide documents for a pull), and DescribeImages /
ListImages show them only when the ``imageStatus`` filter asks (``ACTIVE`` by default, as the model says).

The image digest is the sha256 of the exact manifest bytes, so the same image has the same digest
here, in a CNCF Distribution registry and in real ECR. The OCI data plane pushes and pulls through
these same operations (``PutImage`` for a manifest PUT, ``BatchGetImage`` for a manifest GET, ...).

``DescribeImages`` and ``ListImages`` list images newest push first (ties broken by order of
arrival). ECR documents no order and code must not rely on one; newest-first is how the ECR console
presents a repository's images (inferred), and it makes lesson outputs read naturally. Pages are
cut by an opaque token naming the last item returned.
"""

from __future__ import annotations

import re
from typing import Any

from ecrlab.ecr.archive import ACTIVE, ARCHIVED, activate, archive_image, start_restore
from ecrlab.ecr.events import ImageDeleted, ImagePulled, ImagePushed, TagMoved, TagRemoved
from ecrlab.ecr.layers import layer_links
from ecrlab.ecr.manifests import Manifest, parse_manifest
from ecrlab.ecr.model import ImageRecord, Repository
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import IMAGE_TAG_PATTERN, decode_token, encode_token, invalid_token
from ecrlab.errors import (
    ImageAlreadyExistsException,
    ImageDigestDoesNotMatchException,
    ImageNotFoundException,
    ImageStorageClassUpdateNotSupportedException,
    ImageTagAlreadyExistsException,
    InvalidParameterException,
    LayersNotFoundException,
    ReferencedImagesNotFoundException,
)
from ecrlab.oci import INDEX_TYPES

__all__ = ["describe_image", "find_image", "referrers", "tag_is_immutable", "unpullable"]

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_TAG = re.compile(IMAGE_TAG_PATTERN)


def tag_is_immutable(repo: Repository, tag: str) -> bool:
    """Whether pushing ``tag`` onto another image is refused in ``repo``.

    With ``*_WITH_EXCLUSION`` the exclusion filters (``*`` wildcards) pick the tags that behave the
    other way: excluded tags stay mutable in an immutable repository and the reverse.
    """
    mode = repo.tag_mutability
    if mode in ("MUTABLE", "IMMUTABLE"):
        return mode == "IMMUTABLE"
    excluded = any(_wildcard(f["filter"], tag) for f in repo.mutability_exclusions)
    return excluded if mode == "MUTABLE_WITH_EXCLUSION" else not excluded


def _wildcard(pattern: str, tag: str) -> bool:
    # Only '*' is special in ECR's WILDCARD filters; fnmatch would also read '[' and '?'.
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, tag) is not None


def describe_image(repo: Repository, image: ImageRecord) -> dict[str, Any]:
    """An image as DescribeImages shows it (the ``ImageDetail`` shape)."""
    out: dict[str, Any] = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageDigest": image.digest,
        "imageSizeInBytes": image.size,
        "imagePushedAt": image.pushed_at,
        "imageManifestMediaType": image.media_type,
        "imageStatus": image.status,
    }
    if image.tags:
        out["imageTags"] = list(image.tags)
    if image.artifact_media_type:
        out["artifactMediaType"] = image.artifact_media_type
    if image.last_pulled_at is not None:
        out["lastRecordedPullTime"] = image.last_pulled_at
    if image.subject:
        out["subjectManifestDigest"] = image.subject
    if image.last_archived_at is not None:
        out["lastArchivedAt"] = image.last_archived_at
    if image.last_activated_at is not None:
        out["lastActivatedAt"] = image.last_activated_at
    return out


def find_image(repo: Repository, image_id: dict[str, str]) -> tuple[ImageRecord | None, str | None, str]:
    """Resolve an ``ImageIdentifier``: (image, failureCode, failureReason) as the batch APIs report."""
    digest, tag = image_id.get("imageDigest"), image_id.get("imageTag")
    if not digest and not tag:
        return None, "MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null"
    if digest and not _DIGEST.match(digest):
        return (
            None,
            "InvalidImageDigest",
            "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
        )
    if tag and not _TAG.fullmatch(tag):
        return (
            None,
            "InvalidImageTag",
            f"Invalid request parameters: image tag should satisfy the regex '{IMAGE_TAG_PATTERN}'",
        )
    if tag:
        found = repo.image_tags.get(tag)
        if found is None:
            return None, "ImageNotFound", "Requested image not found"
        if digest and digest != found:
            return None, "ImageTagDoesNotMatchDigest", "Invalid request parameters: image tag does not match digest"
        return repo.images[found], None, ""
    image = repo.images.get(digest or "")
    if image is None:
        return None, "ImageNotFound", "Requested image not found"
    return image, None, ""


def _image_size(repo: Repository, manifest: Manifest) -> int:
    # ECR reports the sum of the (compressed) layer sizes; for a manifest list or index, the
    # largest of the images it lists (User Guide, ImageDetail.imageSizeInBytes).
    if manifest.is_index:
        return max((repo.images[d].size for d in manifest.children if d in repo.images), default=0)
    return sum(manifest.layer_sizes)


@operation("PutImage")
def put_image(call: Call) -> dict[str, Any]:
    p = call.params
    repo = call.repository()
    raw = p["imageManifest"].encode("utf-8") if isinstance(p["imageManifest"], str) else p["imageManifest"]
    manifest = parse_manifest(raw, p.get("imageManifestMediaType"))
    if p.get("imageDigest") and p["imageDigest"] != manifest.digest:
        raise ImageDigestDoesNotMatchException(p["imageDigest"], manifest.digest)
    links = layer_links(repo)
    missing = sorted({d for d, _ in manifest.blobs if d not in links})
    if missing:
        raise LayersNotFoundException(
            f"Layers with digests '[{', '.join(missing)}]' required for pushing image into repository "
            f"with name '{repo.name}' in the registry with id '{repo.account}' do not exist"
        )
    wrong = sorted(d for d, size in manifest.blobs if links[d] != size)
    if wrong:
        raise InvalidParameterException.at(
            "ImageManifest", f"The sizes of layers [{', '.join(wrong)}] do not match the sizes of the uploaded layers"
        )
    absent = [d for d in manifest.children if d not in repo.images]
    if absent:
        raise ReferencedImagesNotFoundException(absent, repo.name, repo.account)
    tag = p.get("imageTag")  # its pattern was checked with the other parameters (params.validate)
    existing = repo.images.get(manifest.digest)
    current = repo.image_tags.get(tag) if tag else None
    # Re-pushing an archived (or activating) image restores it at once (User Guide, "Restoring an image").
    restoring = existing is not None and not existing.active
    if existing is not None and not restoring and (tag is None or current == manifest.digest):
        raise ImageAlreadyExistsException(manifest.digest, tag, repo.name, repo.account)
    if tag and current is not None and current != manifest.digest and tag_is_immutable(repo, tag):
        raise ImageTagAlreadyExistsException(tag, repo.name)
    created = existing is None
    # A restored image is published as a new one, so scan on push and replication see it again.
    new_image = created or restoring
    if existing is not None and restoring:
        activate(existing, call.now())
    if existing is None:
        existing = ImageRecord(
            digest=manifest.digest,
            manifest=raw,
            media_type=manifest.media_type,
            pushed_at=call.engine.clock.stamp(),
            size=_image_size(repo, manifest),
            artifact_media_type=manifest.artifact_type or manifest.config_media_type,
            subject=manifest.subject,
            artifact_type=manifest.artifact_type or manifest.config_media_type,
            annotations=manifest.annotations,
            sequence=call.engine.next_sequence(),
        )
        repo.images[manifest.digest] = existing
    at = existing.pushed_at if created else call.now()
    if tag:
        if current is not None and current != manifest.digest:
            repo.images[current].tags.remove(tag)
            call.emit(TagMoved(repo.account, repo.region, at, repo.name, tag, manifest.digest, current))
        if tag not in existing.tags:
            existing.tags.append(tag)
        repo.image_tags[tag] = manifest.digest
    call.emit(
        ImagePushed(
            repo.account,
            repo.region,
            at,
            repository=repo.name,
            digest=manifest.digest,
            tag=tag,
            media_type=manifest.media_type,
            principal=call.principal,
            new_image=new_image,
            source=call.source,
        )
    )
    image_id: dict[str, str] = {"imageDigest": manifest.digest}
    if tag:
        image_id["imageTag"] = tag
    return {
        "image": {
            "registryId": repo.account,
            "repositoryName": repo.name,
            "imageId": image_id,
            "imageManifest": raw.decode("utf-8"),
            "imageManifestMediaType": manifest.media_type,
        }
    }


@operation("BatchGetImage")
def batch_get_image(call: Call) -> dict[str, Any]:
    """The manifests asked for; each one served is an ImagePulled event (lifecycle records the pull time
    that ``sinceImagePulled`` rules read from it).

    ``acceptedMediaTypes`` never makes the sandbox convert a manifest (real ECR can turn a schema 2
    manifest into schema 1 on request): the stored bytes are returned, which keep their digest.
    """
    repo = call.repository()
    images, failures = [], []
    pulled_at = call.now()
    seen: set[tuple[str, str | None]] = set()
    for image_id in call.params["imageIds"]:
        image, code, reason = find_image(repo, image_id)
        if image is None:
            failures.append({"imageId": dict(image_id), "failureCode": code, "failureReason": reason})
            continue
        if not image.active:
            failures.append(
                {"imageId": dict(image_id), "failureCode": "ImageNotFound", "failureReason": unpullable(image)}
            )
            continue
        key = (image.digest, image_id.get("imageTag"))
        if key in seen:
            continue
        seen.add(key)
        call.emit(
            ImagePulled(
                repo.account,
                repo.region,
                pulled_at,
                repository=repo.name,
                digest=image.digest,
                tag=image_id.get("imageTag"),
                principal=call.principal,
                source=call.source,
            )
        )
        out_id = {"imageDigest": image.digest}
        if image_id.get("imageTag"):
            out_id["imageTag"] = image_id["imageTag"]
        images.append(
            {
                "registryId": repo.account,
                "repositoryName": repo.name,
                "imageId": out_id,
                "imageManifest": image.manifest.decode("utf-8"),
                "imageManifestMediaType": image.media_type,
            }
        )
    return {"images": images, "failures": failures}


def unpullable(image: ImageRecord) -> str:
    """Why an image that exists cannot be pulled. ECR documents a 404 for a pull of an archived image, so
    the failure code is ImageNotFound; the reason is the sandbox's, saying what to do."""
    if image.status == ARCHIVED:
        return "Requested image is archived; restore it to the standard storage class to pull it"
    return "Requested image is being restored from the archive and cannot be pulled until the restore completes"


def _indexes_listing(repo: Repository, digest: str) -> list[str]:
    """The manifest lists / indexes in ``repo`` that list ``digest``: it cannot go before them."""
    return sorted(
        other.digest
        for other in repo.images.values()
        if other.media_type in INDEX_TYPES and digest in parse_manifest(other.manifest, other.media_type).children
    )


def _tag_filter(call: Call) -> str:
    return ((call.params.get("filter") or {}).get("tagStatus")) or "ANY"


def _status_filter(call: Call) -> str:
    # Only ACTIVE images unless the filter names another status (or ANY), as the model documents.
    return ((call.params.get("filter") or {}).get("imageStatus")) or ACTIVE


def _listed(call: Call, repo: Repository) -> list[ImageRecord]:
    wanted = _status_filter(call)
    return [i for i in _newest_first(repo) if wanted == "ANY" or i.status == wanted]


def _newest_first(repo: Repository) -> list[ImageRecord]:
    return sorted(repo.images.values(), key=lambda i: (i.pushed_at, i.sequence), reverse=True)


def _page(items: list[Any], key: Any, call: Call, default_max: int = 100) -> tuple[list[Any], str | None]:
    """A page of ``items`` in their given order, cut after the item whose key the token names."""
    p = call.params
    max_results = p.get("maxResults") or default_max
    if p.get("nextToken"):
        after = decode_token(p["nextToken"])
        keys = [key(i) for i in items]
        if after not in keys:
            raise invalid_token()
        items = items[keys.index(after) + 1 :]
    page = items[:max_results]
    return page, (encode_token(key(page[-1])) if len(items) > max_results else None)


def _detail(call: Call, repo: Repository, image: ImageRecord) -> dict[str, Any]:
    detail = describe_image(repo, image)
    for extend in call.engine.image_details_extensions:
        extend(repo, image, detail)
    return detail


@operation("DescribeImages")
def describe_images(call: Call) -> dict[str, Any]:
    p = call.params
    repo = call.repository()
    if p.get("imageIds"):
        if p.get("maxResults") or p.get("nextToken"):
            raise InvalidParameterException.at(
                "maxResults", "maxResults and nextToken cannot be used when imageIds is specified"
            )
        details = []
        for image_id in p["imageIds"]:
            image, _code, _reason = find_image(repo, image_id)
            if image is None:
                raise ImageNotFoundException(image_id, repo.name, repo.account)
            details.append(_detail(call, repo, image))
        return {"imageDetails": details}
    status = _tag_filter(call)
    images = [i for i in _listed(call, repo) if status == "ANY" or (status == "TAGGED") == bool(i.tags)]
    page, token = _page(images, lambda i: i.digest, call)
    out: dict[str, Any] = {"imageDetails": [_detail(call, repo, i) for i in page]}
    if token:
        out["nextToken"] = token
    return out


@operation("ListImages")
def list_images(call: Call) -> dict[str, Any]:
    """One entry per tag (and one per untagged image), as ECR lists them."""
    repo = call.repository()
    status = _tag_filter(call)
    ids: list[dict[str, str]] = []
    for image in _listed(call, repo):
        if image.tags and status in ("ANY", "TAGGED"):
            ids.extend({"imageDigest": image.digest, "imageTag": t} for t in image.tags)
        elif not image.tags and status in ("ANY", "UNTAGGED"):
            ids.append({"imageDigest": image.digest})
    page, token = _page(ids, lambda i: f"{i['imageDigest']}:{i.get('imageTag', '')}", call)
    out: dict[str, Any] = {"imageIds": page}
    if token:
        out["nextToken"] = token
    return out


def referrers(repo: Repository, subject: str, artifact_types: list[str] | None = None) -> list[ImageRecord]:
    """The images of ``repo`` whose manifest names ``subject`` as its subject (signatures, SBOMs,
    attestations), oldest first, optionally only those of the given artifact types. One answer for the
    API (ListImageReferrers) and the data plane (``GET /v2/<name>/referrers/<digest>``)."""
    found = sorted(
        (image for image in repo.images.values() if image.subject == subject),
        key=lambda i: (i.pushed_at, i.sequence),
    )
    if artifact_types:
        found = [image for image in found if image.artifact_type in artifact_types]
    return found


@operation(
    "ListImageReferrers",
    action="ecr:BatchGetImage",
    notes="the manifests whose subject is the image, as the registry's referrers API lists them",
)
def list_image_referrers(call: Call) -> dict[str, Any]:
    repo = call.repository()
    wanted = call.params.get("filter") or {}
    status = wanted.get("artifactStatus", ACTIVE)
    listed = [
        {
            "digest": image.digest,
            "mediaType": image.media_type,
            **({"artifactType": image.artifact_type} if image.artifact_type else {}),
            "size": len(image.manifest),
            **({"annotations": dict(image.annotations)} if image.annotations else {}),
            "artifactStatus": image.status,
        }
        for image in referrers(repo, call.params["subjectId"]["imageDigest"], wanted.get("artifactTypes"))
        if status == "ANY" or image.status == status
    ]
    page, token = _page(listed, lambda r: r["digest"], call, default_max=50)
    return {"referrers": page, **({"nextToken": token} if token else {})}


@operation("BatchDeleteImage")
def batch_delete_image(call: Call) -> dict[str, Any]:
    """Delete images, or only tags: an id with a tag removes that tag, and the image with it once
    it has no tag left; an id with only a digest removes the image and all its tags."""
    repo = call.repository()
    deleted, failures = [], []
    for image_id in call.params["imageIds"]:
        image, code, reason = find_image(repo, image_id)
        if image is None:
            failures.append({"imageId": dict(image_id), "failureCode": code, "failureReason": reason})
            continue
        tag = image_id.get("imageTag")
        removes_image = not tag or image.tags == [tag]
        parents = _indexes_listing(repo, image.digest) if removes_image else []
        if parents:
            failures.append(
                {
                    "imageId": dict(image_id),
                    "failureCode": "ImageReferencedByManifestList",
                    "failureReason": f"Requested image referenced by manifest list: [{', '.join(parents)}]",
                }
            )
            continue
        if tag:
            image.tags.remove(tag)
            del repo.image_tags[tag]
            deleted.append({"imageDigest": image.digest, "imageTag": tag})
            if not image.tags:
                del repo.images[image.digest]
                _deleted(call, repo, image.digest, (tag,))
            else:
                call.emit(
                    TagRemoved(repo.account, repo.region, call.now(), repo.name, tag, image.digest, call.principal)
                )
            continue
        tags = tuple(image.tags)
        for old in image.tags:
            del repo.image_tags[old]
            deleted.append({"imageDigest": image.digest, "imageTag": old})
        if not image.tags:
            deleted.append({"imageDigest": image.digest})
        image.tags = []
        del repo.images[image.digest]
        _deleted(call, repo, image.digest, tags)
    return {"imageIds": deleted, "failures": failures}


def _deleted(call: Call, repo: Repository, digest: str, tags: tuple[str, ...]) -> None:
    call.emit(ImageDeleted(repo.account, repo.region, call.now(), repo.name, digest, tags, "api", call.principal))


@operation(
    "UpdateImageStorageClass",
    notes="STANDARD to ARCHIVE at once; ARCHIVE to STANDARD through ACTIVATING, ACTIVE after 20 minutes of lab time",
)
def update_image_storage_class(call: Call) -> dict[str, Any]:
    """Archive an image or start restoring one (see :mod:`ecrlab.ecr.archive`).

    Moves ECR cannot make are refused with ImageStorageClassUpdateNotSupportedException (inferred: the
    model names the code, not the cases): archiving an image that is not ACTIVE, restoring one that is not
    ARCHIVED (a restore already under way included), and archiving an image that an ACTIVE image index
    lists (the index could no longer be pulled whole, as BatchDeleteImage refuses to break it).
    """
    repo = call.repository()
    image_id = call.params["imageId"]
    image, code, reason = find_image(repo, image_id)
    if image is None:
        if code == "ImageNotFound":
            raise ImageNotFoundException(image_id, repo.name, repo.account)
        raise InvalidParameterException(reason)
    target = call.params["targetStorageClass"]
    if target == "ARCHIVE":
        if image.status != ACTIVE:
            raise ImageStorageClassUpdateNotSupportedException(image.digest, image.status, target)
        parents = [d for d in _indexes_listing(repo, image.digest) if repo.images[d].active]
        if parents:
            raise ImageStorageClassUpdateNotSupportedException(
                image.digest,
                image.status,
                target,
                f"it is referenced by the active manifest list [{', '.join(parents)}]",
            )
        archive_image(image, call.now())
    else:
        if image.status != ARCHIVED:
            raise ImageStorageClassUpdateNotSupportedException(image.digest, image.status, target)
        start_restore(call.engine, repo, image, call.principal)
    out_id = {"imageDigest": image.digest}
    if image_id.get("imageTag"):
        out_id["imageTag"] = image_id["imageTag"]
    return {"registryId": repo.account, "repositoryName": repo.name, "imageId": out_id, "imageStatus": image.status}

"""Layer operations: the layer-upload API, layer availability and layer download URLs.

Blob bytes live in the engine's :class:`~ecrlab.ecr.blobstore.BlobStorage` (content-addressed per
registry); a repository *links* the blobs pushed or mounted into it, and only linked blobs exist for
it, as in real ECR where a layer pushed to one repository is not in another. The OCI data plane
shares all of this, so a layer uploaded with ``UploadLayerPart`` can be pulled with ``/v2/`` and the
other way round.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ecrlab.ecr.blobstore import BlobStore, parse_digest
from ecrlab.ecr.events import LayerUploaded
from ecrlab.ecr.model import Registry, Repository
from ecrlab.ecr.operations import Call, operation
from ecrlab.errors import (
    DigestMismatch,
    EmptyUploadException,
    InvalidLayerException,
    InvalidLayerPartException,
    InvalidParameterException,
    LayerAlreadyExistsException,
    LayerInaccessibleException,
    LayerPartTooSmallException,
    LayersNotFoundException,
    LimitExceededException,
    UploadNotFoundException,
    UploadUnknown,
)

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine

__all__ = [
    "DOWNLOAD_URL_LIFETIME",
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "PART_SIZE",
    "archived_layers",
    "blob_store",
    "copy_layer",
    "layer_links",
    "layer_media_types",
    "link_layer",
    "resolve_download",
    "upload_not_found",
]

PART_SIZE = 10 * 1024 * 1024  # the partSize InitiateLayerUpload advertises
MIN_PART_SIZE = 5 * 1024 * 1024  # every part but the last
MAX_PARTS = 4200
# Real ECR hands out pre-signed S3 URLs; how long they live is not documented (inferred: one hour).
DOWNLOAD_URL_LIFETIME = timedelta(hours=1)


def blob_store(call: Call) -> BlobStore:
    return call.engine.blobs.store(call.registry_id, call.region)


def layer_links(repo: Repository) -> dict[str, int]:
    """The blobs (digest -> size) that exist in ``repo``."""
    return repo.layers


def link_layer(repo: Repository, digest: str, size: int) -> None:
    layer_links(repo)[digest] = size


def copy_layer(engine: Engine, source: Repository, target: Repository, digest: str) -> None:
    """Make ``digest`` of ``source`` exist in ``target`` (another repository, account or region),
    streaming the bytes when the two live in different registries; for replication and the like.
    Callers hold ``engine.lock``."""
    size = layer_links(source)[digest]
    from_store = engine.blobs.store(source.account, source.region)
    to_store = engine.blobs.store(target.account, target.region)
    if not to_store.exists(digest):
        upload = to_store.start_upload(engine.new_id(), engine.clock.now(), target.name)
        with from_store.open(digest) as data:
            upload.append(iter(lambda: data.read(1 << 20), b""))
        to_store.commit(upload.id, digest, size)
    link_layer(target, digest, size)


def layer_media_types(repo: Repository) -> dict[str, str]:
    """digest -> mediaType of the config and layer blobs the images of ``repo`` reference.

    A blob carries no media type of its own (an upload is bytes); ECR reports the one the image
    manifests give it, so a blob no manifest references yet has none."""
    found: dict[str, str] = {}
    for image in repo.images.values():
        found.update(_blob_media_types(image.digest, image.manifest))
    return found


def archived_layers(repo: Repository) -> set[str]:
    """The blobs of ``repo`` that only archived (or still activating) images reference: ECR reports them
    ``ARCHIVED`` in BatchCheckLayerAvailability and will not hand out a download URL for them until one of
    those images is restored (inferred from the archived image being unpullable). A blob an ACTIVE image
    references, or no image at all, is not archived."""
    active: set[str] = set()
    archived: set[str] = set()
    for image in repo.images.values():
        (active if image.active else archived).update(_blob_media_types(image.digest, image.manifest))
    return archived - active


@lru_cache(maxsize=4096)
def _blob_media_types(digest: str, manifest: bytes) -> dict[str, str]:
    # Keyed by the manifest's digest too: the bytes are immutable for a digest, so the parse is cached.
    try:
        doc = json.loads(manifest)
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    descriptors = [doc.get("config"), *(doc.get("layers") or [])]
    return {
        d["digest"]: d["mediaType"]
        for d in descriptors
        if isinstance(d, dict) and isinstance(d.get("digest"), str) and isinstance(d.get("mediaType"), str)
    }


def upload_not_found(repo: Repository, upload_id: str) -> UploadNotFoundException:
    return UploadNotFoundException(
        f"Upload with id '{upload_id}' is not found in the repository with name '{repo.name}' "
        f"in the registry with id '{repo.account}'"
    )


def _uploads(repo: Repository) -> dict[str, list[int]]:
    """Layer-API uploads in progress in ``repo``: upload id -> sizes of the parts received."""
    return repo.layer_uploads


@operation("InitiateLayerUpload")
def initiate_layer_upload(call: Call) -> dict[str, Any]:
    repo = call.repository()
    upload_id = call.engine.new_id()
    blob_store(call).start_upload(upload_id, call.now())
    _uploads(repo)[upload_id] = []
    return {"uploadId": upload_id, "partSize": PART_SIZE}


def _upload_parts(call: Call, repo: Repository) -> list[int]:
    upload_id = call.params["uploadId"]
    parts = _uploads(repo).get(upload_id)
    if parts is None or blob_store(call).upload(upload_id) is None:
        raise upload_not_found(repo, upload_id)
    return parts


@operation("UploadLayerPart")
def upload_layer_part(call: Call) -> dict[str, Any]:
    p = call.params
    repo = call.repository()
    parts = _upload_parts(call, repo)
    upload = blob_store(call).upload(p["uploadId"])
    assert upload is not None  # _upload_parts checked it
    blob = p["layerPartBlob"]
    if isinstance(blob, str):  # the wire carries blobs as base64
        try:
            blob = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameterException(
                "Invalid parameter at 'layerPartBlob' failed to satisfy constraint: 'must be base64'"
            ) from None
    first, last = p["partFirstByte"], p["partLastByte"]
    if first != upload.offset:
        raise InvalidLayerPartException(
            f"The part's first byte {first} does not follow the last byte received "
            f"({upload.offset - 1}); parts must be uploaded in order",
            registryId=repo.account,
            repositoryName=repo.name,
            uploadId=upload.id,
            lastValidByteReceived=max(upload.offset - 1, 0),
        )
    if last < first or last - first + 1 != len(blob):
        raise InvalidLayerPartException(
            f"The part spans bytes {first}-{last} but {len(blob)} bytes were sent",
            registryId=repo.account,
            repositoryName=repo.name,
            uploadId=upload.id,
            lastValidByteReceived=max(upload.offset - 1, 0),
        )
    if len(parts) >= MAX_PARTS:
        raise LimitExceededException(f"An upload can have at most {MAX_PARTS} parts")
    upload.append([blob])
    parts.append(len(blob))
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "uploadId": upload.id,
        "lastByteReceived": upload.offset - 1,
    }


@operation("CompleteLayerUpload")
def complete_layer_upload(call: Call) -> dict[str, Any]:
    p = call.params
    repo = call.repository()
    parts = _upload_parts(call, repo)
    store = blob_store(call)
    upload_id = p["uploadId"]
    digest = p["layerDigests"][0]
    try:
        parse_digest(digest)
    except ValueError as exc:
        raise InvalidLayerException(f"Invalid layer digest {digest!r}: {exc}") from None
    if not parts or sum(parts) == 0:
        raise EmptyUploadException(f"The upload with id '{upload_id}' contains no layer parts")
    if any(size < MIN_PART_SIZE for size in parts[:-1]):
        raise LayerPartTooSmallException(
            f"Every layer part but the last must be at least {MIN_PART_SIZE} bytes (5 MiB)"
        )
    if digest in layer_links(repo):
        del _uploads(repo)[upload_id]
        try:
            store.cancel(upload_id)
        except UploadUnknown:
            raise upload_not_found(repo, upload_id) from None
        raise LayerAlreadyExistsException(
            f"The layer with digest '{digest}' already exists in the repository with name "
            f"'{repo.name}' in the registry with id '{repo.account}'"
        )
    size = sum(parts)
    del _uploads(repo)[upload_id]
    try:
        store.commit(upload_id, digest, size)
    except DigestMismatch as exc:
        raise InvalidLayerException(f"The layer digest {digest} does not match the uploaded content: {exc}") from None
    except UploadUnknown:
        raise upload_not_found(repo, upload_id) from None
    link_layer(repo, digest, size)
    call.emit(LayerUploaded(repo.account, repo.region, call.now(), repo.name, digest, size, call.principal))
    return {"registryId": repo.account, "repositoryName": repo.name, "uploadId": upload_id, "layerDigest": digest}


@operation("BatchCheckLayerAvailability")
def batch_check_layer_availability(call: Call) -> dict[str, Any]:
    repo = call.repository()
    links = layer_links(repo)
    media_types = layer_media_types(repo)
    archived = archived_layers(repo)
    layers, failures = [], []
    for digest in call.params["layerDigests"]:
        if not digest:
            failures.append(
                {
                    "layerDigest": digest,
                    "failureCode": "MissingLayerDigest",
                    "failureReason": "The layer digest is missing",
                }
            )
            continue
        try:
            parse_digest(digest)
        except ValueError as exc:
            failures.append({"layerDigest": digest, "failureCode": "InvalidLayerDigest", "failureReason": str(exc)})
            continue
        if digest in links:
            availability = "ARCHIVED" if digest in archived else "AVAILABLE"
            layer = {"layerDigest": digest, "layerAvailability": availability, "layerSize": links[digest]}
            if digest in media_types:
                layer["mediaType"] = media_types[digest]
            layers.append(layer)
        else:
            layers.append({"layerDigest": digest, "layerAvailability": "UNAVAILABLE"})
    return {"layers": layers, "failures": failures}


@operation("GetDownloadUrlForLayer")
def get_download_url_for_layer(call: Call) -> dict[str, Any]:
    """A URL that downloads the layer without further credentials, like ECR's pre-signed S3 URL.

    In the sandbox the URL points at the registry's own server (``/ecrlab-layers/<token>``) and stops
    working after :data:`DOWNLOAD_URL_LIFETIME` of lab time.
    """
    repo = call.repository()
    digest = call.params["layerDigest"]
    if digest not in layer_links(repo):
        raise LayersNotFoundException(
            f"The layer with digest '{digest}' does not exist in the repository with name "
            f"'{repo.name}' in the registry with id '{repo.account}'"
        )
    if digest in archived_layers(repo):
        raise LayerInaccessibleException(
            f"The layer with digest '{digest}' in the repository with name '{repo.name}' in the registry with id "
            f"'{repo.account}' belongs only to archived images; restore one of them to download it"
        )
    endpoint = call.engine.registry_endpoint
    if endpoint is None:
        raise InvalidParameterException("The sandbox's registry is not running, so no layer can be downloaded")
    token = call.engine.new_id().replace("-", "")
    call.registry.download_urls[token] = (repo.name, digest, call.now() + DOWNLOAD_URL_LIFETIME)
    host = endpoint(call.registry_id, call.region)
    return {"downloadUrl": f"http://{host}/ecrlab-layers/{token}", "layerDigest": digest}


def resolve_download(registry: Registry, token: str, now: datetime) -> tuple[str, str] | None:
    """(repository name, digest) for a live download token, else None."""
    entry = registry.download_urls.get(token)
    if entry is None or now >= entry[2]:
        return None
    repo = registry.repositories.get(entry[0])
    if repo is None or entry[1] not in layer_links(repo):
        return None
    return entry[0], entry[1]

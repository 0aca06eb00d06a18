"""Manifests by tag or digest: GET and HEAD (BatchGetImage), PUT (PutImage), DELETE (BatchDeleteImage).

The manifest's bytes are served exactly as pushed (the digest is their sha256), whatever the
``Accept`` header says, as real ECR does for anything it cannot convert. A manifest that names a
``subject`` answers its PUT with the ``OCI-Subject`` header, the registry's promise that the
referrers API lists it.
"""

from __future__ import annotations

from starlette.responses import Response

from ecrlab.ecr.jsonlimits import loads_bounded
from ecrlab.ecr.manifests import MAX_MANIFEST_BYTES
from ecrlab.errors import SerializationException
from ecrlab.oci import sha256_digest
from ecrlab.registry.context import API_VERSION_HEADER, Context
from ecrlab.registry.context import image_id as _image_id
from ecrlab.registry.errors import RegistryError

__all__ = ["delete", "get", "head", "put"]


def _answer(digest: str, media_type: str, body: bytes, head: bool) -> Response:
    headers = {
        **API_VERSION_HEADER,
        "Docker-Content-Digest": digest,
        "Content-Length": str(len(body)),
        "Content-Type": media_type,
    }
    return Response(b"" if head else body, 200, headers)


async def get(ctx: Context, args: dict[str, str]) -> Response:
    image_id = _image_id(args["reference"])
    found = await ctx.call("BatchGetImage", imageIds=[image_id])
    if not found["images"]:
        failure = found["failures"][0]
        raise RegistryError("MANIFEST_UNKNOWN", {**image_id, "reason": failure["failureReason"]})
    image = found["images"][0]
    body = image["imageManifest"].encode("utf-8")
    return _answer(image["imageId"]["imageDigest"], image["imageManifestMediaType"], body, head=False)


async def head(ctx: Context, args: dict[str, str]) -> Response:
    """Like GET but not a pull: authorized as BatchGetImage, records no pull time."""
    image_id = _image_id(args["reference"])
    await ctx.authorize("BatchGetImage", fallback="MANIFEST_INVALID", imageIds=[image_id])
    image, reason = await ctx.run(ctx.plane.find_manifest, ctx.name, image_id)
    if image is None:
        raise RegistryError("MANIFEST_UNKNOWN", {**image_id, "reason": reason})
    return _answer(image.digest, image.media_type, image.manifest, head=True)


async def _read_manifest(ctx: Context) -> bytes:
    declared = ctx.request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_MANIFEST_BYTES:
        raise RegistryError(
            "MANIFEST_INVALID", message=f"manifest exceeds the maximum size of {MAX_MANIFEST_BYTES} bytes", status=413
        )
    body = bytearray()
    async for chunk in ctx.request.stream():
        body += chunk
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(
                "MANIFEST_INVALID",
                message=f"manifest exceeds the maximum size of {MAX_MANIFEST_BYTES} bytes",
                status=413,
            )
    return bytes(body)


async def put(ctx: Context, args: dict[str, str]) -> Response:
    image_id = _image_id(args["reference"], pushing=True)
    raw = await _read_manifest(ctx)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RegistryError("MANIFEST_INVALID", message="the manifest is not UTF-8 JSON") from None
    if not text:
        raise RegistryError("MANIFEST_INVALID", message="the manifest is empty")
    try:
        # Bounded before the engine parses it: a hostile nesting depth is a client error, not a crash.
        loads_bounded(raw, max_bytes=MAX_MANIFEST_BYTES, what="manifest")
    except SerializationException as exc:
        raise RegistryError("MANIFEST_INVALID", {"reason": exc.code}, message=exc.message) from None
    params: dict[str, object] = {"imageManifest": text, **image_id}
    content_type = ctx.request.headers.get("content-type", "").split(";")[0].strip()
    if content_type and content_type != "application/octet-stream":
        params["imageManifestMediaType"] = content_type
    try:
        result = await ctx.call("PutImage", **params)
        digest = result["image"]["imageId"]["imageDigest"]
    except RegistryError as exc:
        # Pushing what is already there is not an error for a registry client (docker push twice).
        if not isinstance(exc.detail, dict) or exc.detail.get("ecrErrorCode") != "ImageAlreadyExistsException":
            raise
        digest = sha256_digest(raw)
    headers = {
        **API_VERSION_HEADER,
        "Location": f"/v2/{ctx.name}/manifests/{digest}",
        "Docker-Content-Digest": digest,
        "Content-Length": "0",
    }
    subject = await ctx.run(ctx.plane.subject_of, ctx.name, digest)
    if subject:
        headers["OCI-Subject"] = subject
    return Response(b"", 201, headers)


async def delete(ctx: Context, args: dict[str, str]) -> Response:
    """By digest: the image and its tags go. By tag: the tag goes, and with it the image if that
    was its last tag, as BatchDeleteImage does in ECR."""
    image_id = _image_id(args["reference"])
    result = await ctx.call("BatchDeleteImage", imageIds=[image_id])
    if result["failures"]:
        failure = result["failures"][0]
        raise RegistryError("MANIFEST_UNKNOWN", {**image_id, "reason": failure["failureReason"]})
    return Response(b"", 202, {**API_VERSION_HEADER, "Content-Length": "0"})

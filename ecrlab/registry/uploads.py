"""Blob uploads: monolithic (POST with ``digest``), chunked (POST, PATCH..., PUT), status, cancel,
and cross-repository mount.

Bodies stream from the socket into the upload's private file through a running sha256, so memory
stays flat; ``Transfer-Encoding: chunked`` bodies (skopeo sends them) arrive the same way. Each step
is authorized as the layer-upload action ECR checks for it (InitiateLayerUpload, UploadLayerPart,
CompleteLayerUpload). A blob is linked into the repository only after its digest and size verify.
"""

from __future__ import annotations

import re

from starlette.requests import ClientDisconnect
from starlette.responses import Response

from ecrlab.ecr.layers import layer_links, link_layer
from ecrlab.registry.app import API_VERSION_HEADER, Context
from ecrlab.registry.blobs import checked_digest
from ecrlab.registry.errors import RegistryError
from ecrlab.registry.storage import DigestMismatch, SizeMismatch, Upload

__all__ = ["cancel", "finish", "patch", "start", "status"]

_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/\d+|/\*)?$")


def _location(ctx: Context, upload: Upload) -> str:
    return f"/v2/{ctx.name}/blobs/uploads/{upload.id}"


def _progress(ctx: Context, upload: Upload, status: int) -> Response:
    return Response(
        b"",
        status,
        {
            **API_VERSION_HEADER,
            "Location": _location(ctx, upload),
            "Range": f"0-{max(upload.offset - 1, 0)}",
            "Docker-Upload-UUID": upload.id,
            "Content-Length": "0",
        },
    )


def _created(ctx: Context, digest: str) -> Response:
    return Response(
        b"",
        201,
        {
            **API_VERSION_HEADER,
            "Location": f"/v2/{ctx.name}/blobs/{digest}",
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        },
    )


def _declared_length(ctx: Context) -> int | None:
    value = ctx.request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise RegistryError("SIZE_INVALID", message=f"invalid Content-Length {value!r}")
    return int(value)


async def _receive(ctx: Context, upload: Upload) -> int:
    """Stream the request body onto the end of ``upload``. A client that disconnects mid-body
    loses the whole upload: nothing of it can be resumed or seen."""
    if upload.busy:
        raise RegistryError("BLOB_UPLOAD_INVALID", message="another request is writing to this upload", status=416)
    upload.busy = True
    writer = upload.writer()
    try:
        async for chunk in ctx.request.stream():
            writer.write(chunk)
    except ClientDisconnect:
        ctx.store.cancel(upload.id)
        raise
    finally:
        writer.close()
        upload.busy = False
    return writer.written


async def _commit(ctx: Context, upload: Upload, digest: str, size: int | None) -> Response:
    try:
        ctx.store.commit(upload.id, digest, size)
    except SizeMismatch as exc:
        raise RegistryError("SIZE_INVALID", {"digest": digest}, message=str(exc)) from None
    except DigestMismatch as exc:
        raise RegistryError("DIGEST_INVALID", {"digest": digest}, message=str(exc)) from None
    with ctx.engine.lock:
        link_layer(ctx.repository(), digest, ctx.store.size(digest))
    return _created(ctx, digest)


def _new_upload(ctx: Context) -> Upload:
    return ctx.store.start_upload(ctx.engine.new_id(), ctx.engine.clock.now(), ctx.name)


async def start(ctx: Context, args: dict[str, str]) -> Response:
    query = ctx.request.query_params
    if "mount" in query:
        mounted = await _mount(ctx, checked_digest(query["mount"]), query.get("from"))
        if mounted is not None:
            return mounted
    digest = query.get("digest")
    if digest is not None:
        digest = checked_digest(digest)
    await ctx.authorize("InitiateLayerUpload")
    upload = _new_upload(ctx)
    if digest is None:
        return _progress(ctx, upload, 202)
    # Monolithic upload: the whole blob in this one request.
    await ctx.authorize("UploadLayerPart", **_part_params(upload, 0))
    declared = _declared_length(ctx)
    await _receive(ctx, upload)
    await ctx.authorize("CompleteLayerUpload", uploadId=upload.id, layerDigests=[digest])
    return await _commit(ctx, upload, digest, declared)


async def _mount(ctx: Context, digest: str, source: str | None) -> Response | None:
    """Link a blob another repository of this registry holds; None (so a plain upload starts) when
    it cannot be mounted, as the spec asks."""
    if not source or source == ctx.name:
        return None
    await ctx.authorize("InitiateLayerUpload")
    try:
        source_ctx = Context(ctx.engine, ctx.account, ctx.region, ctx.principal, source, ctx.request, ctx.user_agent)
        await source_ctx.authorize("GetDownloadUrlForLayer", layerDigest=digest)
    except RegistryError:
        return None
    with ctx.engine.lock:
        try:
            size = layer_links(source_ctx.repository()).get(digest)
        except RegistryError:
            return None
        if size is None or not ctx.store.exists(digest):
            return None
        link_layer(ctx.repository(), digest, size)
    return _created(ctx, digest)


def _part_params(upload: Upload, length: int) -> dict[str, object]:
    return {
        "uploadId": upload.id,
        "partFirstByte": upload.offset,
        "partLastByte": upload.offset + max(length - 1, 0),
        "layerPartBlob": b"",
    }


def _upload(ctx: Context, upload_id: str) -> Upload:
    upload = ctx.store.upload(upload_id)
    if upload is None or upload.repository != ctx.name:
        raise RegistryError("BLOB_UPLOAD_UNKNOWN", {"uploadId": upload_id})
    return upload


async def status(ctx: Context, args: dict[str, str]) -> Response:
    await ctx.authorize("InitiateLayerUpload")
    return _progress(ctx, _upload(ctx, args["upload"]), 204)


async def patch(ctx: Context, args: dict[str, str]) -> Response:
    upload = _upload(ctx, args["upload"])
    declared = _declared_length(ctx)
    content_range = ctx.request.headers.get("content-range")
    if content_range is not None:
        match = _CONTENT_RANGE.match(content_range.strip())
        if match is None:
            raise RegistryError("BLOB_UPLOAD_INVALID", message=f"invalid Content-Range {content_range!r}", status=416)
        first, last = int(match[1]), int(match[2])
        # A chunk must start where the upload ends: a repeated or skipped chunk is refused with 416,
        # and the client can ask GET for where to resume.
        if first != upload.offset or last < first:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                message=f"chunk {first}-{last} does not start at offset {upload.offset}",
                status=416,
                headers={"Location": _location(ctx, upload), "Range": f"0-{max(upload.offset - 1, 0)}"},
            )
        if declared is not None and declared != last - first + 1:
            raise RegistryError("SIZE_INVALID", message="Content-Length does not match Content-Range")
    await ctx.authorize("UploadLayerPart", **_part_params(upload, declared or 0))
    await _receive(ctx, upload)
    return _progress(ctx, upload, 202)


async def finish(ctx: Context, args: dict[str, str]) -> Response:
    upload = _upload(ctx, args["upload"])
    digest = ctx.request.query_params.get("digest")
    if not digest:
        raise RegistryError("DIGEST_INVALID", message="the digest query parameter is required to close an upload")
    digest = checked_digest(digest)
    declared = _declared_length(ctx)
    if declared:
        await ctx.authorize("UploadLayerPart", **_part_params(upload, declared))
    await ctx.authorize("CompleteLayerUpload", uploadId=upload.id, layerDigests=[digest])
    before = upload.offset
    await _receive(ctx, upload)
    if declared is not None and upload.offset - before != declared:
        ctx.store.cancel(upload.id)
        raise RegistryError("SIZE_INVALID", message="the body is not as long as its Content-Length")
    return await _commit(ctx, upload, digest, None)


async def cancel(ctx: Context, args: dict[str, str]) -> Response:
    upload = _upload(ctx, args["upload"])
    await ctx.authorize("InitiateLayerUpload")
    ctx.store.cancel(upload.id)
    return Response(b"", 204, {**API_VERSION_HEADER, "Content-Length": "0"})

"""Blob uploads: monolithic (POST with ``digest``), chunked (POST, PATCH..., PUT), status, cancel,
and cross-repository mount.

Bodies stream from the socket into the upload's private file through a running sha256, so memory
stays flat; ``Transfer-Encoding: chunked`` bodies (skopeo sends them) arrive the same way. Each step
is authorized as the layer-upload action ECR checks for it (InitiateLayerUpload, UploadLayerPart,
CompleteLayerUpload). Which upload exists, when a blob is verified, linked or mounted is the
engine's (:class:`~ecrlab.ecr.dataplane.DataPlane`); this module translates HTTP.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from ecrlab.ecr.blobstore import Upload
from ecrlab.errors import DigestMismatch, SizeMismatch, UploadBusy, UploadNotFoundException
from ecrlab.registry.context import API_VERSION_HEADER, Context, checked_digest
from ecrlab.registry.errors import RegistryError

__all__ = ["cancel", "finish", "patch", "start", "status"]

_CONTENT_RANGE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/\d+|/\*)?")


def _location(ctx: Context, upload: Upload) -> str:
    return f"/v2/{ctx.name}/blobs/uploads/{upload.id}"


def _resume_headers(ctx: Context, upload: Upload) -> dict[str, str]:
    return {"Location": _location(ctx, upload), "Range": f"0-{max(upload.offset - 1, 0)}"}


def _progress(ctx: Context, upload: Upload, status: int) -> Response:
    headers = {**API_VERSION_HEADER, **_resume_headers(ctx, upload), "Docker-Upload-UUID": upload.id}
    return Response(b"", status, {**headers, "Content-Length": "0"})


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


async def _receive(ctx: Context, upload: Upload, expected: int | None = None) -> int:
    """Stream the request body onto the end of ``upload``.

    With ``expected`` (a chunk's ``Content-Range`` length) a body of any other length is refused
    with 416 and undone, so the client can resume from the upload's offset. A client that
    disconnects mid-body loses the whole upload: nothing of it can be resumed or seen."""
    try:
        writer = upload.writer()
    except UploadBusy:
        raise RegistryError(
            "BLOB_UPLOAD_INVALID", message="another request is writing to this upload", status=416
        ) from None
    try:
        async for chunk in ctx.request.stream():
            writer.write(chunk)
            if expected is not None and writer.written > expected:
                break
        if expected is not None and writer.written != expected:
            got = f"more than {expected}" if writer.written > expected else str(writer.written)
            writer.rollback()
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                message=f"the chunk's body holds {got} bytes but its Content-Range says {expected}",
                status=416,
                headers=_resume_headers(ctx, upload),
            )
    except ClientDisconnect:
        writer.close()
        await _discard(ctx, upload)
        raise
    finally:
        writer.close()
    return writer.written


async def _discard(ctx: Context, upload: Upload) -> None:
    try:
        await run_in_threadpool(ctx.plane.cancel_upload, ctx.name, upload.id)
    except UploadNotFoundException:
        pass  # cancelled or finished meanwhile: gone either way


async def _commit(ctx: Context, upload: Upload, digest: str, size: int | None) -> Response:
    try:
        await ctx.run(
            ctx.plane.finish_upload, ctx.name, upload.id, digest, ctx.principal, size, fallback="BLOB_UPLOAD_INVALID"
        )
    except SizeMismatch as exc:
        raise RegistryError("SIZE_INVALID", {"digest": digest}, message=str(exc)) from None
    except DigestMismatch as exc:
        raise RegistryError("DIGEST_INVALID", {"digest": digest}, message=str(exc)) from None
    return _created(ctx, digest)


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
    upload = await ctx.run(ctx.plane.start_upload, ctx.name)
    if digest is None:
        return _progress(ctx, upload, 202)
    # Monolithic upload: the whole blob in this one request.
    await ctx.authorize("UploadLayerPart", **_part_params(upload, 0))
    declared = _declared_length(ctx)
    await _receive(ctx, upload)
    await ctx.authorize("CompleteLayerUpload", uploadId=upload.id, layerDigests=[digest])
    return await _commit(ctx, upload, digest, declared)


async def _mount(ctx: Context, digest: str, source: str | None) -> Response | None:
    """Link a blob another repository of this registry holds; None (so a plain upload starts, 202)
    when it cannot be mounted, as the spec allows: BLOB_MOUNTING disabled, no such source or blob,
    or the source not readable by the caller (ECR checks GetDownloadUrlForLayer on it)."""
    if not source or source == ctx.name:
        return None
    await ctx.authorize("InitiateLayerUpload")
    try:
        await ctx.for_repository(source).authorize("GetDownloadUrlForLayer", layerDigest=digest)
    except RegistryError:
        return None
    if await ctx.run(ctx.plane.mount, ctx.name, source, digest, ctx.principal) is None:
        return None
    return _created(ctx, digest)


def _part_params(upload: Upload, length: int) -> dict[str, object]:
    return {
        "uploadId": upload.id,
        "partFirstByte": upload.offset,
        "partLastByte": upload.offset + max(length - 1, 0),
        "layerPartBlob": b"",
    }


async def _upload(ctx: Context, upload_id: str) -> Upload:
    upload: Upload = await ctx.run(ctx.plane.upload, ctx.name, upload_id)
    return upload


async def status(ctx: Context, args: dict[str, str]) -> Response:
    await ctx.authorize("InitiateLayerUpload")
    return _progress(ctx, await _upload(ctx, args["upload"]), 204)


async def patch(ctx: Context, args: dict[str, str]) -> Response:
    upload = await _upload(ctx, args["upload"])
    declared = _declared_length(ctx)
    expected = None
    content_range = ctx.request.headers.get("content-range")
    if content_range is not None:
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
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
                headers=_resume_headers(ctx, upload),
            )
        expected = last - first + 1
        if declared is not None and declared != expected:
            raise RegistryError(
                "BLOB_UPLOAD_INVALID",
                message=f"Content-Length {declared} contradicts Content-Range {content_range!r}",
                status=416,
                headers=_resume_headers(ctx, upload),
            )
    await ctx.authorize("UploadLayerPart", **_part_params(upload, expected or declared or 0))
    await _receive(ctx, upload, expected)
    return _progress(ctx, upload, 202)


async def finish(ctx: Context, args: dict[str, str]) -> Response:
    upload = await _upload(ctx, args["upload"])
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
        await _discard(ctx, upload)
        raise RegistryError("SIZE_INVALID", message="the body is not as long as its Content-Length")
    return await _commit(ctx, upload, digest, None)


async def cancel(ctx: Context, args: dict[str, str]) -> Response:
    upload = await _upload(ctx, args["upload"])
    await ctx.authorize("InitiateLayerUpload")
    await ctx.run(ctx.plane.cancel_upload, ctx.name, upload.id, fallback="BLOB_UPLOAD_UNKNOWN")
    return Response(b"", 204, {**API_VERSION_HEADER, "Content-Length": "0"})

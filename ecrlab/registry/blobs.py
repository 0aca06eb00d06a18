"""Blobs: HEAD and GET (streamed from disk), DELETE (refused: ECR has no blob deletion), and the
layer download URLs of the API."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from ecrlab.ecr.dataplane import DataPlane
from ecrlab.registry.context import API_VERSION_HEADER, Context, checked_digest
from ecrlab.registry.errors import RegistryError

__all__ = ["delete", "download", "get", "head"]

CHUNK = 1 << 20


async def _linked_size(ctx: Context, digest: str) -> int:
    size = await ctx.run(ctx.plane.blob_size, ctx.name, digest)
    if size is None:
        raise RegistryError("BLOB_UNKNOWN", {"digest": digest})
    return size


def _headers(digest: str, size: int) -> dict[str, str]:
    return {
        **API_VERSION_HEADER,
        "Docker-Content-Digest": digest,
        "Content-Length": str(size),
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
    }


async def head(ctx: Context, args: dict[str, str]) -> Response:
    digest = checked_digest(args["digest"])
    await ctx.authorize("BatchCheckLayerAvailability", layerDigests=[digest])
    size = await _linked_size(ctx, digest)
    return Response(b"", 200, _headers(digest, size))


async def _stream(plane: DataPlane, digest: str, start: int, length: int) -> AsyncIterator[bytes]:
    handle = await run_in_threadpool(plane.open_blob, digest)
    try:
        handle.seek(start)
        left = length
        while left > 0:
            chunk = await run_in_threadpool(handle.read, min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _blob_response(plane: DataPlane, digest: str, size: int, range_header: str | None) -> Response:
    headers = _headers(digest, size)
    if range_header:
        start, end = _range(range_header, size)
        headers.update({"Content-Length": str(end - start + 1), "Content-Range": f"bytes {start}-{end}/{size}"})
        return StreamingResponse(_stream(plane, digest, start, end - start + 1), 206, headers)
    return StreamingResponse(_stream(plane, digest, 0, size), 200, headers)


def _range(value: str, size: int) -> tuple[int, int]:
    unit, _, spec = value.partition("=")
    first, _, last = spec.partition("-")
    try:
        start = int(first) if first else max(size - int(last), 0)
        end = int(last) if first and last else size - 1
    except ValueError:
        start, end = -1, -1
    if unit.strip() != "bytes" or "," in spec or start < 0 or start > end or start >= size:
        raise RegistryError(
            "BLOB_UNKNOWN",
            message=f"range {value!r} cannot be satisfied",
            status=416,
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, min(end, size - 1)


async def get(ctx: Context, args: dict[str, str]) -> Response:
    digest = checked_digest(args["digest"])
    await ctx.authorize("GetDownloadUrlForLayer", layerDigest=digest)
    size = await _linked_size(ctx, digest)
    return _blob_response(ctx.plane, digest, size, ctx.request.headers.get("range"))


async def delete(ctx: Context, args: dict[str, str]) -> Response:
    """ECR has no API that deletes a layer (one deleted on request would strand the images that use
    it): ECR removes layers itself once no image needs them. The spec lets a registry refuse blob
    deletion with 405 UNSUPPORTED, as here; images go with BatchDeleteImage or a manifest DELETE."""
    raise RegistryError(
        "UNSUPPORTED",
        {"digest": args["digest"]},
        message="ECR does not delete blobs; delete the image (manifest DELETE or BatchDeleteImage) instead",
        headers={"Allow": "GET, HEAD"},
    )


async def download(plane: DataPlane, token: str) -> Response:
    """A URL from GetDownloadUrlForLayer: the token is the credential, as in a pre-signed URL."""
    found = await run_in_threadpool(plane.resolve_download, token)
    if found is None:
        raise RegistryError("DENIED", message="the download URL is unknown or has expired", status=403)
    digest, size = found
    return _blob_response(plane, digest, size, None)

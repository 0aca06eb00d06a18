"""Blobs: HEAD and GET (streamed from disk), DELETE, and the layer download URLs of the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from ecrlab.ecr.layers import layer_links, resolve_download
from ecrlab.registry.app import API_VERSION_HEADER, Context
from ecrlab.registry.errors import RegistryError
from ecrlab.registry.storage import BlobStore, parse_digest

if TYPE_CHECKING:
    from ecrlab.registry.app import RegistryApp

__all__ = ["delete", "download", "get", "head"]

CHUNK = 1 << 20


def checked_digest(value: str) -> str:
    try:
        return parse_digest(value)
    except ValueError as exc:
        raise RegistryError("DIGEST_INVALID", {"digest": value}, message=str(exc)) from None


def _linked_size(ctx: Context, digest: str) -> int:
    with ctx.engine.lock:
        size = layer_links(ctx.repository()).get(digest)
    if size is None or not ctx.store.exists(digest):
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
    size = _linked_size(ctx, digest)
    return Response(b"", 200, _headers(digest, size))


async def _stream(store: BlobStore, digest: str, start: int, length: int) -> AsyncIterator[bytes]:
    handle = store.open(digest)
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


def _blob_response(store: BlobStore, digest: str, size: int, range_header: str | None) -> Response:
    headers = _headers(digest, size)
    if range_header:
        start, end = _range(range_header, size)
        headers.update({"Content-Length": str(end - start + 1), "Content-Range": f"bytes {start}-{end}/{size}"})
        return StreamingResponse(_stream(store, digest, start, end - start + 1), 206, headers)
    return StreamingResponse(_stream(store, digest, 0, size), 200, headers)


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
    size = _linked_size(ctx, digest)
    return _blob_response(ctx.store, digest, size, ctx.request.headers.get("range"))


async def delete(ctx: Context, args: dict[str, str]) -> Response:
    """Unlink a blob from the repository (202). ECR has no blob-deletion API; the spec's DELETE is
    allowed here under the ``ecr:BatchDeleteImage`` permission, the nearest ECR action."""
    digest = checked_digest(args["digest"])
    await ctx.authorize("BatchDeleteImage", imageIds=[{"imageDigest": digest}])
    with ctx.engine.lock:
        if layer_links(ctx.repository()).pop(digest, None) is None:
            raise RegistryError("BLOB_UNKNOWN", {"digest": digest})
    return Response(b"", 202, {**API_VERSION_HEADER, "Content-Length": "0"})


async def download(app: RegistryApp, token: str) -> Response:
    """A URL from GetDownloadUrlForLayer: the token is the credential, as in a pre-signed URL."""
    engine = app.engine
    with engine.lock:
        found = resolve_download(engine.registry(app.account, app.region), token, engine.clock.now())
    if found is None:
        raise RegistryError("DENIED", message="the download URL is unknown or has expired", status=403)
    _, digest = found
    store = engine.blobs.store(app.account, app.region)
    return _blob_response(store, digest, store.size(digest), None)

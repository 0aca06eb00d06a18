"""What every handler shares: the request's context, JSON answers and the reference parsers.

The handler modules import this module and :mod:`ecrlab.registry.errors`; :mod:`ecrlab.registry.app`
imports the handlers. Nothing here imports a handler or the app, so the imports run one way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ecrlab.ecr.blobstore import parse_digest
from ecrlab.ecr.dataplane import DataPlane
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.model import Principal
from ecrlab.errors import ServiceError
from ecrlab.registry.errors import RegistryError, from_service_error

__all__ = [
    "API_VERSION_HEADER",
    "Context",
    "Handler",
    "checked_digest",
    "has_control_characters",
    "image_id",
    "json_response",
]

API_VERSION_HEADER = {"Docker-Distribution-API-Version": "registry/2.0"}

# The OCI tag grammar (fullmatch: ``$`` would accept a trailing newline).
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
# Percent-decoded control characters (%0A, %0D, %09, ...) that no name, tag or digest may hold.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Context:
    """One authenticated request: who asks, which registry, which repository."""

    plane: DataPlane
    principal: Principal
    name: str
    request: Request
    user_agent: str = ""

    @property
    def engine(self) -> Engine:
        return self.plane.engine

    @property
    def account(self) -> str:
        return self.plane.account

    @property
    def region(self) -> str:
        return self.plane.region

    @property
    def source_ip(self) -> str:
        """The client's address, for the event record and ``aws:SourceIp`` conditions."""
        return self.request.client.host if self.request.client else "127.0.0.1"

    def for_repository(self, name: str) -> Context:
        """The same request, acting on another repository of the registry (a mount's source)."""
        return replace(self, name=name)

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"registryId": self.account, "repositoryName": self.name, **extra}

    async def call(self, operation: str, fallback: str = "MANIFEST_INVALID", **params: Any) -> dict[str, Any]:
        """Run an ECR operation for this request, off the event loop (the engine holds a lock)."""
        try:
            return await run_in_threadpool(
                self.engine.call,
                operation,
                self.params(**params),
                self.principal,
                self.region,
                source="registry",
                source_ip=self.source_ip,
                user_agent=self.user_agent,
            )
        except ServiceError as exc:
            raise from_service_error(exc, fallback) from None

    async def authorize(self, operation: str, fallback: str = "NAME_INVALID", **params: Any) -> None:
        """Decide (and record) an action the registry carries out itself, then make sure the
        repository exists: ECR answers NAME_UNKNOWN, pushes never create repositories."""

        def run() -> None:
            self.engine.authorize(
                operation,
                self.params(**params),
                self.principal,
                self.region,
                source_ip=self.source_ip,
                user_agent=self.user_agent,
            )
            self.engine.repository(self.account, self.region, self.name)

        try:
            await run_in_threadpool(run)
        except ServiceError as exc:
            raise from_service_error(exc, fallback) from None

    async def run(self, function: Callable[..., Any], *args: Any, fallback: str = "NAME_INVALID") -> Any:
        """Run a :class:`DataPlane` method off the event loop (it takes the engine's lock), with
        engine errors turned into the catalogue's."""
        try:
            return await run_in_threadpool(function, *args)
        except ServiceError as exc:
            raise from_service_error(exc, fallback) from None


Handler = Callable[[Context, dict[str, str]], Awaitable[Response]]


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    return Response(json.dumps(body), status, {**API_VERSION_HEADER, **(headers or {})}, media_type=media_type)


def checked_digest(value: str) -> str:
    """``value`` if it is a digest the registry can hold, else DIGEST_INVALID saying why."""
    try:
        return parse_digest(value)
    except ValueError as exc:
        raise RegistryError("DIGEST_INVALID", {"digest": value}, message=str(exc)) from None


def image_id(reference: str, pushing: bool = False) -> dict[str, str]:
    """The ImageIdentifier a manifest reference names.

    A reference with a control character in it (an encoded CR, LF or TAB) is refused outright
    (TAG_INVALID): it must never be trimmed into another, valid tag. Any other tag outside the OCI
    grammar cannot be pushed (TAG_INVALID) and so cannot exist: reading or deleting it is
    MANIFEST_UNKNOWN, as the conformance suite expects."""
    if _CONTROL.search(reference):
        raise RegistryError(
            "TAG_INVALID", {"reference": reference}, message=f"invalid reference {reference!r}: control characters"
        )
    if ":" in reference:
        return {"imageDigest": checked_digest(reference)}
    if not _TAG.fullmatch(reference):
        if pushing:
            raise RegistryError("TAG_INVALID", {"tag": reference}, message=f"invalid tag {reference!r}")
        raise RegistryError("MANIFEST_UNKNOWN", {"tag": reference}, message=f"no manifest is tagged {reference!r}")
    return {"imageTag": reference}


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None

"""The registry's ASGI application: routing, ECR's Basic authentication, and error answers.

One handler module per resource (``blobs``, ``uploads``, ``manifests``, ``tags``, ``referrers``);
this module finds the route, checks the credentials and turns errors into the OCI error body.
Repository names hold slashes, so routes are matched by anchored patterns on the path's tail.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ecrlab.ecr.auth import principal_for_password
from ecrlab.ecr.dataplane import DataPlane
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.model import Principal, registry_host
from ecrlab.ecr.params import service_model
from ecrlab.errors import ExpiredTokenError, TokenError
from ecrlab.registry import blobs, manifests, referrers, tags, uploads
from ecrlab.registry.context import API_VERSION_HEADER, Context, Handler, has_control_characters, json_response
from ecrlab.registry.errors import RegistryError

__all__ = ["RegistryApp"]

log = logging.getLogger(__name__)

# ECR's words for an expired token (docker prints them as "denied: Your authorization token has expired...").
EXPIRED_TOKEN_MESSAGE = "Your authorization token has expired. Reauthenticate and try again."


def _name_pattern() -> re.Pattern[str]:
    shape = service_model().shape_for("RepositoryName")
    return re.compile(shape.metadata["pattern"])


class RegistryApp:
    """The ASGI app of one registry (account, region)."""

    def __init__(self, engine: Engine, account: str, region: str) -> None:
        self.engine, self.account, self.region = engine, account, region
        self.plane = DataPlane(engine, account, region)
        self.realm = f"https://{registry_host(account, region)}/"
        self._name = _name_pattern()
        # (tail pattern after /v2/<name>/, {method: handler}); first match wins.
        self.routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
            (re.compile(r"blobs/uploads/?"), {"POST": uploads.start}),
            (
                re.compile(r"blobs/uploads/(?P<upload>[^/]+)"),
                {"GET": uploads.status, "PATCH": uploads.patch, "PUT": uploads.finish, "DELETE": uploads.cancel},
            ),
            (re.compile(r"blobs/(?P<digest>[^/]+)"), {"GET": blobs.get, "HEAD": blobs.head, "DELETE": blobs.delete}),
            (
                re.compile(r"manifests/(?P<reference>[^/]+)"),
                {"GET": manifests.get, "HEAD": manifests.head, "PUT": manifests.put, "DELETE": manifests.delete},
            ),
            (re.compile(r"tags/list"), {"GET": tags.list_tags}),
            (re.compile(r"referrers/(?P<digest>[^/]+)"), {"GET": referrers.list_referrers}),
        ]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # uvicorn runs it with lifespan off: http is all there is
            return
        request = Request(scope, receive)
        try:
            response = await self._dispatch(request)
        except RegistryError as exc:
            headers = {**API_VERSION_HEADER, **exc.headers}
            body = b"" if request.method == "HEAD" else json.dumps(exc.body()).encode()
            response = Response(body, exc.status, headers, media_type="application/json")
        except ClientDisconnect:
            return  # the client went away mid-body; what it sent was discarded by the handler
        except Exception:  # a bug in ecrlab, never the client's input
            log.exception("ecrlab registry failed on %s %r", request.method, request.scope["path"])
            response = json_response(
                {"errors": [{"code": "UNKNOWN", "message": "ecrlab failed; see the lab's log"}]}, 500
            )
        await response(scope, receive, send)

    async def _dispatch(self, request: Request) -> Response:
        # The decoded path as the server received it. Not request.url.path: that goes through
        # urllib's urlsplit, which silently drops TAB, CR and LF, so ".../manifests/v1%0A" would name "v1".
        path: str = request.scope["path"]
        if path.startswith("/ecrlab-layers/"):
            return await blobs.download(self.plane, path[len("/ecrlab-layers/") :])
        if path in ("/v2", "/v2/"):
            await self._principal(request)
            return json_response({})
        if not path.startswith("/v2/"):
            raise RegistryError("UNSUPPORTED", message="not an OCI Distribution endpoint", status=404)
        rest = path[len("/v2/") :]
        for pattern, methods in self.routes:
            for match in _tail_matches(pattern, rest):
                name = rest[: match.start()].rstrip("/")
                if not name:
                    continue
                principal = await self._principal(request)
                if has_control_characters(name) or not self._name.fullmatch(name) or not 2 <= len(name) <= 256:
                    raise RegistryError(
                        "NAME_INVALID",
                        {"name": name},
                        message=f"invalid repository name {name!r}: ECR names are 2-256 lowercase characters",
                    )
                handler = methods.get(request.method)
                if handler is None:
                    raise RegistryError(
                        "UNSUPPORTED",
                        message=f"{request.method} is not allowed here",
                        headers={"Allow": ", ".join(methods)},
                    )
                context = Context(self.plane, principal, name, request, request.headers.get("user-agent", ""))
                return await handler(context, match.groupdict())
        raise RegistryError("UNSUPPORTED", message=f"no such endpoint: {path}", status=404)

    async def _principal(self, request: Request) -> Principal:
        """The principal the Basic credentials' password was issued to, or 401 with the challenge."""
        challenge = {"WWW-Authenticate": f'Basic realm="{self.realm}",service="ecr.amazonaws.com"'}
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value:
            raise RegistryError(
                "UNAUTHORIZED",
                message="authentication required: log in with the password from GetAuthorizationToken (user AWS)",
                headers=challenge,
            )
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise RegistryError("UNAUTHORIZED", message="malformed Basic credentials", headers=challenge) from None
        if user != "AWS":
            raise RegistryError("UNAUTHORIZED", message="the user name must be AWS", headers=challenge)
        try:
            return principal_for_password(self.engine, password)
        except ExpiredTokenError:
            # ECR answers an expired token with 403 and no challenge: logging in again is the fix.
            raise RegistryError("DENIED", message=EXPIRED_TOKEN_MESSAGE) from None
        except TokenError as exc:
            raise RegistryError(
                "UNAUTHORIZED", message=f"your authorization token is invalid: {exc}", headers=challenge
            ) from None


def _tail_matches(pattern: re.Pattern[str], rest: str) -> list[re.Match[str]]:
    """Matches of ``pattern`` that end the path and start right after a '/' (the name's end)."""
    out = []
    for start in range(len(rest)):
        if start > 0 and rest[start - 1] == "/":
            match = pattern.fullmatch(rest, start)
            if match:
                out.append(match)
    return out

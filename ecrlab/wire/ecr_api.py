"""ECR's API in moto: every ECR request, in-process or through the server, goes to the engine.

moto routes ECR requests through the handler in ``moto.ecr.urls.url_paths["{0}/$"]``, which it reads
at request time in-process (botocore stubber) and when its threaded server builds the ECR app. This
module replaces that one handler and does nothing else: it speaks ECR's JSON 1.1 wire format (the
``X-Amz-Target`` header names the operation) and leaves every rule to the engine.
``tests/ecr/test_wire.py`` walks every operation of botocore's model through it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ecrlab.ecr.engine import Engine
from ecrlab.ecr.jsonlimits import loads_bounded
from ecrlab.ecr.model import Principal
from ecrlab.ecr.params import MAX_REQUEST_BYTES, request_object
from ecrlab.errors import ServerException, ServiceError

__all__ = ["EcrWire", "install", "json_default"]

log = logging.getLogger(__name__)

TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")

Resolver = Callable[[str, str | None], Principal]


def json_default(value: Any) -> Any:
    """JSON 1.1 carries timestamps as epoch seconds and blobs as base64."""
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot encode {type(value).__name__}")


class EcrWire:
    """Holds the lab the ECR traffic goes to; ``dispatch`` is moto's handler signature."""

    engine: Engine | None = None
    resolve: Resolver | None = None

    @classmethod
    def dispatch(cls, request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
        target = headers.get("X-Amz-Target") or headers.get("x-amz-target") or ""
        operation = target.removeprefix(TARGET_PREFIX)
        try:
            if cls.engine is None or cls.resolve is None:
                raise ServerException("No ecrlab sandbox is running in this process: call ecrlab.start() first")
            params = _body(request)
            auth = headers.get("Authorization") or headers.get("authorization") or ""
            match = _CREDENTIAL.search(auth)
            access_key, region = (match.group(1), match.group(2)) if match else ("", "us-east-1")
            token = headers.get("X-Amz-Security-Token") or headers.get("x-amz-security-token")
            principal = cls.resolve(access_key, token)
            response = cls.engine.call(
                operation,
                params,
                principal,
                region,
                source_ip=_remote_addr(request),
                user_agent=headers.get("User-Agent", ""),
            )
            return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(response, default=json_default)
        except ServiceError as exc:
            return _error(exc)
        except Exception as exc:  # a bug in ecrlab: say so in AWS's shape rather than crash the client
            log.exception("ecrlab failed on ECR %s", operation)
            return _error(ServerException(f"ecrlab failed on {operation}: {type(exc).__name__}: {exc}"))


def _error(exc: ServiceError) -> tuple[int, dict[str, str], str]:
    body = {"__type": exc.code, "message": exc.message, **exc.context}
    return (
        exc.status,
        {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": exc.code},
        json.dumps(body, default=json_default),
    )


def _body(request: Any) -> dict[str, Any]:
    raw = request.body if hasattr(request, "body") else request.get_data()
    if hasattr(raw, "read"):
        raw = raw.read()
    if not raw:
        return {}
    return request_object(loads_bounded(raw, max_bytes=MAX_REQUEST_BYTES, what="request body"))


def _remote_addr(request: Any) -> str:
    return getattr(request, "remote_addr", None) or "127.0.0.1"


_installed = False


def install(engine: Engine, resolve: Resolver) -> None:
    """Point moto's ECR route at ``engine`` (idempotent; one lab per process at a time)."""
    global _installed
    import moto.ecr.urls

    EcrWire.engine, EcrWire.resolve = engine, resolve
    if not _installed:
        moto.ecr.urls.url_paths["{0}/$"] = EcrWire.dispatch
        _installed = True


def uninstall() -> None:
    """Send ECR requests nowhere again (they answer ServerException until the next lab installs)."""
    EcrWire.engine, EcrWire.resolve = None, None

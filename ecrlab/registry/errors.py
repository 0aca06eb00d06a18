"""The OCI Distribution error catalogue (code, message, HTTP status) and how ECR's errors map onto it.

A registry error answers ``{"errors": [{"code", "message", "detail"}]}`` with the catalogue's status,
as CNCF Distribution does. Engine errors (named after ECR's API codes) are translated here, in one
table, so the data plane and the API always agree on what went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecrlab.errors import EcrlabError, ServiceError

__all__ = ["CATALOGUE", "RegistryError", "from_service_error"]


@dataclass(frozen=True)
class ErrorKind:
    code: str
    message: str
    status: int


_KINDS = [
    ErrorKind("BLOB_UNKNOWN", "blob unknown to registry", 404),
    ErrorKind("BLOB_UPLOAD_INVALID", "blob upload invalid", 400),
    ErrorKind("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", 404),
    ErrorKind("DENIED", "requested access to the resource is denied", 403),
    ErrorKind("DIGEST_INVALID", "provided digest did not match uploaded content", 400),
    ErrorKind("MANIFEST_BLOB_UNKNOWN", "manifest references a manifest or blob unknown to registry", 400),
    ErrorKind("MANIFEST_INVALID", "manifest invalid", 400),
    ErrorKind("MANIFEST_UNKNOWN", "manifest unknown to registry", 404),
    ErrorKind("NAME_INVALID", "invalid repository name", 400),
    ErrorKind("NAME_UNKNOWN", "repository name not known to registry", 404),
    ErrorKind("SIZE_INVALID", "provided length did not match content length", 400),
    # Not in the OCI table but answered by CNCF Distribution and by ECR (immutable tags).
    ErrorKind("TAG_INVALID", "manifest tag did not match URI", 400),
    ErrorKind("TOOMANYREQUESTS", "too many requests", 429),
    ErrorKind("UNAUTHORIZED", "authentication required", 401),
    # CNCF Distribution's code for a service that cannot answer now (a pull through cache's upstream).
    ErrorKind("UNAVAILABLE", "service unavailable", 503),
    ErrorKind("UNSUPPORTED", "the operation is unsupported", 405),
]
CATALOGUE: dict[str, ErrorKind] = {k.code: k for k in _KINDS}


class RegistryError(EcrlabError):
    """One catalogue error; ``status`` overrides the catalogue's (416 for a bad range, 413 for size)."""

    def __init__(
        self,
        code: str,
        detail: Any = None,
        *,
        message: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        kind = CATALOGUE[code]
        self.code = code
        self.message = message or kind.message
        self.detail = detail
        self.status = status or kind.status
        self.headers = headers or {}
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            entry["detail"] = self.detail
        return {"errors": [entry]}


# ECR API code -> catalogue code. InvalidParameterException depends on what was being done, so the
# caller names the fallback (MANIFEST_INVALID for a manifest PUT, NAME_INVALID elsewhere...).
_FROM_ECR = {
    "AccessDeniedException": "DENIED",
    "RepositoryNotFoundException": "NAME_UNKNOWN",
    "ImageNotFoundException": "MANIFEST_UNKNOWN",
    "LayersNotFoundException": "MANIFEST_BLOB_UNKNOWN",
    "ReferencedImagesNotFoundException": "MANIFEST_BLOB_UNKNOWN",
    "ImageDigestDoesNotMatchException": "DIGEST_INVALID",
    "ImageTagAlreadyExistsException": "TAG_INVALID",
    "LimitExceededException": "TOOMANYREQUESTS",
    "NotEmulatedException": "UNSUPPORTED",
    "UploadNotFoundException": "BLOB_UPLOAD_UNKNOWN",
    "InvalidLayerException": "DIGEST_INVALID",
}
# A pull through cache's upstream failure (UnableToGetUpstreamImageException), by its ImageFailureCode.
_FROM_UPSTREAM_FAILURE = {
    "UpstreamAccessDenied": "DENIED",
    "UpstreamTooManyRequests": "TOOMANYREQUESTS",
    "UpstreamUnavailable": "UNAVAILABLE",
}


def from_service_error(exc: ServiceError, fallback: str = "MANIFEST_INVALID") -> RegistryError:
    """The registry error a client sees for an engine error; the ECR message goes in the detail."""
    code = _FROM_ECR.get(exc.code, fallback)
    failure_code = getattr(exc, "failure_code", None)
    if exc.code == "UnableToGetUpstreamImageException" and failure_code in _FROM_UPSTREAM_FAILURE:
        code = _FROM_UPSTREAM_FAILURE[failure_code]
    return RegistryError(code, {"ecrErrorCode": exc.code, "ecrMessage": exc.message}, message=exc.message)

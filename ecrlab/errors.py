"""The one exception tree of ecrlab.

::

    EcrlabError                      anything ecrlab raises on purpose
    ├── LabError                     the lab was used wrongly (not running, unknown user...)
    ├── RegistryClientError          a registry refused a push or pull (or could not be reached):
    │                                ``code`` (the OCI error code), ``status``, ``message``, ``registry``
    └── ServiceError                 an AWS-shaped error: ``code``, ``message``, ``status``
        ├── InvalidParameterException, RepositoryNotFoundException, ...   (named after ECR's codes)
        ├── AccessDeniedException
        └── NotEmulatedException    an operation of the ECR model the sandbox does not emulate

Service errors are raised by the engine and turned into the wire format by the adapters
(``{"__type": code, "message": ...}`` for the API, the OCI error catalogue for the registry), so a
learner sees the same code and wording whichever client asked. Class names are the real AWS error
codes, and messages are worded like the real ones.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDeniedException",
    "EcrlabError",
    "EmptyUploadException",
    "ExpiredTokenException",
    "ImageAlreadyExistsException",
    "ImageDigestDoesNotMatchException",
    "ImageNotFoundException",
    "ImageTagAlreadyExistsException",
    "InvalidLayerException",
    "InvalidLayerPartException",
    "InvalidParameterException",
    "InvalidTagParameterException",
    "KmsException",
    "LabError",
    "LayerAlreadyExistsException",
    "LayerPartTooSmallException",
    "LayersNotFoundException",
    "LifecyclePolicyNotFoundException",
    "LifecyclePolicyPreviewInProgressException",
    "LifecyclePolicyPreviewNotFoundException",
    "LimitExceededException",
    "NotEmulatedException",
    "ReferencedImagesNotFoundException",
    "RegistryClientError",
    "RegistryPolicyNotFoundException",
    "RepositoryAlreadyExistsException",
    "RepositoryNotEmptyException",
    "RepositoryNotFoundException",
    "RepositoryPolicyNotFoundException",
    "ScanNotFoundException",
    "SerializationException",
    "ServerException",
    "ServiceError",
    "TooManyTagsException",
    "UnrecognizedClientException",
    "UnsupportedImageTypeException",
    "UploadNotFoundException",
    "ValidationException",
    "error_class",
]


class EcrlabError(Exception):
    """Base of every exception ecrlab raises on purpose."""


class LabError(EcrlabError):
    """The lab was used in a way it does not support; the message says what to do instead."""


class RegistryClientError(EcrlabError):
    """A registry answered a push or pull with an error, as a Docker client reports it.

    ``code`` is the registry's OCI error code (``TAG_INVALID``, ``MANIFEST_UNKNOWN``...) and ``message``
    its own words, so the learner reads what ``docker push`` would print. ``status`` is the HTTP status,
    0 when the registry could not be reached or answered something inconsistent (a wrong digest).
    """

    def __init__(self, message: str, *, status: int, code: str, registry: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.registry = registry

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ServiceError(EcrlabError):
    """An error the emulated service answers, shaped like the real one.

    ``code`` is the AWS error code (the class name for the subclasses below), ``status`` the HTTP
    status real ECR answers with, and ``context`` any extra fields the real error body carries.
    """

    code: ClassVar[str] = "ServiceError"
    status: ClassVar[int] = 400

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


_REGISTRY: dict[str, type[ServiceError]] = {}


def _define(code: str, status: int = 400) -> type[ServiceError]:
    cls = type(code, (ServiceError,), {"code": code, "status": status, "__module__": __name__})
    _REGISTRY[code] = cls
    return cls


def error_class(code: str) -> type[ServiceError]:
    """The exception class for an AWS error code (a plain ServiceError subclass if unknown)."""
    return _REGISTRY.get(code) or _define(code)


# One line per code; status codes are the ones real ECR answers with.
AccessDeniedException = _define("AccessDeniedException")
EmptyUploadException = _define("EmptyUploadException")
# Signature-level refusals (IAM/STS, before any policy is read): a key that no longer exists or is
# inactive, and a role session past its expiry.
ExpiredTokenException = _define("ExpiredTokenException")
ImageAlreadyExistsException = _define("ImageAlreadyExistsException")
ImageDigestDoesNotMatchException = _define("ImageDigestDoesNotMatchException")
ImageNotFoundException = _define("ImageNotFoundException")
ImageTagAlreadyExistsException = _define("ImageTagAlreadyExistsException")
InvalidLayerException = _define("InvalidLayerException")
InvalidLayerPartException = _define("InvalidLayerPartException")
InvalidParameterException = _define("InvalidParameterException")
InvalidTagParameterException = _define("InvalidTagParameterException")
KmsException = _define("KmsException")
LayerAlreadyExistsException = _define("LayerAlreadyExistsException")
LayerPartTooSmallException = _define("LayerPartTooSmallException")
LayersNotFoundException = _define("LayersNotFoundException")
LifecyclePolicyNotFoundException = _define("LifecyclePolicyNotFoundException")
LifecyclePolicyPreviewInProgressException = _define("LifecyclePolicyPreviewInProgressException")
LifecyclePolicyPreviewNotFoundException = _define("LifecyclePolicyPreviewNotFoundException")
LimitExceededException = _define("LimitExceededException")
# Not an ECR code: the sandbox's own, so that an unemulated operation is a clear client error
# (never a 500 that clients retry) and says so in its name.
NotEmulatedException = _define("NotEmulatedException")
ReferencedImagesNotFoundException = _define("ReferencedImagesNotFoundException")
RegistryPolicyNotFoundException = _define("RegistryPolicyNotFoundException")
RepositoryAlreadyExistsException = _define("RepositoryAlreadyExistsException")
RepositoryNotEmptyException = _define("RepositoryNotEmptyException")
RepositoryNotFoundException = _define("RepositoryNotFoundException")
RepositoryPolicyNotFoundException = _define("RepositoryPolicyNotFoundException")
ScanNotFoundException = _define("ScanNotFoundException")
# AWS's code for a request body that cannot be deserialized (wrong JSON types, too deep, too large).
SerializationException = _define("SerializationException")
ServerException = _define("ServerException", 500)
TooManyTagsException = _define("TooManyTagsException")
UnrecognizedClientException = _define("UnrecognizedClientException", 403)
UnsupportedImageTypeException = _define("UnsupportedImageTypeException")
UploadNotFoundException = _define("UploadNotFoundException")
ValidationException = _define("ValidationException")

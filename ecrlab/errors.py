"""The one exception tree of ecrlab.

::

    EcrlabError                      anything ecrlab raises on purpose
    ├── LabError                     the lab was used wrongly (not running, unknown user...)
    │   ├── SandboxEscapeError       (ecrlab.safety) a request would leave the machine
    │   ├── DataDirLocked            another process is keeping its state in that data directory
    │   └── ImageBuildError          (ecrlab.images) an image cannot be built; DockerfileError below it
    ├── ServiceError                 an AWS-shaped error: ``code``, ``message``, ``status``
    │   ├── InvalidParameterException, RepositoryNotFoundException, ...   (named after ECR's codes)
    │   ├── AccessDeniedException
    │   └── NotEmulatedException     an operation of the ECR model the sandbox does not emulate
    ├── RegistryClientError          a registry refused a client's push or pull (or could not be reached):
    │                                ``code`` (the OCI error code), ``status``, ``message``, ``registry``
    ├── RegistryError                (ecrlab.registry.errors) an OCI error-catalogue answer of the data plane
    ├── PolicyGrammarError           a policy document AWS would refuse; says which rule it breaks
    ├── SimulationError              bad input to the IAM policy simulator, with IAM's error code
    ├── TokenError                   a registry password the sandbox never issued
    │   └── ExpiredTokenError        one it issued, past its expiry
    ├── SignatureVerificationError   (ecrlab.signing) a signature that does not prove what it claims
    ├── BlobError                    the blob store refused bytes or an upload
    │   ├── DigestMismatch, SizeMismatch      the bytes are not what the client named
    │   └── UploadUnknown, UploadBusy         no such upload / another request is writing it
    └── ExerciseVerdict              a lesson check's verdict: Incorrect, NotAttempted

The errors of a lower layer that a wire format shows (a blob mismatch, a policy grammar error, a
token) are mapped into ServiceError or RegistryError at that adapter's boundary, in one place each.

Service errors are raised by the engine and turned into the wire format by the adapters
(``{"__type": code, "message": ...}`` for the API, the OCI error catalogue for the registry), so a
learner sees the same code and wording whichever client asked. Class names are the real AWS error
codes, and messages are worded like the real ones.

An error that carries context (a repository, a registry, an image) takes that context in its
constructor and writes ECR's wording itself, as moto's ``ecr/exceptions.py`` does:
``RepositoryNotFoundException("app", "123456789012")``. Each message then exists exactly once. Codes
without a template take the message: ``InvalidTagParameterException("Invalid tag key ...")``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDeniedException",
    "BlobError",
    "DataDirLocked",
    "DigestMismatch",
    "EcrlabError",
    "EmptyUploadException",
    "ExclusionAlreadyExistsException",
    "ExclusionNotFoundException",
    "ExerciseVerdict",
    "ExpiredTokenError",
    "ExpiredTokenException",
    "ImageAlreadyExistsException",
    "ImageArchivedException",
    "ImageDigestDoesNotMatchException",
    "ImageNotFoundException",
    "ImageStorageClassUpdateNotSupportedException",
    "ImageTagAlreadyExistsException",
    "Incorrect",
    "InvalidLayerException",
    "InvalidLayerPartException",
    "InvalidParameterException",
    "InvalidTagParameterException",
    "KmsException",
    "LabError",
    "LayerAlreadyExistsException",
    "LayerInaccessibleException",
    "LayerPartTooSmallException",
    "LayersNotFoundException",
    "LifecyclePolicyNotFoundException",
    "LifecyclePolicyPreviewInProgressException",
    "LifecyclePolicyPreviewNotFoundException",
    "LimitExceededException",
    "NotAttempted",
    "NotEmulatedException",
    "PolicyGrammarError",
    "PullThroughCacheRuleAlreadyExistsException",
    "PullThroughCacheRuleNotFoundException",
    "ReferencedImagesNotFoundException",
    "RegistryClientError",
    "RegistryPolicyNotFoundException",
    "RepositoryAlreadyExistsException",
    "RepositoryNotEmptyException",
    "RepositoryNotFoundException",
    "RepositoryPolicyNotFoundException",
    "ScanNotFoundException",
    "SecretNotFoundException",
    "SerializationException",
    "ServerException",
    "ServiceError",
    "SignatureVerificationError",
    "SigningConfigurationNotFoundException",
    "SimulationError",
    "SizeMismatch",
    "TemplateAlreadyExistsException",
    "TemplateNotFoundException",
    "TokenError",
    "TooManyTagsException",
    "UnableToAccessSecretException",
    "UnableToDecryptSecretValueException",
    "UnableToGetUpstreamImageException",
    "UnrecognizedClientException",
    "UnsupportedImageTypeException",
    "UnsupportedUpstreamRegistryException",
    "UploadBusy",
    "UploadNotFoundException",
    "UploadUnknown",
    "ValidationException",
    "error_class",
]


class EcrlabError(Exception):
    """Base of every exception ecrlab raises on purpose."""


class LabError(EcrlabError):
    """The lab was used in a way it does not support; the message says what to do instead."""


class DataDirLocked(LabError):
    """Another process holds the data directory a lab was asked to keep its state in."""

    def __init__(self, path: str, pid: str) -> None:
        self.path, self.pid = path, pid
        super().__init__(
            f"the data directory {path} is in use by another ecrlab process (pid {pid}): "
            "stop that process first, or give this one another --data-dir"
        )


class PolicyGrammarError(EcrlabError, ValueError):
    """A policy document that AWS would refuse; the message says which rule it breaks."""


class SimulationError(EcrlabError, ValueError):
    """Bad simulator input; ``code`` is IAM's error code (InvalidInput, NoSuchEntity)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TokenError(EcrlabError):
    """A registry password that the sandbox never issued (forged, or from another lab)."""


class ExpiredTokenError(TokenError):
    """A registry password the sandbox issued that is past its expiry."""


class BlobError(EcrlabError):
    """The blob store refused what it was given."""


class DigestMismatch(BlobError, ValueError):
    """The bytes received do not hash to the digest the client named."""


class SizeMismatch(BlobError, ValueError):
    """The bytes received are not as many as the client said."""


class UploadUnknown(BlobError, LookupError):
    """No such upload in progress: never started, already finished or cancelled."""


class UploadBusy(BlobError, RuntimeError):
    """Another request is streaming into the upload right now."""


class ExerciseVerdict(EcrlabError):
    """A lesson check's verdict, raised by ``Problem.assess`` and shown by ``check()``."""


class Incorrect(ExerciseVerdict):
    """The attempt is wrong; the message says how."""


class NotAttempted(ExerciseVerdict):
    """Nothing to check yet; the message says what to do."""


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


def _templated(cls: type[ServiceError]) -> type[ServiceError]:
    """Register a class that writes its own message; its name is its AWS code."""
    cls.code = cls.__name__
    _REGISTRY[cls.code] = cls
    return cls


def _in_registry(repository_name: str, registry_id: str) -> str:
    return f"the repository with name '{repository_name}' in the registry with id '{registry_id}'"


def error_class(code: str) -> type[ServiceError]:
    """The exception class for an AWS error code (a plain ServiceError subclass if unknown)."""
    return _REGISTRY.get(code) or _define(code)


# One line per code without a template; status codes are the ones real ECR answers with.
AccessDeniedException = _define("AccessDeniedException")
EmptyUploadException = _define("EmptyUploadException")
# Signature-level refusals (IAM/STS, before any policy is read): a key that no longer exists or is
# inactive, and a role session past its expiry.
ExpiredTokenException = _define("ExpiredTokenException")
InvalidLayerException = _define("InvalidLayerException")
InvalidLayerPartException = _define("InvalidLayerPartException")
InvalidTagParameterException = _define("InvalidTagParameterException")
KmsException = _define("KmsException")
LayerInaccessibleException = _define("LayerInaccessibleException")
LayerAlreadyExistsException = _define("LayerAlreadyExistsException")
LayerPartTooSmallException = _define("LayerPartTooSmallException")
LayersNotFoundException = _define("LayersNotFoundException")
LimitExceededException = _define("LimitExceededException")
# Not an ECR code: the sandbox's own, so that an unemulated operation is a clear client error
# (never a 500 that clients retry) and says so in its name.
NotEmulatedException = _define("NotEmulatedException")
RegistryPolicyNotFoundException = _define("RegistryPolicyNotFoundException")
RepositoryPolicyNotFoundException = _define("RepositoryPolicyNotFoundException")
ScanNotFoundException = _define("ScanNotFoundException")
# AWS's code for a request body that cannot be deserialized (wrong JSON types, too deep, too large).
SerializationException = _define("SerializationException")
ServerException = _define("ServerException", 500)
UnrecognizedClientException = _define("UnrecognizedClientException", 403)
UnsupportedImageTypeException = _define("UnsupportedImageTypeException")
UploadNotFoundException = _define("UploadNotFoundException")
ValidationException = _define("ValidationException")


# Codes with a template: the constructor takes the context and writes ECR's wording.


@_templated
class InvalidParameterException(ServiceError):
    """A parameter ECR refuses. ``InvalidParameterException.at(member, constraint)`` writes the
    common form; a free message is for refusals ECR words differently."""

    @classmethod
    def at(cls, member: str, constraint: str) -> InvalidParameterException:
        return cls(f"Invalid parameter at '{member}' failed to satisfy constraint: '{constraint}'")


@_templated
class RepositoryNotFoundException(ServiceError):
    def __init__(self, repository_name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{repository_name}' does not exist in the registry with id '{registry_id}'"
        )
        self.repository_name, self.registry_id = repository_name, registry_id


@_templated
class RepositoryAlreadyExistsException(ServiceError):
    def __init__(self, repository_name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{repository_name}' already exists in the registry with id '{registry_id}'"
        )
        self.repository_name, self.registry_id = repository_name, registry_id


@_templated
class RepositoryNotEmptyException(ServiceError):
    def __init__(self, repository_name: str, registry_id: str) -> None:
        super().__init__(
            f"The repository with name '{repository_name}' in registry with id '{registry_id}' "
            "cannot be deleted because it still contains images"
        )
        self.repository_name, self.registry_id = repository_name, registry_id


@_templated
class TooManyTagsException(ServiceError):
    def __init__(self, limit: int, count: int) -> None:
        super().__init__(f"A resource can have at most {limit} tags; the request would leave {count}")


@_templated
class ImageNotFoundException(ServiceError):
    def __init__(self, image_id: dict[str, str], repository_name: str, registry_id: str) -> None:
        shown = (
            f"imageTag={image_id['imageTag']}"
            if image_id.get("imageTag")
            else f"imageDigest={image_id.get('imageDigest')}"
        )
        super().__init__(
            f"The image with imageId {{{shown}}} does not exist within {_in_registry(repository_name, registry_id)}"
        )


@_templated
class ImageAlreadyExistsException(ServiceError):
    def __init__(self, digest: str, tag: str | None, repository_name: str, registry_id: str) -> None:
        named = f"Image with digest '{digest}'" + (f" and tag '{tag}'" if tag else "")
        super().__init__(
            f"{named} already exists in the repository with name '{repository_name}' in registry with id '{registry_id}'"
        )


@_templated
class ImageTagAlreadyExistsException(ServiceError):
    def __init__(self, tag: str, repository_name: str) -> None:
        super().__init__(
            f"The image tag '{tag}' already exists in the '{repository_name}' repository and cannot be "
            "overwritten because the tag is immutable."
        )


@_templated
class ImageDigestDoesNotMatchException(ServiceError):
    def __init__(self, given: str, calculated: str) -> None:
        super().__init__(
            f"Invalid parameter at 'imageDigest' failed to satisfy constraint: 'Provided digest {given} does not "
            f"match the digest calculated from the manifest, {calculated}'"
        )


@_templated
class ReferencedImagesNotFoundException(ServiceError):
    def __init__(self, digests: list[str], repository_name: str, registry_id: str) -> None:
        super().__init__(
            f"Images with digests '[{', '.join(digests)}]' referenced by the manifest list are not found "
            f"in {_in_registry(repository_name, registry_id)}"
        )


@_templated
class LifecyclePolicyNotFoundException(ServiceError):
    def __init__(self, repository_name: str, registry_id: str) -> None:
        super().__init__(f"Lifecycle policy does not exist for {_in_registry(repository_name, registry_id)}")


@_templated
class LifecyclePolicyPreviewNotFoundException(ServiceError):
    def __init__(self, repository_name: str, registry_id: str) -> None:
        super().__init__(f"Lifecycle policy preview does not exist for {_in_registry(repository_name, registry_id)}")


@_templated
class LifecyclePolicyPreviewInProgressException(ServiceError):
    def __init__(self) -> None:
        super().__init__("Previous lifecycle policy preview request has not completed")


@_templated
class TemplateAlreadyExistsException(ServiceError):
    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"The repository creation template with prefix '{prefix}' already exists in the registry with id "
            f"'{registry_id}'"
        )


@_templated
class TemplateNotFoundException(ServiceError):
    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"The specified repository creation template with prefix '{prefix}' does not exist in the registry "
            f"with id '{registry_id}'"
        )


# The archive storage class and pull-time update exclusions. ECR's API reference documents these codes but
# not their messages: the wording below is the sandbox's own, plain and naming what was refused.


@_templated
class ImageArchivedException(ServiceError):
    def __init__(self, digest: str, repository_name: str, registry_id: str) -> None:
        super().__init__(
            f"The image with digest '{digest}' in {_in_registry(repository_name, registry_id)} is archived; "
            "restore it to the standard storage class (UpdateImageStorageClass) first"
        )


@_templated
class ImageStorageClassUpdateNotSupportedException(ServiceError):
    def __init__(self, digest: str, status: str, target: str, reason: str = "") -> None:
        super().__init__(
            f"The image with digest '{digest}' has status {status} and cannot be moved to the {target} storage class"
            + (f": {reason}" if reason else "")
        )


@_templated
class ExclusionAlreadyExistsException(ServiceError):
    def __init__(self, principal_arn: str, registry_id: str) -> None:
        super().__init__(
            f"The principal '{principal_arn}' is already in the pull time update exclusion list of the registry "
            f"with id '{registry_id}'"
        )


@_templated
class ExclusionNotFoundException(ServiceError):
    def __init__(self, principal_arn: str, registry_id: str) -> None:
        super().__init__(
            f"The principal '{principal_arn}' is not in the pull time update exclusion list of the registry "
            f"with id '{registry_id}'"
        )


@_templated
class SigningConfigurationNotFoundException(ServiceError):
    # ECR's own wording is not documented: a plain description of what the model says the code means.
    def __init__(self, registry_id: str) -> None:
        super().__init__(f"No signing configuration exists in the registry with id '{registry_id}'")
        self.registry_id = registry_id


class SignatureVerificationError(EcrlabError, ValueError):
    """A signature that does not verify: not signed by a trusted key, altered, or about another image.
    The message says which check failed, as a verifier (notation, an admission controller) would."""


# Pull through cache (ecrlab.pullthrough). The secret and upstream errors take ECR's words from the
# API reference's descriptions of each code; the context (the ARN, the URL) is appended.


@_templated
class PullThroughCacheRuleAlreadyExistsException(ServiceError):
    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"A pull through cache rule with prefix '{prefix}' already exists in the registry with id '{registry_id}'"
        )


@_templated
class PullThroughCacheRuleNotFoundException(ServiceError):
    def __init__(self, prefix: str, registry_id: str) -> None:
        super().__init__(
            f"The specified pull through cache rule with prefix '{prefix}' does not exist in the registry with id "
            f"'{registry_id}'"
        )


@_templated
class UnsupportedUpstreamRegistryException(ServiceError):
    def __init__(self, url: str) -> None:
        super().__init__(f"The specified upstream registry '{url}' isn't supported")


@_templated
class SecretNotFoundException(ServiceError):
    def __init__(self, arn: str) -> None:
        super().__init__(f"The secret with ARN '{arn}' was not found. Specify a valid secret ARN and try again.")


@_templated
class UnableToAccessSecretException(ServiceError):
    def __init__(self, arn: str) -> None:
        super().__init__(
            f"The secret with ARN '{arn}' is unable to be accessed. Verify the resource permissions for the secret "
            "and try again."
        )


@_templated
class UnableToDecryptSecretValueException(ServiceError):
    def __init__(self, arn: str) -> None:
        super().__init__(
            f"The secret with ARN '{arn}' is accessible but is unable to be decrypted. Verify the resource "
            "permissions and try again."
        )


@_templated
class UnableToGetUpstreamImageException(ServiceError):
    """``failure_code`` is the ImageFailureCode of what went wrong upstream (``UpstreamAccessDenied``,
    ``UpstreamTooManyRequests``, ``UpstreamUnavailable``): the registry answers a client by it."""

    failure_code: str = "UpstreamUnavailable"

    @classmethod
    def failed(cls, failure_code: str, reason: str) -> UnableToGetUpstreamImageException:
        exc = cls(f"The image was unable to be pulled using the pull through cache rule: {reason}")
        exc.failure_code = failure_code
        return exc

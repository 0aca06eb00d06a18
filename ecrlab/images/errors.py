"""Errors of the image tools, in ecrlab's one tree (:mod:`ecrlab.errors`)::

    EcrlabError
    ├── LabError
    │   └── ImageBuildError          an image cannot be built as asked (bad platform, missing file...)
    │       └── DockerfileError  a Dockerfile line is outside the supported subset or malformed;
    │                            carries ``line`` (1-based) and ``instruction``
    └── ServiceError
        └── RegistryClientError  a registry answered a push or pull with an error (or could not be
                                 reached); carries ``status``, ``code`` (the OCI error code, e.g.
                                 ``TAG_INVALID``), ``message`` and ``registry``

Registry errors keep the registry's own code and message, so the learner reads what Docker would print,
and :func:`ecrlab.display.expect_error` shows them like any other service error.
"""

from __future__ import annotations

from ecrlab.errors import LabError, ServiceError

__all__ = ["DockerfileError", "ImageBuildError", "RegistryClientError"]


class ImageBuildError(LabError):
    """The image cannot be built as asked; the message says what to change."""


class DockerfileError(ImageBuildError):
    """A Dockerfile line is malformed or outside the subset ecrlab builds without an engine."""

    def __init__(self, message: str, *, line: int | None = None, instruction: str | None = None) -> None:
        self.line = line
        self.instruction = instruction
        where = f"Dockerfile line {line}: " if line is not None else "Dockerfile: "
        super().__init__(where + message)


class RegistryClientError(ServiceError):
    """A registry refused a push or pull; ``code`` is the OCI error code it answered (e.g. MANIFEST_INVALID).
    ``status`` is the HTTP status, 0 when the registry could not be reached or answered something inconsistent."""

    def __init__(self, message: str, *, status: int, code: str = "REGISTRY_ERROR", registry: str | None = None) -> None:
        super().__init__(message, registry=registry)
        self.code = code  # type: ignore[misc]  # per instance: the registry's own code
        self.status = status  # type: ignore[misc]
        self.registry = registry

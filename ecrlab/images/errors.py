"""Errors of the image tools, in ecrlab's one tree (:mod:`ecrlab.errors`)::

    EcrlabError
    ├── LabError
    │   └── ImageBuildError          an image cannot be built as asked (bad platform, missing file...)
    │       └── DockerfileError  a Dockerfile line is outside the supported subset or malformed;
    │                            carries ``line`` (1-based) and ``instruction``
    └── RegistryClientError          a registry answered a push or pull with an error; carries ``status``,
                                 ``code`` (the OCI error code) and ``registry``

Registry errors keep the registry's own code and message, so the learner reads what Docker would print.
"""

from __future__ import annotations

from ecrlab.errors import EcrlabError, LabError

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


class RegistryClientError(EcrlabError):
    """A registry refused a push or pull; ``code`` is the OCI error code it answered (e.g. MANIFEST_INVALID)."""

    def __init__(self, message: str, *, status: int, code: str | None = None, registry: str | None = None) -> None:
        self.status = status
        self.code = code
        self.registry = registry
        super().__init__(message)

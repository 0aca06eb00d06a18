"""Errors of the image tools, in ecrlab's one tree (:mod:`ecrlab.errors`)::

    EcrlabError
    ├── LabError
    │   └── ImageBuildError      an image cannot be built as asked (bad platform, missing file...)
    │       └── DockerfileError  a Dockerfile line is outside the supported subset or malformed;
    │                            carries ``line`` (1-based) and ``instruction``
    └── RegistryClientError      a registry answered a push or pull with an error (or could not be
                                 reached); defined in :mod:`ecrlab.errors`, exported by :mod:`ecrlab.images`

Registry errors keep the registry's own code and message, so the learner reads what Docker would print,
and :func:`ecrlab.display.expect_error` shows them like any service error.
"""

from __future__ import annotations

from ecrlab.errors import LabError

__all__ = ["DockerfileError", "ImageBuildError"]


class ImageBuildError(LabError):
    """The image cannot be built as asked; the message says what to change."""


class DockerfileError(ImageBuildError):
    """A Dockerfile line is malformed or outside the subset ecrlab builds without an engine."""

    def __init__(self, message: str, *, line: int | None = None, instruction: str | None = None) -> None:
        self.line = line
        self.instruction = instruction
        where = f"Dockerfile line {line}: " if line is not None else "Dockerfile: "
        super().__init__(where + message)

"""The Dockerfile subset ecrlab builds without an engine.

Supported: ``FROM scratch`` or a lab base image (``FROM alpine:3.20.3``, optionally
``--platform=linux/arm64`` for scratch), ``COPY [--chmod=755] src... dest`` (also the JSON form),
``ENV``, ``LABEL``, ``WORKDIR``, ``USER``, ``CMD`` and ``ENTRYPOINT`` (exec or shell form), comments
and ``\\`` line continuations. Anything else, ``RUN`` above all, needs an engine to execute and is
refused with a :class:`DockerfileError` that names the line.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from ecrlab.images.base import base_image
from ecrlab.images.builder import ImageBuilder
from ecrlab.images.errors import DockerfileError, ImageBuildError
from ecrlab.images.oci import Image

__all__ = ["Instruction", "build_dockerfile", "parse_dockerfile"]

SUPPORTED = ("FROM", "COPY", "ENV", "LABEL", "WORKDIR", "USER", "CMD", "ENTRYPOINT")
NEEDS_ENGINE = ("RUN", "ADD", "HEALTHCHECK", "SHELL", "ONBUILD", "ARG", "EXPOSE", "VOLUME", "STOPSIGNAL", "MAINTAINER")


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    arguments: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions of ``text`` with their line numbers; checks the subset, builds nothing."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped, as Docker does
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        instructions.append(_instruction(start, " ".join(part.strip() for part in pending if part.strip())))
        pending = []
    if pending:
        raise DockerfileError("the file ends inside a line continuation ('\\')", line=start)
    if not instructions:
        raise DockerfileError("the file holds no instructions; it must start with FROM")
    if instructions[0].keyword != "FROM":
        raise DockerfileError(
            f"the first instruction must be FROM, not {instructions[0].keyword}",
            line=instructions[0].line,
            instruction=instructions[0].keyword,
        )
    for later in instructions[1:]:
        if later.keyword == "FROM":
            raise DockerfileError(
                "multi-stage builds (a second FROM) need an engine", line=later.line, instruction="FROM"
            )
    return instructions


def _instruction(line: int, text: str) -> Instruction:
    keyword, _, arguments = text.partition(" ")
    keyword = keyword.upper()
    if keyword in NEEDS_ENGINE:
        raise DockerfileError(
            f"{keyword} is not in the subset ecrlab builds without an engine ({', '.join(SUPPORTED)}); "
            "build this Dockerfile with Docker or Podman",
            line=line,
            instruction=keyword,
        )
    if keyword not in SUPPORTED:
        raise DockerfileError(f"unknown instruction {keyword!r}", line=line, instruction=keyword)
    if not arguments.strip():
        raise DockerfileError(f"{keyword} needs arguments", line=line, instruction=keyword)
    return Instruction(line, keyword, arguments.strip())


def build_dockerfile(
    dockerfile: str | os.PathLike[str] | None = None,
    *,
    context: str | os.PathLike[str] = ".",
    text: str | None = None,
    platform: str | None = None,
) -> Image:
    """Build the image a Dockerfile describes (``dockerfile`` path, or its ``text``) from ``context``."""
    if text is None:
        path = Path(dockerfile) if dockerfile is not None else Path(context) / "Dockerfile"
        if not path.is_file():
            raise DockerfileError(f"no Dockerfile at {path.name!r} in the build context")
        text = path.read_text()
    instructions = parse_dockerfile(text)

    first = instructions[0]
    words = first.arguments.split()
    flags = [w for w in words if w.startswith("--")]
    names = [w for w in words if not w.startswith("--")]
    for flag in flags:
        if flag.startswith("--platform="):
            platform = flag.split("=", 1)[1]
        else:
            raise DockerfileError(f"FROM does not take {flag}", line=first.line, instruction="FROM")
    if len(names) != 1:
        raise DockerfileError(
            "FROM takes one image name (and no AS stage name here)", line=first.line, instruction="FROM"
        )
    try:
        builder = ImageBuilder("scratch" if names[0] == "scratch" else base_image(names[0]), platform=platform)
    except ImageBuildError as exc:
        raise DockerfileError(str(exc), line=first.line, instruction="FROM") from None

    for ins in instructions[1:]:
        try:
            _apply(builder, ins, Path(context))
        except DockerfileError:
            raise
        except ImageBuildError as exc:
            raise DockerfileError(str(exc), line=ins.line, instruction=ins.keyword) from None
    return builder.build()


def _apply(builder: ImageBuilder, ins: Instruction, context: Path) -> None:
    kw, args = ins.keyword, ins.arguments
    if kw == "COPY":
        words = _words(ins)
        chmod = None
        while words and words[0].startswith("--"):
            flag = words.pop(0)
            if flag.startswith("--chmod="):
                try:
                    chmod = int(flag.split("=", 1)[1], 8)
                except ValueError:
                    raise DockerfileError(
                        f"--chmod wants an octal mode, got {flag}", line=ins.line, instruction=kw
                    ) from None
            else:
                raise DockerfileError(
                    f"COPY {flag.split('=')[0]} needs an engine; only --chmod is supported",
                    line=ins.line,
                    instruction=kw,
                )
        if len(words) < 2:
            raise DockerfileError("COPY needs a source and a destination", line=ins.line, instruction=kw)
        *sources, dest = words
        flag = f"--chmod={chmod:o} " if chmod is not None else ""
        builder.copy(sources, dest, context=context, mode=chmod, created_by=f"COPY {flag}{' '.join(sources)} {dest}")
    elif kw in ("ENV", "LABEL"):
        pairs = _pairs(ins)
        if kw == "ENV":
            builder.env(**pairs)
        else:
            builder.labels(pairs)
    elif kw == "WORKDIR":
        builder.workdir(args)
    elif kw == "USER":
        builder.user(args)
    elif kw in ("CMD", "ENTRYPOINT"):
        command = _exec_form(ins) if args.startswith("[") else ["/bin/sh", "-c", args]
        (builder.cmd if kw == "CMD" else builder.entrypoint)(command)


def _words(ins: Instruction) -> list[str]:
    if ins.arguments.startswith("["):
        return _exec_form(ins)
    try:
        return shlex.split(ins.arguments)
    except ValueError as exc:
        raise DockerfileError(
            f"cannot split {ins.keyword} arguments: {exc}", line=ins.line, instruction=ins.keyword
        ) from None


def _exec_form(ins: Instruction) -> list[str]:
    try:
        value = json.loads(ins.arguments)
    except json.JSONDecodeError:
        raise DockerfileError(
            f"{ins.keyword} starts with '[' but is not a JSON array of strings", line=ins.line, instruction=ins.keyword
        ) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DockerfileError(
            f"{ins.keyword} JSON form must be an array of strings", line=ins.line, instruction=ins.keyword
        )
    return value


def _pairs(ins: Instruction) -> dict[str, str]:
    words = _words(ins)
    if len(words) >= 2 and "=" not in words[0]:
        # The legacy form: ENV NAME value with spaces
        return {words[0]: " ".join(words[1:])}
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise DockerfileError(
                f"{ins.keyword} expects key=value pairs, got {word!r}", line=ins.line, instruction=ins.keyword
            )
        pairs[key] = value
    return pairs

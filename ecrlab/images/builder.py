"""Build OCI images without an engine, from Python calls or a Dockerfile (see :mod:`.dockerfile`).

>>> from ecrlab.images import ImageBuilder
>>> image = (ImageBuilder("scratch")
...          .copy_bytes(b"hello\\n", "/hello.txt")
...          .cmd(["/hello"])
...          .build())

Each ``copy`` adds one layer, as ``COPY`` does in Docker; ``env``, ``label``, ``workdir``, ``user``,
``cmd`` and ``entrypoint`` change only the config. A base image's layers come first, unchanged,
so two images built on the same base share those layer blobs byte for byte.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ecrlab.images.errors import ImageBuildError
from ecrlab.images.layers import FileEntry, make_layer, normalise_path
from ecrlab.images.oci import Blob, Image, ImageIndex, Platform

__all__ = ["ImageBuilder", "build_index"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ImageBuilder:
    """Accumulates build steps; :meth:`build` turns them into an :class:`Image`.

    ``base`` is ``"scratch"`` (an empty image) or an :class:`Image` (e.g. one of
    :func:`ecrlab.images.base_image`). ``platform`` is ``os/arch[/variant]``; a base image fixes it.
    """

    def __init__(self, base: str | Image = "scratch", *, platform: str | None = None) -> None:
        if isinstance(base, Image):
            if platform is not None and Platform.parse(platform) != base.platform:
                raise ImageBuildError(f"the base image is {base.platform}, not {platform}")
            self._layers: list[Blob] = list(base.layers)
            config = base.config_json
            self._config: dict[str, Any] = dict(config.get("config", {}))
            self._diff_ids: list[str] = list(config.get("rootfs", {}).get("diff_ids", []))
            self._history: list[dict[str, Any]] = list(config.get("history", []))
            self.platform = base.platform
        elif base == "scratch":
            self._layers, self._config, self._diff_ids, self._history = [], {}, [], []
            self.platform = Platform.parse(platform or "linux/amd64")
        else:
            raise ImageBuildError(
                f"cannot build on {base!r} without an engine: use 'scratch' or a lab base image "
                "(ecrlab.images.base_image('alpine:3.20.3'))"
            )
        self._workdir = self._config.get("WorkingDir") or "/"

    # -- layers -------------------------------------------------------------------------------------
    def copy_files(self, files: Mapping[str, bytes | FileEntry], *, created_by: str | None = None) -> ImageBuilder:
        """Add one layer holding ``files`` (image path → content); relative paths follow WORKDIR."""
        if not files:
            raise ImageBuildError("a COPY layer needs at least one file")
        placed = {posixpath.join(self._workdir, path): content for path, content in files.items()}
        layer = make_layer(placed)
        self._layers.append(layer.blob)
        self._diff_ids.append(layer.diff_id)
        self._history.append({"created_by": created_by or f"COPY {' '.join('/' + p for p in layer.paths)}"})
        return self

    def copy_bytes(self, data: bytes, dest: str, *, mode: int = 0o644) -> ImageBuilder:
        return self.copy_files({dest: FileEntry(data, mode)})

    def copy(
        self,
        sources: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
        dest: str,
        *,
        context: str | os.PathLike[str] = ".",
        mode: int | None = None,
        created_by: str | None = None,
    ) -> ImageBuilder:
        """``COPY src... dest`` from the build ``context`` directory, with Docker's rules for ``dest``:
        a directory source copies its contents; several sources need ``dest`` to end with ``/``.
        ``mode`` sets every file's permission bits, as ``COPY --chmod`` does."""
        root = Path(context).resolve()
        if isinstance(sources, (str, os.PathLike)):
            sources = [sources]
        sources = list(sources)
        if not sources:
            raise ImageBuildError("COPY needs at least one source")
        into_dir = dest.endswith("/") or len(sources) > 1
        if len(sources) > 1 and not dest.endswith("/"):
            raise ImageBuildError(f"when copying more than one source, the destination must end with '/': {dest!r}")
        files: dict[str, FileEntry] = {}
        for source in sources:
            path = (root / source).resolve()
            if path != root and root not in path.parents:
                raise ImageBuildError(f"{os.fspath(source)!r} is outside the build context")
            if not path.exists():
                raise ImageBuildError(f"{os.fspath(source)!r} not found in the build context")
            if path.is_dir():
                for file in sorted(p for p in path.rglob("*") if p.is_file()):
                    files[posixpath.join(dest, file.relative_to(path).as_posix())] = _entry(file, mode)
            else:
                target = posixpath.join(dest, path.name) if into_dir else dest
                files[target] = _entry(path, mode)
        label = created_by or f"COPY {' '.join(os.fspath(s) for s in sources)} {dest}"
        return self.copy_files(files, created_by=label)

    # -- config -------------------------------------------------------------------------------------
    def env(self, **variables: str) -> ImageBuilder:
        current = dict(item.split("=", 1) for item in self._config.get("Env", [f"PATH={DEFAULT_PATH}"]))
        current.update(variables)
        self._config["Env"] = [f"{k}={v}" for k, v in current.items()]
        return self._note("ENV " + " ".join(f"{k}={v}" for k, v in variables.items()))

    def label(self, **labels: str) -> ImageBuilder:
        return self.labels(labels)

    def labels(self, labels: Mapping[str, str]) -> ImageBuilder:
        self._config["Labels"] = {**self._config.get("Labels", {}), **labels}
        return self._note("LABEL " + " ".join(f"{k}={v}" for k, v in labels.items()))

    def workdir(self, path: str) -> ImageBuilder:
        self._workdir = "/" + normalise_path(posixpath.join(self._workdir, path)) if path.strip("/") else "/"
        self._config["WorkingDir"] = self._workdir
        return self._note(f"WORKDIR {path}")

    def user(self, user: str) -> ImageBuilder:
        self._config["User"] = user
        return self._note(f"USER {user}")

    def cmd(self, command: list[str]) -> ImageBuilder:
        self._config["Cmd"] = list(command)
        return self._note(f"CMD {command}")

    def entrypoint(self, command: list[str]) -> ImageBuilder:
        self._config["Entrypoint"] = list(command)
        return self._note(f"ENTRYPOINT {command}")

    def _note(self, created_by: str) -> ImageBuilder:
        self._history.append({"created_by": created_by, "empty_layer": True})
        return self

    # -- result -------------------------------------------------------------------------------------
    def build(self, *, annotations: dict[str, str] | None = None) -> Image:
        """The image as it stands; the builder can go on and build more."""
        config: dict[str, Any] = {
            **self.platform.as_dict(),
            "config": dict(self._config),
            "history": list(self._history),
            "rootfs": {"diff_ids": list(self._diff_ids), "type": "layers"},
        }
        return Image.assemble(config, list(self._layers), annotations)


def build_index(images: Iterable[Image], *, annotations: dict[str, str] | None = None) -> ImageIndex:
    """A multi-platform image: one index over images built for different platforms."""
    images = list(images)
    if not images:
        raise ImageBuildError("an image index needs at least one image")
    return ImageIndex.assemble(images, annotations)


def _entry(path: Path, mode: int | None) -> FileEntry:
    if mode is not None:
        return FileEntry(path.read_bytes(), mode)
    # Only the executable bit survives, so a checkout's umask or owner cannot change a digest.
    executable = bool(path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    return FileEntry(path.read_bytes(), 0o755 if executable else 0o644)

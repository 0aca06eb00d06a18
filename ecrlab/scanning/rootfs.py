"""An image's filesystem as a container runtime assembles it, limited to the files a scanner reads.

Layers are applied base first. Each may be gzip, zstd or uncompressed tar (detected from its bytes,
as runtimes do, so a mislabelled media type does not fool the scan). Whiteouts follow the OCI image
spec (which Docker's AUFS-style layers share): ``dir/.wh.name`` deletes ``dir/name`` from the layers
below, and ``dir/.wh..wh..opq`` hides everything the layers below put in ``dir``. Only files a scanner
reads are kept in memory (package databases, os-release, Python distribution metadata), so an image of
gigabytes is walked without holding its contents.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["FileInLayer", "RootFS", "is_scanned_path", "read_rootfs"]

_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_EXACT = frozenset(
    {
        "etc/os-release",
        "usr/lib/os-release",
        "etc/alpine-release",
        "lib/apk/db/installed",
        "var/lib/dpkg/status",
    }
)


def is_scanned_path(path: str) -> bool:
    """Whether the scanner reads the file at ``path`` (relative, no leading slash)."""
    if path in _EXACT or path.startswith("var/lib/dpkg/status.d/"):
        return True
    parent, name = posixpath.split(path)
    return (name == "METADATA" and parent.endswith(".dist-info")) or (
        name == "PKG-INFO" and parent.endswith(".egg-info")
    )


@dataclass(frozen=True)
class FileInLayer:
    data: bytes
    layer: str  # digest of the layer blob that wrote it (Inspector's sourceLayerHash)


@dataclass
class RootFS:
    """The scanned files of the assembled filesystem: path (no leading slash) → content and layer."""

    files: dict[str, FileInLayer]

    def read(self, path: str) -> bytes | None:
        entry = self.files.get(path.lstrip("/"))
        return entry.data if entry else None

    def glob(self, predicate: Callable[[str], bool]) -> list[tuple[str, FileInLayer]]:
        return sorted((p, f) for p, f in self.files.items() if predicate(p))


def _decompress(data: bytes) -> bytes:
    if data[:2] == _GZIP_MAGIC:
        return gzip.decompress(data)
    if data[:4] == _ZSTD_MAGIC:
        import zstandard

        # Frames written in streaming mode carry no content size, so read them as a stream.
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return data


def _clean(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


def _drop_under(files: dict[str, FileInLayer], directory: str) -> None:
    prefix = directory.rstrip("/") + "/" if directory else ""
    for path in [p for p in files if p.startswith(prefix)]:
        del files[path]


def _ancestors(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent and parent not in out:
            out.add(parent)
            parent = posixpath.dirname(parent)
    return out


def read_rootfs(layers: Iterable[tuple[str, bytes]]) -> RootFS:
    """Assemble ``layers`` ((blob digest, blob bytes), base first) as a runtime would."""
    files: dict[str, FileInLayer] = {}
    for digest, blob in layers:
        with tarfile.open(fileobj=io.BytesIO(_decompress(blob)), mode="r:") as tar:
            members = tar.getmembers()
            # Whiteouts hide what the layers *below* hold, whatever their position in this tar.
            for member in members:
                path = _clean(member.name)
                parent, name = posixpath.split(path)
                if name == _OPAQUE:
                    _drop_under(files, parent)
                elif name.startswith(_WHITEOUT):
                    target = posixpath.join(parent, name[len(_WHITEOUT) :])
                    files.pop(target, None)
                    _drop_under(files, target)
            lower_dirs = _ancestors(files)
            for member in members:
                path = _clean(member.name)
                name = posixpath.basename(path)
                if name.startswith(_WHITEOUT):
                    continue
                if member.isdir():
                    files.pop(path, None)  # a directory replaces a file of the same name
                    continue
                if path in lower_dirs:  # a file (or link) replaces a directory of the same name and all it held
                    _drop_under(files, path)
                files.pop(path, None)
                if member.isfile() and is_scanned_path(path):
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        files[path] = FileInLayer(extracted.read(), digest)
    return RootFS(files)

"""Reproducible layer tarballs: the same files give the same bytes, so the same digest, anywhere.

What usually makes two builds of the same files differ is fixed here: entries are sorted by path,
every mtime is 0, owners are uid/gid 0 with no user or group names, modes are normalised (0755 for
directories and executables, 0644 otherwise) unless given, the tar format is plain ustar (no pax
headers carrying access times), and gzip writes mtime 0 and no file name.

The compressed bytes also depend on the deflate implementation: zlib (which CPython uses on Linux,
macOS and Windows) gives the same output for the same level across its releases; a Python built
against zlib-ng would not. ``tests/images/test_builder.py`` pins one digest so that such a
difference shows up as a failing test rather than as silently different digests.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass

from ecrlab.images.errors import ImageBuildError
from ecrlab.images.oci import Blob
from ecrlab.oci import OCI_LAYER, sha256_digest

__all__ = ["FileEntry", "Layer", "layer_files", "make_layer", "normalise_path"]


@dataclass(frozen=True)
class FileEntry:
    """One regular file of a layer: its content and permission bits."""

    data: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Layer:
    """A layer as a manifest sees it (the gzip blob) and as a config sees it (the tar's diff id)."""

    blob: Blob
    diff_id: str
    paths: tuple[str, ...]


def normalise_path(path: str) -> str:
    """``/etc/./x`` and ``etc/x`` both become ``etc/x``; as in Docker, ``..`` stops at the root."""
    clean = posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/")
    if not clean or clean == ".":
        raise ImageBuildError(f"{path!r} names the root directory, not a file")
    return clean


def _tar_info(name: str, *, is_dir: bool, size: int = 0, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name + ("/" if is_dir else ""))
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.size = size
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def make_layer(files: Mapping[str, bytes | FileEntry]) -> Layer:
    """A gzip-compressed tar layer holding ``files`` (path → bytes), with their parent directories."""
    entries = {
        normalise_path(path): (content if isinstance(content, FileEntry) else FileEntry(content))
        for path, content in files.items()
    }
    directories: set[str] = set()
    for path in entries:
        parent = posixpath.dirname(path)
        while parent:
            directories.add(parent)
            parent = posixpath.dirname(parent)
    clash = directories & entries.keys()
    if clash:
        raise ImageBuildError(f"{min(clash)!r} is both a file and a directory in this layer")

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(directories | entries.keys()):
            if path in directories:
                tar.addfile(_tar_info(path, is_dir=True, mode=0o755))
            else:
                entry = entries[path]
                tar.addfile(
                    _tar_info(path, is_dir=False, size=len(entry.data), mode=entry.mode), io.BytesIO(entry.data)
                )
    tar_bytes = raw.getvalue()

    compressed = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of anything machine- or time-dependent.
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=6) as gz:
        gz.write(tar_bytes)
    return Layer(
        blob=Blob(OCI_LAYER, compressed.getvalue()),
        diff_id=sha256_digest(tar_bytes),
        paths=tuple(sorted(entries)),
    )


def layer_files(blob: Blob) -> dict[str, bytes]:
    """The regular files in a gzip (or plain) tar layer blob, path → content, in tar order."""
    data = gzip.decompress(blob.data) if blob.data[:2] == b"\x1f\x8b" else blob.data
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                files["/" + member.name] = extracted.read()
    return files

"""The engine's blob store: content-addressed files on disk, one store per registry (account, region).

A blob becomes visible only once its bytes have been hashed and counted while they streamed into a
temporary file, and both the digest and the size agree with what the client claimed; only then is
the file renamed into place (an atomic rename). An upload that fails, is cancelled or is simply
abandoned stays a private temporary file and is removed when the lab stops, so nothing half-written
is ever served. Memory stays flat whatever the blob's size: bytes go straight from the socket to the
file, through a running sha256.

Which repository may see which blob is decided by the engine (a repository links the blobs pushed
or mounted into it, as CNCF Distribution does); this module only holds bytes. It sits below the engine
and the HTTP registry alike (as CNCF Distribution keeps its storage driver below its handlers) and
imports neither.

Finishing and cancelling an upload are atomic with respect to each other: whichever takes the upload
out of the table first wins, and the other finds it gone (:class:`UploadUnknown`).

A lab with a data directory keeps its blobs under ``DIR/blobs`` (:class:`BlobStorage` given a root): then
a blob is fsync'd before its rename and the directory after it, so a blob the engine has linked survives
a crash whole, and uploads left in flight by a crash are removed when the store opens again.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from ecrlab.errors import DigestMismatch, SizeMismatch, UploadBusy, UploadUnknown

__all__ = [
    "BlobStorage",
    "BlobStore",
    "DigestMismatch",
    "SizeMismatch",
    "Upload",
    "UploadBusy",
    "UploadUnknown",
    "parse_digest",
]

# fullmatch only: ``$`` would let a trailing newline through ("sha256:<hex>\n").
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_SHA256_ANY_CASE = re.compile(r"sha256:[a-fA-F0-9]{64}")
# The OCI digest grammar, for telling a malformed digest from an unsupported algorithm.
_ANY_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


def parse_digest(value: str) -> str:
    """Return ``value`` if it is a sha256 digest this store can hold, else raise ValueError."""
    value = value or ""
    if _DIGEST.fullmatch(value):
        return value
    if _SHA256_ANY_CASE.fullmatch(value):
        raise ValueError(f"invalid digest {value!r}: the hex must be lowercase")
    if _ANY_DIGEST.fullmatch(value) and not value.startswith("sha256:"):
        raise ValueError(f"unsupported digest algorithm in {value!r}: only sha256 is supported")
    raise ValueError(f"invalid digest {value!r}")


@dataclass
class Upload:
    """One blob upload in progress: bytes appended in order to a private temporary file."""

    id: str
    path: str
    started_at: datetime | None  # lab time
    repository: str = ""  # the repository the upload was started in
    offset: int = 0
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    # A request is streaming into it; a second one at once is out of order. Guarded by _claim_lock.
    busy: bool = False
    _claim_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def append(self, chunks: Iterator[bytes] | list[bytes]) -> int:
        """Write ``chunks`` at the end of the upload; return how many bytes were written."""
        writer = self.writer()
        try:
            for chunk in chunks:
                writer.write(chunk)
        finally:
            writer.close()
        return writer.written

    def writer(self) -> _Writer:
        """A file-like sink for streamed bodies (async callers write chunk by chunk); UploadBusy if
        another writer is open. The caller closes it."""
        with self._claim_lock:
            if self.busy:
                raise UploadBusy(f"another request is writing to upload {self.id}")
            self.busy = True
        try:
            return _Writer(self)
        except BaseException:
            self.busy = False
            raise

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


class _Writer:
    """Appends to an upload across awaits of a streamed body; the caller closes it.

    :meth:`rollback` undoes everything this writer appended (a chunk refused after it arrived, such as
    one longer or shorter than its ``Content-Range``), so the upload can resume where it was.
    """

    def __init__(self, upload: Upload) -> None:
        self.upload = upload
        self.file: BinaryIO = open(upload.path, "ab")  # noqa: SIM115 - held open across chunks
        self.written = 0
        self._start = upload.offset
        self._hash_at_start = upload._hash.copy()

    def write(self, chunk: bytes) -> None:
        if chunk:
            self.file.write(chunk)
            self.upload._hash.update(chunk)
            self.written += len(chunk)
            self.upload.offset += len(chunk)

    def rollback(self) -> None:
        self.file.flush()
        self.file.truncate(self._start)
        self.upload.offset = self._start
        self.upload._hash = self._hash_at_start
        self.written = 0

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()
            self.upload.busy = False


class BlobStore:
    """The blobs of one registry (account, region): ``<root>/blobs/<hex>`` plus uploads in progress."""

    def __init__(self, root: str, durable: bool = False) -> None:
        self.root = root
        self.durable = durable
        self._blobs = os.path.join(root, "blobs")
        self._uploads_dir = os.path.join(root, "uploads")
        os.makedirs(self._blobs, exist_ok=True)
        # Uploads in flight when the last process stopped (or died) are gone: nobody can resume them.
        shutil.rmtree(self._uploads_dir, ignore_errors=True)
        os.makedirs(self._uploads_dir, exist_ok=True)
        self.uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    # -- blobs ------------------------------------------------------------------------------------
    def path(self, digest: str) -> str:
        return os.path.join(self._blobs, parse_digest(digest).split(":", 1)[1])

    def exists(self, digest: str) -> bool:
        try:
            return os.path.exists(self.path(digest))
        except ValueError:
            return False

    def size(self, digest: str) -> int:
        return os.path.getsize(self.path(digest))

    def open(self, digest: str) -> BinaryIO:
        return open(self.path(digest), "rb")

    def read(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    # -- uploads ----------------------------------------------------------------------------------
    def start_upload(self, upload_id: str, started_at: datetime | None, repository: str = "") -> Upload:
        path = os.path.join(self._uploads_dir, upload_id)
        open(path, "wb").close()
        upload = Upload(upload_id, path, started_at, repository)
        with self._lock:
            self.uploads[upload_id] = upload
        return upload

    def upload(self, upload_id: str) -> Upload | None:
        with self._lock:
            return self.uploads.get(upload_id)

    def commit(self, upload_id: str, digest: str, size: int | None = None) -> str:
        """Verify the upload's digest (and size when given) and move it into place.

        On a mismatch the upload is discarded (its bytes are never visible) and DigestMismatch or
        SizeMismatch is raised; UploadUnknown if the upload is gone (finished or cancelled meanwhile).
        """
        parse_digest(digest)
        with self._lock:
            upload = self.uploads.pop(upload_id, None)
        if upload is None:
            raise UploadUnknown(upload_id)
        try:
            if size is not None and upload.offset != size:
                raise SizeMismatch(f"received {upload.offset} bytes but the client declared {size}")
            if upload.digest != digest:
                raise DigestMismatch(f"the content hashes to {upload.digest}, not {digest}")
            if self.durable:
                _fsync_path(upload.path)
            os.replace(upload.path, self.path(digest))
            if self.durable:
                _fsync_path(self._blobs)  # the rename itself
        finally:
            if os.path.exists(upload.path):
                os.remove(upload.path)
        return digest

    def cancel(self, upload_id: str) -> None:
        """Discard an upload; UploadUnknown if it is gone (finished or cancelled meanwhile)."""
        with self._lock:
            upload = self.uploads.pop(upload_id, None)
        if upload is None:
            raise UploadUnknown(upload_id)
        if os.path.exists(upload.path):
            os.remove(upload.path)


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStorage:
    """Every registry's blob store: under ``root`` when given (a data directory's blobs, kept and written
    durably), else under a lab-owned temporary directory removed by :meth:`close`."""

    def __init__(self, root: str | None = None) -> None:
        self._kept = root is not None
        self._root: str | None = root
        if root is not None:
            os.makedirs(root, exist_ok=True)
            for entry in os.scandir(root):  # uploads a crash left, also in registries not opened this time
                shutil.rmtree(os.path.join(entry.path, "uploads"), ignore_errors=True)
        self._stores: dict[tuple[str, str], BlobStore] = {}
        self._lock = threading.Lock()

    def store(self, account: str, region: str) -> BlobStore:
        with self._lock:
            key = (account, region)
            if key not in self._stores:
                if self._root is None:
                    self._root = tempfile.mkdtemp(prefix="ecrlab-blobs-")
                    # A kernel that exits without lab.stop() must not leave its layers on disk.
                    atexit.register(self.close)
                self._stores[key] = BlobStore(os.path.join(self._root, f"{account}-{region}"), durable=self._kept)
            return self._stores[key]

    def close(self) -> None:
        """Remove the blobs of a temporary store; a kept store loses only its uploads in flight."""
        with self._lock:
            if self._kept:
                for store in self._stores.values():
                    shutil.rmtree(store._uploads_dir, ignore_errors=True)
            elif self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
            self._stores.clear()

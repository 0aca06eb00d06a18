"""Keeping the engine's state on disk: ``ecrlab.start(data_dir=DIR)`` and ``ecrlab serve --data-dir DIR``.

Layout of a data directory::

    DIR/lock          held (flock) by the one process serving DIR; holds its pid
    DIR/ecrlab.db     SQLite (WAL): one row per registry, repository and image, plus engine-wide state
    DIR/blobs/        the blob store: <account>-<region>/blobs/<sha256 hex>, uploads in progress beside them

Rows carry their identity in columns and everything else as one JSON document written generically from the
model's dataclasses (:mod:`ecrlab.ecr.model`): a field added to ``Registry``, ``Repository`` or
``ImageRecord`` is kept without code here. The few fields that describe work in flight rather than state
(:data:`TRANSIENT`) are not kept, and neither is anything outside the engine (see :data:`NOT_KEPT`).

When a change is durable: every state change happens under ``engine.lock``. With a data directory that lock
is a :class:`CommittingLock`, which, when its outermost holder releases it, compares the model with what
was last written and writes the difference in one SQLite transaction (synchronous=FULL) before letting go.
So a call has been committed before its answer is sent, a lifecycle run or a replication copy (each done
under one hold of the lock) is committed whole or not at all, and blobs, fsync'd and renamed into place
before the metadata that names them, are on disk before any image that needs them is.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import fcntl
import inspect
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecrlab.ecr import model
from ecrlab.ecr.archive import ACTIVATING, ARCHIVED
from ecrlab.ecr.model import ImageRecord, Registry, Repository
from ecrlab.errors import DataDirLocked, LabError

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine

__all__ = ["MIGRATIONS", "NOT_KEPT", "SCHEMA_VERSION", "TRANSIENT", "CommittingLock", "DataDir", "decode", "encode"]

log = logging.getLogger(__name__)

#: Schema changes, oldest first: entry N takes a database from user_version N to N + 1. Never edit an
#: entry once released; append a new one (a test opens a database written at version 1).
MIGRATIONS: list[str] = [
    # 1: identity columns plus one JSON document per registry, repository and image.
    """
    CREATE TABLE registries (account TEXT NOT NULL, region TEXT NOT NULL, doc TEXT NOT NULL,
                             PRIMARY KEY (account, region));
    CREATE TABLE repositories (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
                               PRIMARY KEY (account, region, name));
    CREATE TABLE images (account TEXT NOT NULL, region TEXT NOT NULL, repository TEXT NOT NULL,
                         digest TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, repository, digest));
    """,
    # 2: engine-wide state (the image sequence, registry passwords, the lab time of the last change).
    """
    CREATE TABLE state (key TEXT PRIMARY KEY, doc TEXT NOT NULL);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

#: Model fields that describe work in flight, not state: dropped on restart (uploads in flight are gone
#: with their bytes, a download URL is short-lived, a lifecycle preview is run again).
TRANSIENT: dict[type, frozenset[str]] = {
    Registry: frozenset({"repositories", "download_urls"}),
    Repository: frozenset({"images", "layer_uploads", "lifecycle_preview"}),
}

#: What a data directory does not keep, said where a lab starts with one and in docs/serve.md.
NOT_KEPT = (
    "IAM users, roles, policies and access keys, Secrets Manager secrets and the other moto services, "
    "image scan results (start a scan again), the CloudTrail-shaped trail, CloudWatch metrics and "
    "EventBridge rules, lifecycle policy previews, and uploads in flight"
)

_DB = "ecrlab.db"
_REPLICATION_INTERRUPTED = (
    "ecrlab restarted before this copy finished: nothing of it is in the destination; push the image again"
)


# -- the document codec ------------------------------------------------------------------------------
def _model_types() -> dict[str, type]:
    """Every dataclass and enum defined in the model, by name: what a document may name as ``$dc``."""
    return {
        name: obj
        for name, obj in vars(model).items()
        if inspect.isclass(obj)
        and obj.__module__ == model.__name__
        and (dataclasses.is_dataclass(obj) or issubclass(obj, Enum))
    }


def encode(value: Any, where: str = "") -> Any:
    """``value`` as JSON-ready data that :func:`decode` turns back into an equal value.

    Types JSON lacks are tagged: ``{"$dt": iso}``, ``{"$b": base64}``, ``{"$tuple": [...]}``, ``{"$set": [...]}``,
    ``{"$dict": [[k, v], ...]}`` (keys that are not plain strings), ``{"$dc": name, "f": {...}}`` for the model's
    dataclasses and ``{"$enum": name, "v": value}``. Anything else raises TypeError naming ``where``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return {"$enum": type(value).__name__, "v": encode(value.value, where)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [encode(v, f"{where}[]") for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, f"{where}[]") for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((encode(v, f"{where}[]") for v in value), key=json.dumps)}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, f"{where}.{k}") for k, v in value.items()}
        return {"$dict": [[encode(k, where), encode(v, f"{where}[{k!r}]")] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _model_types().get(name) is not type(value):
            raise TypeError(f"{where}: {type(value).__qualname__} is not a dataclass of ecrlab.ecr.model")
        return {"$dc": name, "f": _encode_fields(value, where)}
    raise TypeError(f"{where}: cannot keep a {type(value).__qualname__} in a data directory")


def _encode_fields(obj: Any, where: str, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        f.name: encode(getattr(obj, f.name), f"{where}.{f.name}") for f in dataclasses.fields(obj) if f.name not in skip
    }


def decode(value: Any, types: dict[str, type] | None = None) -> Any:
    """The value :func:`encode` made ``value`` from."""
    types = _model_types() if types is None else types
    if isinstance(value, list):
        return [decode(v, types) for v in value]
    if not isinstance(value, dict):
        return value
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$b" in value:
        return base64.b64decode(value["$b"])
    if "$tuple" in value:
        return tuple(decode(v, types) for v in value["$tuple"])
    if "$set" in value:
        return {decode(v, types) for v in value["$set"]}
    if "$dict" in value:
        return {_hashable(decode(k, types)): decode(v, types) for k, v in value["$dict"]}
    if "$enum" in value:
        return types[value["$enum"]](decode(value["v"], types))
    if "$dc" in value:
        return _build(types[value["$dc"]], {k: decode(v, types) for k, v in value["f"].items()})
    return {k: decode(v, types) for k, v in value.items()}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key


def _build(cls: type, fields: dict[str, Any]) -> Any:
    """``cls`` from stored fields: a field the model has since dropped is ignored, one it has since
    gained takes its default."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    obj = cls(**{k: v for k, v in fields.items() if k in known and known[k].init})
    for name, value in fields.items():
        if name in known and not known[name].init:
            object.__setattr__(obj, name, value)
    return obj


# -- the lock that commits -----------------------------------------------------------------------------
class CommittingLock:
    """A re-entrant lock that runs ``commit()`` when its outermost holder releases it (still holding it),
    so whatever changed under the lock is on disk before anyone else sees it or a caller is answered."""

    def __init__(self, commit: Callable[[], None]) -> None:
        self._lock = threading.RLock()
        self._commit = commit
        self._depth = 0  # only the holder changes it
        self._changes = True  # whether the outermost hold may have changed state (False: a reading hold)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._depth += 1
            self._changes = True  # any ordinary hold may change state, even inside a reading one
        return got

    def release(self) -> None:
        try:
            if self._depth == 1 and self._changes:
                self._commit()
        finally:
            self._depth -= 1
            self._lock.release()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock for a look that changes nothing (a token, a blob's size, a manifest): when it is the
        outermost hold, there is nothing to compare or write when it is let go. A push makes dozens of these."""
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            self._changes = False
        try:
            yield
        finally:
            self.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# -- the data directory ---------------------------------------------------------------------------------
_Key = tuple[str, ...]


class DataDir:
    """One data directory, locked for this process: loads the engine's state and writes its changes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        self.blobs = str(self.path / "blobs")
        self._lock_fd = _take_lock(self.path / "lock")
        try:
            self.db = sqlite3.connect(self.path / _DB, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a transaction is on disk (not only in the OS's cache) when COMMIT returns.
            self.db.execute("PRAGMA synchronous=FULL")
            migrate(self.db, self.path)
        except BaseException:
            self._release_lock()
            raise
        # What was last written, row by row: commit() writes only what differs from it. Images apart, per
        # repository: (digests in order, their instance dicts in that order, digest -> instance dict).
        self._written: dict[_Key, Any] = {}
        self._images: dict[tuple[str, str, str], tuple[list[str], list[dict[str, Any]], dict[str, dict[str, Any]]]] = {}
        self._rewrite = False  # a commit failed: what is on disk is unknown, write it all again
        self._engine: Engine | None = None

    # -- loading ------------------------------------------------------------------------------
    def load(self, engine: Engine) -> None:
        """Put the stored state into ``engine`` (which holds none yet) and start committing its changes."""
        types = _model_types()
        state = {key: decode(json.loads(doc), types) for key, doc in self.db.execute("SELECT key, doc FROM state")}
        saved_at = state.get("engine", {}).get("time")
        if saved_at is not None and saved_at > engine.clock.now():
            # The lab clock may have been moved forward (time travel): it never runs backwards over a restart.
            engine.clock.advance(seconds=(saved_at - engine.clock.now()).total_seconds())
        registries: dict[tuple[str, str], Registry] = {}
        for account, region, doc in self.db.execute("SELECT account, region, doc FROM registries"):
            registries[(account, region)] = _build(Registry, _fields(doc, types))
        for account, region, name, doc in self.db.execute("SELECT account, region, name, doc FROM repositories"):
            registry = registries.setdefault((account, region), Registry(account, region))
            registry.repositories[name] = _build(Repository, _fields(doc, types))
        rows = self.db.execute("SELECT account, region, repository, digest, doc FROM images")
        for account, region, repository, digest, doc in rows:
            registry = registries.get((account, region))
            repo = registry.repositories.get(repository) if registry is not None else None
            if repo is not None:
                repo.images[digest] = _build(ImageRecord, _fields(doc, types))
        # A row rewritten moves to the table's end: put repositories and images back in their order of
        # arrival, the order the engine lists them in.
        for registry in registries.values():
            ordered = sorted(registry.repositories.values(), key=lambda r: r.created_at)
            registry.repositories = {repo.name: repo for repo in ordered}
            for repo in ordered:
                repo.images = dict(sorted(repo.images.items(), key=lambda item: item[1].sequence))
        engine_state = state.get("engine", {})
        with engine.lock:
            engine.registries = registries
            engine.restore_state(engine_state.get("sequence", 0), engine_state.get("tokens", {}))
        self._engine = engine
        with engine.lock:
            self.commit(write=False)  # what was loaded is what is on disk
        with engine.lock:  # committed as any change is
            for registry in registries.values():
                _settle_interrupted_work(registry, engine.clock.now())

    # -- committing ---------------------------------------------------------------------------
    def commit(self, write: bool = True) -> None:
        """Write what changed in the engine since the last commit, in one transaction. Callers hold the
        engine's lock (the :class:`CommittingLock` calls this). ``write=False`` only records the engine's
        state as what is on disk (just after loading it)."""
        engine = self._engine
        if engine is None:
            return
        upserts: list[tuple[_Key, dict[str, Any]]] = []
        deletes: list[_Key] = []
        seen: set[_Key] = {("state", "engine")}
        for (account, region), registry in engine.registries.items():
            self._check(("registries", account, region), _snapshot(registry), upserts, seen)
            for name, repo in registry.repositories.items():
                self._check(("repositories", account, region, name), _snapshot(repo), upserts, seen)
                self._check_images((account, region, name), repo, upserts, deletes)
        for key in [k for k in self._written if k not in seen]:
            deletes.append(key)
            del self._written[key]
            if key[0] == "repositories":
                deletes.append(("images_of", *key[1:]))
                self._images.pop(key[1:], None)
        state = {"sequence": engine.sequence, "tokens": engine.tokens}
        state_changed = self._written.get(("state", "engine")) != state
        if not (upserts or deletes or state_changed) or not write:
            self._written[("state", "engine")] = copy.deepcopy(state)
            return
        self._written[("state", "engine")] = copy.deepcopy(state)
        # The lab time of the last change rides with every write (it is not itself a change).
        upserts.append((("state", "engine"), {**state, "time": engine.clock.now()}))
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self._rewrite:
                    for table in ("registries", "repositories", "images"):
                        self.db.execute(f"DELETE FROM {table}")
                for table, *identity in deletes:
                    self.db.execute(f"DELETE FROM {_WHERE[table]}", identity)
                for key, fields in upserts:
                    doc = json.dumps(encode(fields, "/".join(key)), separators=(",", ":"))
                    self.db.execute(_INSERT[key[0]], [*key[1:], doc])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except BaseException:
            # Memory is ahead of the disk now, by changes this commit no longer knows: the next commit
            # rewrites everything.
            self._written, self._images, self._rewrite = {}, {}, True
            raise
        self._rewrite = False

    def _check(
        self, key: _Key, fields: dict[str, Any], upserts: list[tuple[_Key, dict[str, Any]]], seen: set[_Key]
    ) -> None:
        seen.add(key)
        if self._written.get(key) == fields:
            return
        self._written[key] = copy.deepcopy(fields)
        upserts.append((key, fields))

    def _check_images(
        self,
        where: tuple[str, str, str],
        repo: Repository,
        upserts: list[tuple[_Key, dict[str, Any]]],
        deletes: list[_Key],
    ) -> None:
        """The images of one repository that changed. Images are most of the state and most commits change
        none of them: one comparison of the repository's digests and instance dicts, done in C, settles that."""
        digests = list(repo.images)
        fields = list(map(vars, repo.images.values()))
        before = self._images.get(where)
        if before is not None and before[0] == digests and before[1] == fields:
            return
        old = before[2] if before is not None else {}
        kept: dict[str, dict[str, Any]] = {}
        for digest, current in zip(digests, fields):
            previous = old.get(digest)
            if previous is not None and previous == current:
                kept[digest] = previous
            else:
                kept[digest] = copy.deepcopy(current)
                upserts.append((("images", *where, digest), current))
        deletes.extend(("images", *where, digest) for digest in old.keys() - kept.keys())
        self._images[where] = (digests, [kept[d] for d in digests], kept)

    # -- closing ------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop committing, close the database and let another process have the directory."""
        self._engine = None
        if self.db is not None:
            self.db.close()
            self.db = None  # type: ignore[assignment]
        self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


_WHERE = {
    "registries": "registries WHERE account = ? AND region = ?",
    "repositories": "repositories WHERE account = ? AND region = ? AND name = ?",
    "images": "images WHERE account = ? AND region = ? AND repository = ? AND digest = ?",
    "images_of": "images WHERE account = ? AND region = ? AND repository = ?",
}
_INSERT = {
    "registries": "INSERT OR REPLACE INTO registries VALUES (?, ?, ?)",
    "repositories": "INSERT OR REPLACE INTO repositories VALUES (?, ?, ?, ?)",
    "images": "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?, ?)",
    "state": "INSERT OR REPLACE INTO state VALUES (?, ?)",
}


def _snapshot(obj: Registry | Repository) -> dict[str, Any]:
    skip = TRANSIENT[type(obj)]
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name not in skip}


def _fields(doc: str, types: dict[str, type]) -> dict[str, Any]:
    return {k: decode(v, types) for k, v in json.loads(doc).items()}


def _settle_interrupted_work(registry: Registry, now: datetime) -> None:
    """Work on the lab clock that was pending when the process stopped is gone with its scheduled job:
    settle what it left rather than leave it in progress for ever. A replication copy (committed whole, so
    its destination shows none of it) is FAILED; a restore from the archive is undone (the image is
    ARCHIVED again, to be restored again)."""
    for statuses in registry.replication_statuses.values():
        for status in statuses.values():
            if status.status == "IN_PROGRESS":
                status.status, status.updated_at, status.reason = "FAILED", now, _REPLICATION_INTERRUPTED
    for repo in registry.repositories.values():
        for image in repo.images.values():
            if image.status == ACTIVATING:
                image.status = ARCHIVED
                image.restore_id += 1


def migrate(db: sqlite3.Connection, where: Path) -> int:
    """Bring ``db`` to :data:`SCHEMA_VERSION`, one migration per transaction; returns the version it had."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise LabError(
            f"the data directory {where} was written by a newer ecrlab (schema {version}; this one reads up to "
            f"{SCHEMA_VERSION}): upgrade ecrlab, or use another --data-dir"
        )
    for number in range(version, SCHEMA_VERSION):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return version


def _statements(script: str) -> Iterator[str]:
    # executescript() would COMMIT first; each migration must be one transaction with its version bump.
    for statement in script.split(";"):
        if statement.strip():
            yield statement


def _take_lock(path: Path) -> int:
    """Hold ``path`` (flock) for this process and write our pid in it; DataDirLocked if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise DataDirLocked(str(path.parent), holder) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd

"""The ECR engine: the sandbox's truth about registries, repositories and images.

The engine has no HTTP in it. Adapters (the moto hook for the API, the OCI registry for the data
plane) turn requests into :meth:`Engine.call` and its answers and :class:`~ecrlab.errors.ServiceError`
exceptions back into their wire formats, so both faces share one state and one set of rules.

What happens is published on ``engine.events`` (:mod:`ecrlab.ecr.events`): every call as a
:class:`~ecrlab.ecr.events.CallDecided`, and each state change as its own typed event, for the features
that react to them (lifecycle pull times, scanning, replication, monitoring, widgets).
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecrlab.clock import LabClock
from ecrlab.ecr import params as param_rules
from ecrlab.ecr.blobstore import BlobStorage
from ecrlab.ecr.events import CallDecided, EventStream
from ecrlab.ecr.model import ImageRecord, Principal, Registry, Repository
from ecrlab.ecr.operations import OPERATIONS, Call
from ecrlab.errors import LabError, NotEmulatedException, RepositoryNotFoundException, ServiceError

if TYPE_CHECKING:
    from ecrlab.ecr.persist import CommittingLock, DataDir

__all__ = ["PUSH_OPERATIONS", "Authorizer", "Engine"]

# decides (call, action, resource ARN) -> None, or raises AccessDeniedException
Authorizer = Callable[[Call, str, str], None]
#: The operations that start or finish a push: where ECR's create-on-push may create a missing repository.
PUSH_OPERATIONS = frozenset({"InitiateLayerUpload", "PutImage"})
# Request parameters that carry bytes, left out of the CallDecided record (CloudTrail leaves them out too).
_BULKY_PARAMETERS = ("layerPartBlob", "imageManifest")


def _allow_all(call: Call, action: str, resource: str) -> None:
    return None


class Engine:
    """State and rules of every registry in the lab, behind one re-entrant lock."""

    def __init__(self, clock: LabClock, seed: int | None = None) -> None:
        self.clock = clock
        # Replaced by a lock that commits to disk when the engine keeps its state (keep_state_in).
        self.lock: threading.RLock | CommittingLock = threading.RLock()
        self.registries: dict[tuple[str, str], Registry] = {}
        self.events = EventStream()
        # Work that takes time in AWS runs when the lab's time reaches it: checked here and at every call.
        clock.on_advance(lambda before, after: self.events.run_due(after))
        self.authorizer: Authorizer = _allow_all
        self._random = random.Random(seed) if seed is not None else random.SystemRandom()
        self._sequence = 0
        # The registries' blob bytes, shared by the data plane and the layer-upload operations.
        self.blobs = BlobStorage()
        # Registry passwords issued by GetAuthorizationToken: password -> (principal, expiresAt).
        self.tokens: dict[str, tuple[Principal, datetime]] = {}
        # Features that add fields to DescribeImages' ImageDetail (scanning adds the scan), called under the lock
        # with (repository, image, detail): the engine shows what they know without importing them.
        self.image_details_extensions: list[Callable[[Repository, ImageRecord, dict[str, Any]], None]] = []
        # "host:port" of the data plane serving (account, region); the lab points it at its servers.
        self.registry_endpoint: Callable[[str, str], str] | None = None
        # The URL `docker login` is given for (account, region), GetAuthorizationToken's proxyEndpoint:
        # None means "http://" + registry_endpoint; `ecrlab serve --aws-hostnames` makes it the AWS host.
        self.proxy_endpoint: Callable[[str, str], str] | None = None
        # Asked (under the lock) before a push runs, so a missing repository can be created by a
        # CREATE_ON_PUSH creation template; when it stays missing the push fails as in ECR.
        self.repository_missing: Callable[[Call], None] | None = None
        # Asked (outside the lock: it may fetch from an upstream registry over HTTP) before a manifest read
        # (BatchGetImage, on the API or the registry), so a pull through cache rule can create the
        # repository and fetch the image.
        self.pull_through: Callable[[Call], None] | None = None
        #: Where the state is kept across restarts (see keep_state_in), or None: in memory only.
        self.data_dir: DataDir | None = None

    # -- keeping state ----------------------------------------------------------------------------
    def keep_state_in(self, path: str | os.PathLike[str]) -> DataDir:
        """Load the state kept in the data directory ``path`` and commit every later change there before it
        is answered (:mod:`ecrlab.ecr.persist`); blobs go to ``path/blobs``. Call it before the engine serves
        anything. DataDirLocked if another process keeps its state there."""
        from ecrlab.ecr.persist import CommittingLock, DataDir

        if self.registries or self.data_dir is not None:
            raise LabError("an engine takes its data directory before it holds any state")
        data_dir = DataDir(path)
        self.blobs.close()
        self.blobs = BlobStorage(data_dir.blobs)
        self.lock = CommittingLock(data_dir.commit)
        try:
            data_dir.load(self)
        except BaseException:
            data_dir.close()
            raise
        self.data_dir = data_dir
        return data_dir

    def reading(self) -> AbstractContextManager[Any]:
        """The lock, held for a look that changes nothing: with a data directory, letting it go writes nothing
        (an ordinary hold compares the whole state with what is on disk). Never change state under it."""
        reading = getattr(self.lock, "reading", None)
        return reading() if reading is not None else self.lock

    def close(self) -> None:
        """Release the blob store and the data directory (a kept state stays on disk)."""
        self.blobs.close()
        if self.data_dir is not None:
            with self.lock:
                self.data_dir.close()
            self.data_dir = None

    @property
    def sequence(self) -> int:
        """The last number :meth:`next_sequence` handed out."""
        return self._sequence

    def restore_state(self, sequence: int, tokens: dict[str, tuple[Principal, datetime]]) -> None:
        """Carry on from a kept state: image sequence numbers and the registry passwords issued before."""
        with self.lock:
            self._sequence = sequence
            self.tokens = dict(tokens)

    # -- ids --------------------------------------------------------------------------------------
    def new_id(self) -> str:
        """A fresh UUID, reproducible in deterministic mode."""
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def next_sequence(self) -> int:
        with self.lock:
            self._sequence += 1
            return self._sequence

    # -- state lookups ----------------------------------------------------------------------------
    def registry(self, account: str, region: str) -> Registry:
        key = (account, region)
        # Registries are only ever added: finding one needs no lock (and no commit of a data directory).
        found = self.registries.get(key)
        if found is not None:
            return found
        with self.lock:
            if key not in self.registries:
                self.registries[key] = Registry(account, region)
            return self.registries[key]

    def repository(self, account: str, region: str, name: str) -> Repository:
        repo = self.registry(account, region).repositories.get(name)
        if repo is None:
            raise RepositoryNotFoundException(name, account)
        return repo

    # -- calls ------------------------------------------------------------------------------------
    def call(
        self,
        operation: str,
        params: dict[str, Any],
        principal: Principal,
        region: str,
        *,
        source: str = "api",
        source_ip: str = "127.0.0.1",
        user_agent: str = "",
    ) -> dict[str, Any]:
        """Run one ECR operation as ``principal`` and return its response dict.

        Raises a ServiceError subclass with ECR's code and wording when the request fails.
        """
        return self._run(operation, params, principal, region, source, source_ip, user_agent, execute=True)

    def authorize(
        self,
        operation: str,
        params: dict[str, Any],
        principal: Principal,
        region: str,
        *,
        source: str = "registry",
        source_ip: str = "127.0.0.1",
        user_agent: str = "",
    ) -> None:
        """Decide and record an action that the data plane carries out itself (a streamed blob
        upload or download), with the same checks and event record as :meth:`call`."""
        self._run(operation, params, principal, region, source, source_ip, user_agent, execute=False)

    def _run(
        self,
        operation: str,
        params: dict[str, Any],
        principal: Principal,
        region: str,
        source: str,
        source_ip: str,
        user_agent: str,
        execute: bool,
    ) -> dict[str, Any]:
        self.events.run_due(self.clock.now())
        call = Call(self, operation, principal, region, dict(params), source, source_ip, user_agent)
        response: dict[str, Any] | None = None
        error: ServiceError | None = None
        decided = False
        try:
            op = OPERATIONS.get(operation)
            if op is None:
                raise NotEmulatedException(
                    f"The ECR operation {operation} is not emulated by the ecrlab sandbox yet "
                    "(see docs/ecr-coverage.md); nothing was changed"
                )
            param_rules.validate(operation, call.params)
            self.authorizer(call, op.action, self.resource_arn(call, op.resource))
            if operation in PUSH_OPERATIONS and self.repository_missing is not None:
                with self.lock:
                    if call.params.get("repositoryName") not in call.registry.repositories:
                        self.repository_missing(call)
            if operation == "BatchGetImage" and self.pull_through is not None:
                self.pull_through(call)
            if not execute:
                return {}
            # The change and its record in one hold of the lock: one commit of a data directory per call.
            with self.lock:
                try:
                    response = op.handler(call)
                except ServiceError as exc:
                    error = exc
                    raise
                finally:
                    decided = True
                    self.events.enqueue(self._decided(call, response, error))
            return response
        except ServiceError as exc:
            error = exc
            raise
        finally:
            if not decided:
                with self.lock:
                    self.events.enqueue(self._decided(call, response, error))
            self.events.deliver()

    def resource_arn(self, call: Call, kind: str) -> str:
        if kind == "repository" and call.params.get("repositoryName"):
            from ecrlab.ecr.model import repository_arn

            return repository_arn(call.registry_id, call.region, call.params["repositoryName"])
        if kind == "resourceArn" and call.params.get("resourceArn"):
            return call.params["resourceArn"]
        return "*"

    def _decided(self, call: Call, response: dict[str, Any] | None, error: ServiceError | None) -> CallDecided:
        return CallDecided(
            account=call.registry_id,
            region=call.region,
            time=self.clock.now(),
            operation=call.operation,
            principal=call.principal,
            source=call.source,
            source_ip=call.source_ip,
            user_agent=call.user_agent,
            request_id=self.new_id(),
            params={k: v for k, v in call.params.items() if k not in _BULKY_PARAMETERS},
            response=response,
            error_code=error.code if error is not None else None,
            error_message=error.message if error is not None else None,
        )

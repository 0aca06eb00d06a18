"""What the OCI data plane asks of the engine besides ECR operations: blob links, streamed uploads,
cross-repository mounts, download URLs, and the manifest reads that are not pulls.

The registry's handlers translate HTTP and nothing else: every state change and every rule a blob
request needs lives here, and each method takes the engine's lock itself. Authorization is not here:
handlers ask :meth:`~ecrlab.ecr.engine.Engine.authorize` first, as for any ECR action.

Errors are the engine's: ECR's :class:`~ecrlab.errors.ServiceError` subclasses where ECR has one
(``RepositoryNotFoundException``, ``UploadNotFoundException``), and the blob store's
:class:`~ecrlab.ecr.blobstore.DigestMismatch` / :class:`~ecrlab.ecr.blobstore.SizeMismatch` /
:class:`~ecrlab.ecr.blobstore.UploadBusy` for what only a streamed upload can get wrong.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, BinaryIO

from ecrlab.ecr.blobstore import BlobStore, Upload
from ecrlab.ecr.events import LayerUploaded
from ecrlab.ecr.images import find_image, referrers, unpullable
from ecrlab.ecr.layers import layer_links, link_layer, resolve_download, upload_not_found
from ecrlab.ecr.model import ImageRecord, Principal, Repository
from ecrlab.errors import UploadUnknown

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine

__all__ = ["BLOB_MOUNTING", "DataPlane"]

#: The account setting that lets a push mount a layer from another repository of the registry.
BLOB_MOUNTING = "BLOB_MOUNTING"


class DataPlane:
    """The engine as one registry (account, region) serves it over ``/v2/``."""

    def __init__(self, engine: Engine, account: str, region: str) -> None:
        self.engine, self.account, self.region = engine, account, region

    @property
    def _store(self) -> BlobStore:
        return self.engine.blobs.store(self.account, self.region)

    def _repository(self, name: str) -> Repository:
        """RepositoryNotFoundException if ``name`` is gone; callers hold the lock."""
        return self.engine.repository(self.account, self.region, name)

    # -- blobs ------------------------------------------------------------------------------------
    def blob_size(self, name: str, digest: str) -> int | None:
        """The size of ``digest`` if the repository holds it (pushed or mounted there), else None."""
        with self.engine.reading():
            size = layer_links(self._repository(name)).get(digest)
        return size if size is not None and self._store.exists(digest) else None

    def open_blob(self, digest: str) -> BinaryIO:
        """The bytes of a stored blob (a stored blob is never removed while the lab runs)."""
        return self._store.open(digest)

    def resolve_download(self, token: str) -> tuple[str, int] | None:
        """(digest, size) for a live GetDownloadUrlForLayer token, else None."""
        with self.engine.reading():
            found = resolve_download(self.engine.registry(self.account, self.region), token, self.engine.clock.now())
        if found is None:
            return None
        digest = found[1]
        return digest, self._store.size(digest)

    # -- uploads ----------------------------------------------------------------------------------
    def start_upload(self, name: str) -> Upload:
        with self.engine.lock:
            self._repository(name)
            # Not engine.new_id(): how many uploads a client opens varies from run to run, and the
            # seeded ids a deterministic lab hands out elsewhere must not shift with it.
            return self._store.start_upload(str(uuid.uuid4()), self.engine.clock.now(), name)

    def upload(self, name: str, upload_id: str) -> Upload:
        """An upload in progress in repository ``name``; an upload of another repository (or one
        the layer API started) is unknown here, as it is to ECR."""
        with self.engine.reading():
            repo = self._repository(name)
            upload = self._store.upload(upload_id)
            if upload is None or upload.repository != name:
                raise upload_not_found(repo, upload_id)
            return upload

    def finish_upload(
        self, name: str, upload_id: str, digest: str, principal: Principal, size: int | None = None
    ) -> int:
        """Verify the upload against ``digest`` (and ``size``), store it and link it into the
        repository; return its size. Atomic with :meth:`cancel_upload`: the loser is told the
        upload is unknown."""
        with self.engine.lock:
            repo = self._repository(name)
            self.upload(name, upload_id)
            try:
                self._store.commit(upload_id, digest, size)
            except UploadUnknown:
                raise upload_not_found(repo, upload_id) from None
            stored = self._store.size(digest)
            link_layer(repo, digest, stored)
            self._emit(
                LayerUploaded(self.account, self.region, self.engine.clock.now(), name, digest, stored, principal)
            )
        self.engine.events.deliver()
        return stored

    def cancel_upload(self, name: str, upload_id: str) -> None:
        """Discard an upload in progress; UploadNotFoundException if it is already gone."""
        with self.engine.lock:
            repo = self._repository(name)
            self.upload(name, upload_id)
            try:
                self._store.cancel(upload_id)
            except UploadUnknown:
                raise upload_not_found(repo, upload_id) from None

    def mount(self, name: str, source: str, digest: str, principal: Principal) -> int | None:
        """Link ``digest`` from repository ``source`` into ``name`` and return its size, or None when
        ECR would not mount it and the client must upload the bytes.

        ECR mounts only when the registry's ``BLOB_MOUNTING`` account setting is ``ENABLED``, within
        one registry, between repositories with the same encryption, and only a layer the source
        holds. (The caller checks ``ecr:GetDownloadUrlForLayer`` on the source first.)
        """
        with self.engine.lock:
            registry = self.engine.registry(self.account, self.region)
            if registry.account_settings.get(BLOB_MOUNTING) != "ENABLED":
                return None
            target = self._repository(name)
            origin = registry.repositories.get(source)
            if origin is None or origin is target or origin.encryption != target.encryption:
                return None
            size = layer_links(origin).get(digest)
            if size is None or not self._store.exists(digest):
                return None
            link_layer(target, digest, size)
            now = self.engine.clock.now()
            self._emit(LayerUploaded(self.account, self.region, now, name, digest, size, principal, source))
        self.engine.events.deliver()
        return size

    def _emit(self, event: LayerUploaded) -> None:
        """Queue ``event`` in the order of the state changes (callers hold the lock); delivered once
        the lock is released (see :mod:`ecrlab.ecr.events`)."""
        self.engine.events.enqueue(event)

    # -- manifest reads that are not pulls -------------------------------------------------------
    def find_manifest(self, name: str, image_id: dict[str, str]) -> tuple[ImageRecord | None, str]:
        """(image, '') for an image id, or (None, ECR's failure reason); records no pull."""
        with self.engine.reading():
            image, _, reason = find_image(self._repository(name), image_id)
            if image is not None and not image.active:
                return None, unpullable(image)  # an archived image answers 404, as a GET does
            return image, reason

    def subject_of(self, name: str, digest: str) -> str | None:
        """The digest the manifest ``digest`` names as its ``subject``, if any."""
        with self.engine.reading():
            image = self._repository(name).images.get(digest)
            return image.subject if image is not None else None

    def referrers(self, name: str, digest: str, artifact_type: str | None) -> list[ImageRecord]:
        """The manifests of ``name`` whose subject is ``digest``, optionally of one artifact type."""
        with self.engine.reading():
            return list(referrers(self._repository(name), digest, [artifact_type] if artifact_type else None))

"""Images of random bytes, for tests that need a distinct image in a repository without building one.

They are :class:`ecrlab.images.Image` objects like any built image (push them with
:class:`ecrlab.images.RegistryClient`); the layers are random bytes labelled as gzip'd tars, which no
registry looks inside.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ecrlab.images import Blob, Image, Platform
from ecrlab.images.oci import canonical_json
from ecrlab.oci import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256_digest

__all__ = ["random_image"]


def random_image(
    layers: int = 1,
    layer_size: int = 1024,
    shared: Iterable[bytes] = (),
    subject: dict[str, Any] | None = None,
    artifact_type: str | None = None,
) -> Image:
    """An OCI image of ``layers`` random layers of ``layer_size`` bytes, after the ``shared`` layers given
    (``layers=0, shared=[content]`` makes the same image every time). ``subject`` (a descriptor) and
    ``artifact_type`` make it a referrer, as a signature or an SBOM is."""
    contents = [*shared, *(os.urandom(layer_size) for _ in range(layers))]
    config = Blob(
        OCI_CONFIG,
        canonical_json(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [sha256_digest(c) for c in contents]},
            }
        ),
    )
    blobs = tuple(Blob(OCI_LAYER, c) for c in contents)
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [b.descriptor() for b in blobs],
    }
    if artifact_type:
        doc["artifactType"] = artifact_type
    if subject:
        doc["subject"] = subject
    return Image(canonical_json(doc), config, blobs, Platform("linux", "amd64"))

"""The OCI and Docker media types ecrlab reads and writes, and the digest of a byte string.

One table for the whole package: the image builder (:mod:`ecrlab.images`), the engine's manifest
rules (:mod:`ecrlab.ecr.manifests`) and the registry all name media types from here. It is a leaf
module (standard library only), so the lowest layer can import it without pulling anything else.
"""

from __future__ import annotations

import hashlib

__all__ = [
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_UNCOMPRESSED",
    "OCI_MANIFEST",
    "sha256_digest",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_UNCOMPRESSED = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

# The manifest types ecrlab's engine accepts, split by what they point at: image manifests name a
# config and layers, indexes name other manifests.
MANIFEST_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_LIST, OCI_INDEX)


def sha256_digest(data: bytes) -> str:
    """The OCI digest of ``data``: ``sha256:`` and 64 lowercase hex characters."""
    return "sha256:" + hashlib.sha256(data).hexdigest()

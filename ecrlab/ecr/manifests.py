"""Reading image manifests as ECR reads them: media type, referenced blobs and images, size.

ECR stores the exact bytes it was given (the image digest is their sha256) and refuses what it
cannot read with ``InvalidParameterException``. Supported: Docker V2 schema 2, Docker manifest
list, OCI image manifest (including artifacts with ``artifactType`` or a ``subject``) and OCI
image index; at most 4,194,304 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ecrlab.ecr.jsonlimits import loads_bounded
from ecrlab.errors import InvalidParameterException, SerializationException
from ecrlab.oci import INDEX_TYPES, MANIFEST_TYPES, sha256_digest

__all__ = ["MAX_MANIFEST_BYTES", "Manifest", "parse_manifest"]

MAX_MANIFEST_BYTES = 4_194_304
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass
class Manifest:
    """What the engine needs to know about one manifest."""

    raw: bytes
    media_type: str
    digest: str
    blobs: list[tuple[str, int]] = field(default_factory=list)  # config + layers: (digest, size)
    layer_sizes: list[int] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # manifests an index refers to
    subject: str | None = None
    artifact_type: str | None = None
    config_media_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _bad(why: str) -> InvalidParameterException:
    return InvalidParameterException(f"Invalid parameter at 'ImageManifest' failed to satisfy constraint: '{why}'")


def _descriptor(value: Any, where: str) -> tuple[str, int, dict[str, Any]]:
    if not isinstance(value, dict):
        raise _bad(f"{where} must be a descriptor object")
    digest, size = value.get("digest"), value.get("size")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise _bad(f"{where} has an invalid digest")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise _bad(f"{where} has an invalid size")
    if not isinstance(value.get("mediaType"), str):
        raise _bad(f"{where} has no mediaType")
    return digest, size, value


def parse_manifest(raw: bytes, declared_media_type: str | None = None) -> Manifest:
    """Parse ``raw`` or raise InvalidParameterException worded as ECR words it."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _bad(f"Manifest exceeds the maximum size of {MAX_MANIFEST_BYTES} bytes")
    try:
        doc = loads_bounded(raw, max_bytes=MAX_MANIFEST_BYTES, what="manifest")
    except SerializationException:
        # ECR gives no detail (too deep, malformed): the manifest is a string member, so it is
        # InvalidParameterException, not the body-level SerializationException.
        raise _bad("Invalid JSON syntax") from None
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
        raise _bad("Invalid JSON syntax")
    inner = doc.get("mediaType")
    if inner is not None and not isinstance(inner, str):
        raise _bad("Invalid JSON syntax")
    if declared_media_type and inner and declared_media_type != inner:
        raise InvalidParameterException(
            "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: "
            f"'Manifest media type {inner} does not match {declared_media_type}'"
        )
    # ECR reads the type from the manifest, or from imageManifestMediaType when the manifest has no
    # mediaType field (OCI allows that; without either ECR answers 'Invalid JSON syntax').
    media_type = inner or declared_media_type
    if media_type is None:
        raise _bad("Invalid JSON syntax")
    if media_type not in MANIFEST_TYPES + INDEX_TYPES:
        raise _bad(f"Unsupported manifest media type {media_type}")
    out = Manifest(raw=raw, media_type=media_type, digest=sha256_digest(raw))
    annotations = doc.get("annotations") or {}
    if isinstance(annotations, dict):
        out.annotations = {str(k): str(v) for k, v in annotations.items()}
    if isinstance(doc.get("artifactType"), str):
        out.artifact_type = doc["artifactType"]
    if "subject" in doc:
        out.subject = _descriptor(doc["subject"], "subject")[0]
    if media_type in INDEX_TYPES:
        manifests = doc.get("manifests")
        if not isinstance(manifests, list):
            raise _bad("Invalid JSON syntax")
        out.children = [_descriptor(m, f"manifests[{i}]")[0] for i, m in enumerate(manifests)]
        return out
    config = doc.get("config")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise _bad("Invalid JSON syntax")
    digest, size, desc = _descriptor(config, "config")
    out.config_media_type = desc["mediaType"]
    out.blobs.append((digest, size))
    for i, layer in enumerate(layers):
        digest, size, _ = _descriptor(layer, f"layers[{i}]")
        out.blobs.append((digest, size))
        out.layer_sizes.append(size)
    return out

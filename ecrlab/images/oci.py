"""OCI objects in memory: blobs, image manifests and image indexes, with their digests.

Everything here serialises JSON the same way on every machine (sorted keys, no spaces), because an
image's digest is the sha256 of its exact manifest bytes: byte-identical JSON is what makes "same
image, same digest everywhere" true.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ecrlab.images.errors import ImageBuildError
from ecrlab.oci import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, sha256_digest

__all__ = ["Blob", "Image", "ImageIndex", "Platform", "canonical_json"]


def canonical_json(value: Any) -> bytes:
    """The one JSON encoding ecrlab writes: sorted keys, compact separators, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Platform:
    """Where an image runs, as an index records it (``linux/amd64``, ``linux/arm64/v8``)."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ImageBuildError(f"platform {text!r} is not os/architecture[/variant], e.g. linux/amd64")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def as_dict(self) -> dict[str, str]:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Blob:
    """Content-addressed bytes with the media type a manifest gives them."""

    media_type: str
    data: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"digest": self.digest, "mediaType": self.media_type, "size": self.size, **extra}


@dataclass(frozen=True)
class Image:
    """One image: its manifest bytes, its config blob and its layer blobs."""

    manifest: bytes = field(repr=False)
    config: Blob = field(repr=False)
    layers: tuple[Blob, ...] = field(repr=False)
    platform: Platform = Platform()
    media_type: str = OCI_MANIFEST

    @classmethod
    def assemble(cls, config: dict[str, Any], layers: list[Blob], annotations: dict[str, str] | None = None) -> Image:
        """Build the manifest for ``config`` and ``layers`` (in order, base first)."""
        config_blob = Blob(OCI_CONFIG, canonical_json(config))
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config_blob.descriptor(),
            "layers": [layer.descriptor() for layer in layers],
        }
        if annotations:
            manifest["annotations"] = dict(annotations)
        platform = Platform(config.get("os", "linux"), config.get("architecture", "amd64"), config.get("variant"))
        return cls(canonical_json(manifest), config_blob, tuple(layers), platform)

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def manifest_json(self) -> dict[str, Any]:
        return json.loads(self.manifest)

    @property
    def config_json(self) -> dict[str, Any]:
        return json.loads(self.config.data)

    @property
    def size(self) -> int:
        """What ECR reports as ``imageSizeInBytes``: the sum of the layer sizes."""
        return sum(layer.size for layer in self.layers)

    def blobs(self) -> list[Blob]:
        """Every blob the manifest refers to, layers first (the order a client uploads them)."""
        return [*self.layers, self.config]

    def __repr__(self) -> str:
        return f"<Image {self.digest[:19]}… {self.platform} layers={len(self.layers)}>"


@dataclass(frozen=True)
class ImageIndex:
    """A multi-platform image: an index pointing at one image manifest per platform."""

    manifest: bytes = field(repr=False)
    images: tuple[Image, ...] = field(repr=False)
    media_type: str = OCI_INDEX

    @classmethod
    def assemble(cls, images: list[Image], annotations: dict[str, str] | None = None) -> ImageIndex:
        platforms = [str(image.platform) for image in images]
        if len(set(platforms)) != len(platforms):
            raise ImageBuildError(f"an index holds one image per platform; got {', '.join(platforms)}")
        index: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "digest": image.digest,
                    "mediaType": image.media_type,
                    "platform": image.platform.as_dict(),
                    "size": len(image.manifest),
                }
                for image in images
            ],
        }
        if annotations:
            index["annotations"] = dict(annotations)
        return cls(canonical_json(index), tuple(images))

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def manifest_json(self) -> dict[str, Any]:
        return json.loads(self.manifest)

    def image_for(self, platform: str | Platform) -> Image:
        wanted = Platform.parse(platform) if isinstance(platform, str) else platform
        for image in self.images:
            if image.platform == wanted:
                return image
        raise ImageBuildError(
            f"this index has no image for {wanted}; it has {', '.join(str(i.platform) for i in self.images)}"
        )

    def blobs(self) -> list[Blob]:
        seen: dict[str, Blob] = {}
        for image in self.images:
            for blob in image.blobs():
                seen.setdefault(blob.digest, blob)
        return list(seen.values())

    def __repr__(self) -> str:
        return f"<ImageIndex {self.digest[:19]}… {', '.join(str(i.platform) for i in self.images)}>"

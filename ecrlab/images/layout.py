"""OCI image layouts on disk: the folder format skopeo, oras and podman read as ``oci:<dir>:<tag>``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ecrlab.images.errors import ImageBuildError
from ecrlab.images.oci import Blob, Image, ImageIndex, Platform, canonical_json
from ecrlab.oci import OCI_INDEX, OCI_MANIFEST

__all__ = ["read_layout", "write_layout"]

REF_ANNOTATION = "org.opencontainers.image.ref.name"


def write_layout(image: Image | ImageIndex, directory: str | os.PathLike[str], tag: str = "latest") -> Path:
    """Write ``image`` into the OCI layout ``directory`` under ``tag`` (other tags there stay)."""
    root = Path(directory)
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
    contents: list[Blob] = list(image.blobs())
    if isinstance(image, ImageIndex):
        contents += [Blob(i.media_type, i.manifest) for i in image.images]
    contents.append(Blob(image.media_type, image.manifest))
    for blob in contents:
        target = blobs / blob.digest.split(":", 1)[1]
        if not target.exists():
            target.write_bytes(blob.data)

    index_path = root / "index.json"
    index = json.loads(index_path.read_bytes()) if index_path.exists() else {"schemaVersion": 2, "manifests": []}
    index["mediaType"] = OCI_INDEX
    index["manifests"] = [m for m in index["manifests"] if m.get("annotations", {}).get(REF_ANNOTATION) != tag]
    index["manifests"].append(
        {
            "digest": image.digest,
            "mediaType": image.media_type,
            "size": len(image.manifest),
            "annotations": {REF_ANNOTATION: tag},
        }
    )
    index_path.write_bytes(canonical_json(index))
    return root


def read_layout(directory: str | os.PathLike[str], tag: str = "latest") -> Image | ImageIndex:
    """The image tagged ``tag`` in the OCI layout ``directory``."""
    root = Path(directory)
    try:
        index = json.loads((root / "index.json").read_bytes())
    except FileNotFoundError:
        raise ImageBuildError("not an OCI image layout: index.json is missing") from None
    for entry in index.get("manifests", []):
        if entry.get("annotations", {}).get(REF_ANNOTATION) == tag:
            return _load(root, entry["digest"], entry["mediaType"])
    raise ImageBuildError(f"the layout has no image tagged {tag!r}")


def _blob(root: Path, digest: str) -> bytes:
    return (root / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def _load(root: Path, digest: str, media_type: str, platform: Platform | None = None) -> Image | ImageIndex:
    manifest = _blob(root, digest)
    body = json.loads(manifest)
    if media_type == OCI_INDEX or body.get("mediaType") == OCI_INDEX:
        images = tuple(
            _load(root, m["digest"], m["mediaType"], Platform(**m["platform"]) if "platform" in m else None)
            for m in body["manifests"]
        )
        return ImageIndex(manifest, images)  # type: ignore[arg-type]
    config = Blob(body["config"]["mediaType"], _blob(root, body["config"]["digest"]))
    layers = tuple(Blob(layer["mediaType"], _blob(root, layer["digest"])) for layer in body["layers"])
    if platform is None:
        cfg = json.loads(config.data)
        platform = Platform(cfg.get("os", "linux"), cfg.get("architecture", "amd64"), cfg.get("variant"))
    return Image(manifest, config, layers, platform, body.get("mediaType", OCI_MANIFEST))

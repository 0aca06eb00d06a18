"""Multi-platform images: an index over one image per platform."""

from __future__ import annotations

import pytest

from ecrlab.images import ImageBuilder, ImageBuildError, ImageIndex, Platform, build_index
from ecrlab.oci import OCI_INDEX, OCI_MANIFEST


def _app(platform: str) -> object:
    return ImageBuilder(platform=platform).copy_bytes(f"built for {platform}".encode(), "/app").build()


def test_index_lists_each_platform_by_digest() -> None:
    amd, arm = _app("linux/amd64"), _app("linux/arm64/v8")
    index = build_index([amd, arm])
    body = index.manifest_json
    assert body["mediaType"] == OCI_INDEX and body["schemaVersion"] == 2
    assert body["manifests"] == [
        {
            "digest": amd.digest,
            "mediaType": OCI_MANIFEST,
            "platform": {"architecture": "amd64", "os": "linux"},
            "size": len(amd.manifest),
        },
        {
            "digest": arm.digest,
            "mediaType": OCI_MANIFEST,
            "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
            "size": len(arm.manifest),
        },
    ]
    assert arm.config_json["architecture"] == "arm64" and arm.config_json["variant"] == "v8"
    assert index.image_for("linux/arm64/v8") is arm
    assert build_index([_app("linux/amd64"), _app("linux/arm64/v8")]).digest == index.digest


def test_index_blobs_are_deduplicated() -> None:
    shared = ImageBuilder(platform="linux/amd64").copy_bytes(b"same", "/same")
    amd = shared.build()
    arm = ImageBuilder(platform="linux/arm64").copy_bytes(b"same", "/same").build()
    index = build_index([amd, arm])
    digests = [blob.digest for blob in index.blobs()]
    assert len(digests) == len(set(digests)) == 3  # one shared layer, two configs


def test_index_errors() -> None:
    with pytest.raises(ImageBuildError, match="one image per platform"):
        build_index([_app("linux/amd64"), _app("linux/amd64")])
    with pytest.raises(ImageBuildError, match="at least one image"):
        build_index([])
    with pytest.raises(ImageBuildError, match="no image for linux/s390x"):
        build_index([_app("linux/amd64")]).image_for("linux/s390x")
    with pytest.raises(ImageBuildError, match="os/architecture"):
        Platform.parse("amd64")


def test_index_repr() -> None:
    index: ImageIndex = build_index([_app("linux/amd64")])
    assert repr(index).startswith("<ImageIndex sha256:") and "linux/amd64" in repr(index)


def test_public_names_are_sorted_and_importable() -> None:
    import ecrlab.images as package

    assert package.__all__ == sorted(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)

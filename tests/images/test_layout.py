"""OCI image layouts: written so that skopeo reads them, and read back unchanged."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ecrlab.images import ImageBuilder, base_image, build_index
from ecrlab.images.layout import read_layout, write_layout
from tests.conftest import require_tool


def test_round_trip(tmp_path: Path) -> None:
    image = ImageBuilder(base_image("alpine:3.18.9")).copy_bytes(b"x", "/x").build()
    index = build_index([image, ImageBuilder(platform="linux/arm64").copy_bytes(b"y", "/y").build()])
    write_layout(image, tmp_path, "one")
    write_layout(index, tmp_path, "multi")
    assert read_layout(tmp_path, "one") == image
    back = read_layout(tmp_path, "multi")
    assert back.digest == index.digest and [i.digest for i in back.images] == [i.digest for i in index.images]
    # re-tagging replaces the entry, keeping one per tag
    write_layout(image, tmp_path, "multi")
    refs = [
        m["annotations"]["org.opencontainers.image.ref.name"]
        for m in json.loads((tmp_path / "index.json").read_text())["manifests"]
    ]
    assert sorted(refs) == ["multi", "one"]


def test_skopeo_reads_the_layout(tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    image = ImageBuilder(base_image("alpine:3.20.3")).copy_bytes(b"x", "/x").label(app="demo").build()
    write_layout(image, tmp_path, "v1")
    raw = subprocess.run([skopeo, "inspect", "--raw", f"oci:{tmp_path}:v1"], capture_output=True, check=True).stdout
    assert raw == image.manifest
    info = json.loads(subprocess.run([skopeo, "inspect", f"oci:{tmp_path}:v1"], capture_output=True, check=True).stdout)
    assert info["Digest"] == image.digest
    assert info["Labels"]["app"] == "demo"
    assert info["Layers"] == [layer.digest for layer in image.layers]

"""The builder: reproducible digests, layer contents, base images, config changes."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ecrlab.images import BASE_IMAGES, ImageBuilder, ImageBuildError, base_image, build_dockerfile, make_layer


def _members(blob_data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob_data))) as tar:
        return tar.getmembers()


def _context(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('hello')\n")
    (root / "app" / "run.sh").write_text("#!/bin/sh\n")
    (root / "app" / "run.sh").chmod(0o755)
    (root / "Dockerfile").write_text(
        "FROM alpine:3.20.3\nWORKDIR /srv\nCOPY app/ ./app/\nENV MODE=prod\nLABEL team=web\nUSER 1000\n"
        'ENTRYPOINT ["python3"]\nCMD ["app/main.py"]\n'
    )
    return root


def test_same_inputs_same_digest_in_different_directories(tmp_path: Path) -> None:
    first = build_dockerfile(context=_context(tmp_path / "one"))
    second_root = _context(tmp_path / "elsewhere" / "two")
    # Different mtimes and a different umask-ish mode on a plain file must not matter.
    os.utime(second_root / "app" / "main.py", (1_000_000, 1_000_000))
    (second_root / "app" / "main.py").chmod(0o600)
    second = build_dockerfile(context=second_root)
    assert first.digest == second.digest
    assert first.manifest == second.manifest
    assert [layer.digest for layer in first.layers] == [layer.digest for layer in second.layers]


def test_digest_is_the_same_in_a_fresh_process(tmp_path: Path) -> None:
    # A new interpreter with another hash seed: nothing may depend on dict/set ordering of one process.
    code = "from ecrlab.images import *; print(ImageBuilder(base_image('alpine:3.18.0')).copy_bytes(b'x', '/x').env(A='1', B='2').build().digest)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.strip()
    here = ImageBuilder(base_image("alpine:3.18.0")).copy_bytes(b"x", "/x").env(A="1", B="2").build().digest
    assert out == here


def test_known_digest_pins_the_byte_format() -> None:
    # Pinned so that any change to tar, gzip or JSON encoding shows up as a failing test, not as
    # images whose digests silently differ from those built by an older ecrlab.
    image = ImageBuilder("scratch").copy_bytes(b"hello\n", "/hello.txt").cmd(["/hello"]).build()
    assert image.layers[0].digest == make_layer({"hello.txt": b"hello\n"}).blob.digest
    assert image.digest == PINNED_SCRATCH_DIGEST


PINNED_SCRATCH_DIGEST = "sha256:6e14c996b7531b1b6bfa736d9f4c80b5ce9f6044d6adbc657fb1f39a39ff9b16"


def test_layer_tar_is_normalised() -> None:
    layer = make_layer({"b/z.txt": b"z", "/a.txt": b"a", "b/y.txt": b"y"})
    members = _members(layer.blob.data)
    assert [m.name for m in members] == ["a.txt", "b", "b/y.txt", "b/z.txt"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    assert members[1].isdir() and members[1].mode == 0o755
    # gzip header: mtime field (bytes 4..8) is zero, and no original file name is stored
    assert layer.blob.data[4:8] == b"\0\0\0\0"
    assert layer.blob.data[3] & 0x08 == 0


def test_copy_keeps_only_the_executable_bit(tmp_path: Path) -> None:
    image = build_dockerfile(context=_context(tmp_path))
    modes = {m.name: m.mode for m in _members(image.layers[-1].data) if m.isfile()}
    assert modes == {"srv/app/main.py": 0o644, "srv/app/run.sh": 0o755}


def test_config_records_dockerfile_settings(tmp_path: Path) -> None:
    image = build_dockerfile(context=_context(tmp_path))
    config = image.config_json
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["config"]["WorkingDir"] == "/srv"
    assert "MODE=prod" in config["config"]["Env"]
    assert config["config"]["Labels"]["team"] == "web"
    assert config["config"]["Labels"]["ecrlab.base-image.runnable"] == "false"  # inherited from the base
    assert config["config"]["User"] == "1000"
    assert config["config"]["Entrypoint"] == ["python3"]
    assert config["config"]["Cmd"] == ["app/main.py"]
    # one diff id per layer, and the manifest lists exactly the config and layers it was built from
    assert len(config["rootfs"]["diff_ids"]) == len(image.layers) == 2
    manifest = image.manifest_json
    assert manifest["config"]["digest"] == image.config.digest
    assert [d["digest"] for d in manifest["layers"]] == [b.digest for b in image.layers]
    assert json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode() == image.manifest


def test_images_on_the_same_base_share_its_layer() -> None:
    base = base_image("alpine:3.20.3")
    web = ImageBuilder(base).copy_bytes(b"web", "/app/web").build()
    worker = ImageBuilder(base).copy_bytes(b"worker", "/app/worker").build()
    assert web.layers[0].digest == worker.layers[0].digest == base.layers[0].digest
    assert web.layers[1].digest != worker.layers[1].digest
    assert web.digest != worker.digest


@pytest.mark.parametrize("name", BASE_IMAGES)
def test_base_images_hold_the_real_package_database(name: str) -> None:
    version = name.split(":")[1]
    image = base_image(name)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(image.layers[0].data))) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert sorted(files) == ["etc/alpine-release", "lib/apk/db/installed"]
    assert files["etc/alpine-release"] == f"{version}\n".encode()
    shipped = Path(__file__).parents[2] / "ecrlab" / "data" / "base-images" / f"alpine-{version}.installed"
    assert files["lib/apk/db/installed"] == shipped.read_bytes()
    assert b"P:musl\n" in files["lib/apk/db/installed"]
    assert image.config_json["config"]["Labels"]["ecrlab.base-image.contents"] == "package-database-only"


def test_base_images_differ_by_release() -> None:
    assert len({base_image(name).digest for name in BASE_IMAGES}) == len(BASE_IMAGES) == 4


def test_unknown_base_image_is_a_clear_error() -> None:
    with pytest.raises(ImageBuildError, match="not a lab base image.*alpine:3.20.3"):
        base_image("ubuntu:22.04")
    with pytest.raises(ImageBuildError, match="without an engine"):
        ImageBuilder("python:3.12")


def test_copy_refuses_paths_outside_context(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "secret").write_text("x")
    with pytest.raises(ImageBuildError, match="outside the build context"):
        ImageBuilder().copy("../secret", "/s", context=tmp_path / "ctx")
    with pytest.raises(ImageBuildError, match="not found"):
        ImageBuilder().copy("missing.txt", "/m", context=tmp_path / "ctx")
    # Inside the image, as in Docker, ".." stops at the root directory.
    assert make_layer({"../../etc/passwd": b"x"}).paths == ("etc/passwd",)

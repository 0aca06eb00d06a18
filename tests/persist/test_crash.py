"""kill -9 at the worst moments, then a restart on the same data directory: every acknowledged image is
intact and pullable byte-identical, nothing half-written is visible, and uploads in flight are gone.

``ecrlab serve --data-dir`` runs as a real subprocess; the lifecycle and replication cases run
``crashing.py``, a lab that kills itself in the middle of that work."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

import ecrlab
from ecrlab.images import Image, ImageBuilder, RegistryClient
from ecrlab.lab import ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIG = 32 * 1024 * 1024


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


class Serve:
    """``ecrlab serve --data-dir DIR`` in a subprocess, up once it has printed how to reach it."""

    def __init__(self, data_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ecrlab", "serve", "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(),
        )
        printed = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            printed += line
            if "Ctrl-C or SIGTERM stops it" in line:
                break
        else:
            pytest.fail(f"ecrlab serve did not start:\n{printed}")
        self.endpoint = re.search(r"AWS_ENDPOINT_URL=(\S+)", printed).group(1)  # type: ignore[union-attr]
        self.registry = re.search(r"--password-stdin (\S+)", printed).group(1)  # type: ignore[union-attr]
        self.ecr = boto3.client(
            "ecr",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ADMIN_ACCESS_KEY,
            aws_secret_access_key=ADMIN_SECRET_KEY,
        )
        token = self.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        self.client = RegistryClient(self.registry, token)

    def kill(self) -> None:
        self.client.close()
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(timeout=60)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def _uploads(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "blobs").glob("*/uploads/*")]


def _assert_intact(client: RegistryClient, repository: str, images: dict[str, Image]) -> None:
    """Each image pulls back with its manifest and every blob byte-identical."""
    for tag, image in images.items():
        manifest, _ = client.get_manifest(repository, tag)
        assert manifest == image.manifest
        for blob in (image.config, *image.layers):
            assert client.get_blob(repository, blob.digest) == blob.data


def _image(n: int) -> Image:
    return ImageBuilder().copy_bytes(os.urandom(64 * 1024), f"/layer{n}.bin").build()


def test_kill_during_a_push(data_dir: Path) -> None:
    serve = Serve(data_dir)
    # One process per data directory: a second serve refuses, naming the holder.
    second = subprocess.run(
        [sys.executable, "-m", "ecrlab", "serve", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert second.returncode == 2
    assert f"in use by another ecrlab process (pid {serve.proc.pid})" in second.stderr
    assert "Traceback" not in second.stderr

    serve.ecr.create_repository(repositoryName="app")
    acknowledged = {f"v{n}": _image(n) for n in range(3)}
    for tag, image in acknowledged.items():
        serve.client.push(image, "app", tag)

    # A big blob streaming in when the process dies: the server has some of its bytes, not all.
    start = httpx.post(f"http://{serve.registry}/v2/app/blobs/uploads/", headers=serve.client.http.headers)
    assert start.status_code == 202
    location = start.headers["Location"]
    upload_url = location if location.startswith("http") else f"http://{serve.registry}{location}"
    sent_some = threading.Event()

    def body() -> Iterator[bytes]:
        for n in range(BIG // (1024 * 1024)):
            if n == 4:
                sent_some.set()
                time.sleep(60)  # the process dies meanwhile
            yield os.urandom(1024 * 1024)

    def stream() -> None:
        try:
            httpx.patch(upload_url, content=body(), headers=serve.client.http.headers, timeout=120)
        except httpx.HTTPError:
            pass  # the server died under it

    threading.Thread(target=stream, daemon=True).start()
    assert sent_some.wait(30)
    deadline = time.monotonic() + 30
    while not any(p.stat().st_size > 0 for p in _uploads(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _uploads(data_dir), "the upload never reached the server"
    serve.kill()

    again = Serve(data_dir)
    try:
        assert not _uploads(data_dir)  # uploads in flight are gone with their bytes
        listed = again.ecr.describe_images(repositoryName="app")["imageDetails"]
        assert {d["imageDigest"]: d["imageTags"] for d in listed} == {
            image.digest: [tag] for tag, image in acknowledged.items()
        }
        _assert_intact(again.client, "app", acknowledged)
        gone = httpx.get(
            f"http://{again.registry}{httpx.URL(upload_url).raw_path.decode()}", headers=again.client.http.headers
        )
        assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
        # And the store takes pushes again.
        later = _image(9)
        again.client.push(later, "app", "v9")
        _assert_intact(again.client, "app", {"v9": later})
    finally:
        again.stop()


def _run_crashing(data_dir: Path, scenario: str) -> dict[str, str]:
    """Run crashing.py to its death; returns the images it acknowledged (tag -> digest)."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "crashing.py"), str(data_dir), scenario],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=False,
    )
    assert "ARMED" in proc.stdout and "SURVIVED" not in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return {tag: digest for _, tag, digest in re.findall(r"^(PUSHED) (\S+) (\S+)$", proc.stdout, re.MULTILINE)}


def _pull_all(lab: ecrlab.Lab, repository: str, pushed: dict[str, str], region: str | None = None) -> None:
    with (
        RegistryClient.for_lab(lab) as default,
        RegistryClient(
            lab.registry_endpoint(region=region), default.http.headers["Authorization"].split()[1]
        ) as client,
    ):
        for tag, digest in pushed.items():
            pulled = client.pull(repository, tag)  # checks every digest on the way
            assert pulled.digest == digest


def test_kill_during_a_lifecycle_run(data_dir: Path) -> None:
    pushed = _run_crashing(data_dir, "lifecycle")
    assert len(pushed) == 6
    with ecrlab.start(deterministic=True, data_dir=data_dir) as lab:
        ecr = lab.client("ecr")
        # The run died before it finished: none of its expiries happened, every image is whole.
        listed = ecr.describe_images(repositoryName="app")["imageDetails"]
        assert sorted(d["imageDigest"] for d in listed) == sorted(pushed.values())
        _pull_all(lab, "app", pushed)
        # The next daily run does all of it.
        lab.clock.advance(days=1)
        kept = ecr.describe_images(repositoryName="app")["imageDetails"]
        assert sorted(t for d in kept for t in d["imageTags"]) == ["v4", "v5"]
        _pull_all(lab, "app", {t: pushed[t] for t in ("v4", "v5")})
    assert not _uploads(data_dir)


def test_kill_during_a_replication(data_dir: Path) -> None:
    pushed = _run_crashing(data_dir, "replication")
    with ecrlab.start(deterministic=True, data_dir=data_dir) as lab:
        ecr = lab.client("ecr")
        _pull_all(lab, "app", pushed)
        # Nothing of the copy arrived: it was not committed, and its job died with the process.
        west = lab.client("ecr", region_name="us-west-2")
        assert west.describe_repositories()["repositories"] == []
        status = ecr.describe_image_replication_status(repositoryName="app", imageId={"imageDigest": pushed["v0"]})[
            "replicationStatuses"
        ]
        assert status == [{"region": "us-west-2", "registryId": lab.account_id, "status": "FAILED"}]
        # Pushing again replicates it.
        with RegistryClient.for_lab(lab) as registry:
            image = registry.pull("app", "v0")
            registry.push(image, "app", "again")
        lab.clock.advance(minutes=5)
        assert [r["repositoryName"] for r in west.describe_repositories()["repositories"]] == ["app"]
        _pull_all(lab, "app", {"again": pushed["v0"]}, region="us-west-2")

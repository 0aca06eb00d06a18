"""`ecrlab serve` with a data directory: cold start (empty and with 10,000 images), restart after kill -9, and
push throughput with --data-dir vs in memory vs the CNCF Distribution registry (filesystem storage), one run.

Run from the repository root:  PYTHONPATH=. python benchmarks/serve.py [--images 10000] [--pushes 20] [--rounds 3]

Each `serve` is a real subprocess (`python -m ecrlab serve`), timed from its launch to the line that says it
is ready (its API and registry answering). The 10,000-image directory is written by the engine itself (one
commit through ecrlab.ecr.persist), 100 repositories of 100 images each; every image is a distinct manifest
over one shared config and layer, so the directory holds what a real one would, minus duplicate bytes.
Push throughput: `--pushes` images of one random 1 MiB layer each, pushed one after another by ecrlab's
RegistryClient (the same client for all three registries), into an empty store.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import boto3

from ecrlab.clock import LabClock
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.model import ImageRecord, Repository
from ecrlab.images import Image, ImageBuilder, RegistryClient
from ecrlab.images.distribution import start_distribution
from ecrlab.lab import ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY, DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from ecrlab.oci import OCI_MANIFEST, sha256_digest

ROOT = Path(__file__).resolve().parent.parent


def write_data_dir(path: Path, images: int, per_repository: int = 100) -> None:
    """A data directory holding ``images`` images, written through the engine's own commit."""
    base = ImageBuilder().copy_bytes(b"shared layer\n", "/shared.txt").build()
    engine = Engine(LabClock())
    engine.keep_state_in(path)
    store = engine.blobs.store(DEFAULT_ACCOUNT_ID, DEFAULT_REGION)
    for blob in (base.config, *base.layers):
        upload = store.start_upload(f"seed-{blob.digest[7:19]}", None)
        upload.append([blob.data])
        store.commit(upload.id, blob.digest, len(blob.data))
    manifest = json.loads(base.manifest)
    now = datetime.now(timezone.utc)
    with engine.lock:  # one hold: one commit
        registry = engine.registry(DEFAULT_ACCOUNT_ID, DEFAULT_REGION)
        for n in range(images):
            name = f"bench/repo{n // per_repository:03d}"
            repo = registry.repositories.get(name)
            if repo is None:
                repo = registry.repositories[name] = Repository(name, DEFAULT_ACCOUNT_ID, DEFAULT_REGION, now)
                repo.layers = {blob.digest: len(blob.data) for blob in (base.config, *base.layers)}
            body = json.dumps({**manifest, "annotations": {"n": str(n)}}, separators=(",", ":")).encode()
            digest = sha256_digest(body)
            size = sum(len(layer.data) for layer in base.layers)
            tag = f"v{n % per_repository}"
            repo.images[digest] = ImageRecord(digest, body, OCI_MANIFEST, now, size, [tag], sequence=n)
            repo.image_tags[tag] = digest
    engine.close()


class Serve:
    def __init__(self, data_dir: Path | None) -> None:
        extra = ["--data-dir", str(data_dir)] if data_dir is not None else []
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ecrlab", "serve", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        )
        printed = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            printed += line
            if "Ctrl-C or SIGTERM stops it" in line:
                break
        else:
            sys.exit(f"ecrlab serve did not start:\n{printed}")
        self.ready_after = time.perf_counter() - started
        endpoint = re.search(r"AWS_ENDPOINT_URL=(\S+)", printed).group(1)  # type: ignore[union-attr]
        self.registry = re.search(r"--password-stdin (\S+)", printed).group(1)  # type: ignore[union-attr]
        self.ecr = boto3.client(
            "ecr",
            endpoint_url=endpoint,
            region_name=DEFAULT_REGION,
            aws_access_key_id=ADMIN_ACCESS_KEY,
            aws_secret_access_key=ADMIN_SECRET_KEY,
        )

    def client(self) -> RegistryClient:
        token = self.ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        return RegistryClient(self.registry, token)

    def stop(self, kill: bool = False) -> None:
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.proc.wait(timeout=120)


def push_rate(client: RegistryClient, images: list[Image], repository: str) -> float:
    """Images per second, pushed one after another."""
    started = time.perf_counter()
    for n, image in enumerate(images):
        client.push(image, repository, f"t{n}")
    return len(images) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("docker-registry") is None:
        sys.exit("needs docker-registry, the CNCF Distribution registry (apt-get install docker-registry)")
    with tempfile.TemporaryDirectory(prefix="ecrlab-bench-serve-") as tmp:
        big = Path(tmp) / "big"
        started = time.perf_counter()
        write_data_dir(big, args.images)
        print(f"wrote a {args.images}-image data directory in {time.perf_counter() - started:.1f} s")

        starts: dict[str, list[float]] = {"in memory": [], "empty --data-dir": [], f"{args.images} images": []}
        restarts: list[float] = []
        for round_ in range(args.rounds):
            for label, data_dir in (
                ("in memory", None),
                ("empty --data-dir", Path(tmp) / f"empty{round_}"),
                (f"{args.images} images", big),
            ):
                serve = Serve(data_dir)
                starts[label].append(serve.ready_after)
                if data_dir is big:
                    listed = serve.ecr.describe_images(repositoryName="bench/repo000", maxResults=1000)
                    assert len(listed["imageDetails"]) == min(100, args.images)
                    serve.stop(kill=True)
                    again = Serve(big)  # kill -9, then up again on the same directory
                    restarts.append(again.ready_after)
                    serve = again
                serve.stop()

        rates: dict[str, list[float]] = {
            "--data-dir": [],
            "in memory": [],
            "CNCF Distribution": [],
            f"--data-dir, {args.images} images": [],
        }
        for round_ in range(args.rounds):
            images = [
                ImageBuilder().copy_bytes(os.urandom(1024 * 1024), f"/r{round_}-{n}.bin").build()
                for n in range(args.pushes)
            ]
            for label, data_dir in (
                ("--data-dir", Path(tmp) / f"push{round_}"),
                ("in memory", None),
                (f"--data-dir, {args.images} images", big),
            ):
                serve = Serve(data_dir)
                repository = f"push/round{round_}"
                serve.ecr.create_repository(repositoryName=repository)
                with serve.client() as client:
                    rates[label].append(push_rate(client, images, repository))
                serve.stop()
            peer = start_distribution()
            try:
                with RegistryClient(peer.address) as client:
                    rates["CNCF Distribution"].append(push_rate(client, images, f"push/round{round_}"))
            finally:
                peer.stop()

    print(f"\n`ecrlab serve` until ready (median of {args.rounds}; each a new process):")
    for label, seconds in starts.items():
        print(f"  cold start, {label:<20} {statistics.median(seconds):6.2f} s")
    print(f"  restart after kill -9, {args.images} images {statistics.median(restarts):6.2f} s")
    print(f"\npush throughput, {args.pushes} images of one 1 MiB random layer, one after another (median):")
    for label, per_second in rates.items():
        print(f"  {label:<26} {statistics.median(per_second):6.1f} images/s")


if __name__ == "__main__":
    main()

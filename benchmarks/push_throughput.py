"""Push throughput: skopeo pushing one 256 MiB layer to the ecrlab sandbox and to CNCF Distribution.

Run from the repository root:  PYTHONPATH=. python benchmarks/push_throughput.py [--size-mib 256] [--rounds 3]

Both registries run on this machine's loopback and receive the same OCI layout through the same skopeo
command, each round into a fresh repository (so no blob is skipped as already present). Prints each
round's seconds and the median throughput of each, then the ratio sandbox / Distribution.
"""

from __future__ import annotations

import argparse
import base64
import io
import logging
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import ecrlab
from ecrlab.images.distribution import start_distribution
from ecrlab.images.layout import write_layout
from ecrlab.images.oci import Blob, Image
from ecrlab.oci import OCI_LAYER_UNCOMPRESSED


def big_image(size: int, seed: int) -> Image:
    """One uncompressed layer holding ``size`` random bytes: gzip would only measure the CPU.
    A new ``seed`` per round: skopeo remembers blobs it pushed and would mount them instead."""
    rng = random.Random(seed)
    chunk = 1024 * 1024
    data = b"".join(rng.randbytes(min(chunk, size - offset)) for offset in range(0, size, chunk))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("payload.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(data))
    layer = Blob(OCI_LAYER_UNCOMPRESSED, raw.getvalue())
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
    }
    return Image.assemble(config, [layer])


def push(skopeo: str, layout: Path, destination: str, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            skopeo,
            "--insecure-policy",
            "copy",
            "--quiet",
            f"oci:{layout}:bench",
            destination,
            "--dest-tls-verify=false",
            *extra,
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    skopeo = shutil.which("skopeo")
    if skopeo is None or shutil.which("docker-registry") is None:
        sys.exit("needs skopeo and docker-registry (apt-get install skopeo docker-registry)")

    size = args.size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="ecrlab-bench-") as tmp, ecrlab.start() as lab:
        peer = start_distribution(lab)
        # skopeo probes HTTPS before plain HTTP; the sandbox's server (configured when the lab started)
        # would log each probe as a warning.
        logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
        ecr = lab.client("ecr")
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        creds = base64.b64decode(token).decode()
        times: dict[str, list[float]] = {"ecrlab sandbox": [], "CNCF Distribution": []}
        for round_ in range(args.rounds):
            repo = f"bench/round{round_}"
            layout = write_layout(big_image(size, seed=round_), Path(tmp) / f"layout{round_}", "bench")
            ecr.create_repository(repositoryName=repo)
            times["ecrlab sandbox"].append(
                push(skopeo, layout, f"docker://{lab.registry}/{repo}:v1", "--dest-creds", creds)
            )
            times["CNCF Distribution"].append(push(skopeo, layout, f"docker://{peer.address}/{repo}:v1"))

    print(f"skopeo copy of one {args.size_mib} MiB layer (uncompressed, random), {args.rounds} rounds, loopback")
    medians = {}
    for name, seconds in times.items():
        medians[name] = statistics.median(seconds)
        rounds = ", ".join(f"{s:.2f}" for s in seconds)
        print(
            f"  {name:<18} {args.size_mib / medians[name]:7.1f} MiB/s  (median {medians[name]:.2f} s; rounds: {rounds})"
        )
    ratio = medians["CNCF Distribution"] / medians["ecrlab sandbox"]
    print(f"  throughput ratio sandbox / Distribution: {ratio:.2f}")


if __name__ == "__main__":
    main()

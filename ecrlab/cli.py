"""The ``ecrlab`` command: ``serve`` a sandbox for other processes, open the ``lab``, or ``doctor``."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["main"]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# Real clients the lessons and tests use, and what each is for.
TOOLS = {
    "aws": "the AWS CLI, run for real against the sandbox in every lesson",
    "skopeo": "copies images into and out of the sandbox's registry (lesson 03)",
    "podman": "a Docker-compatible engine for the docker SDK path (lesson 03)",
    "docker-registry": "the CNCF Distribution registry, for same-digest comparisons (lesson 03)",
    "chromium": "the real-browser test of the lessons",
}


def serve(args: argparse.Namespace) -> int:
    """Run a sandbox until interrupted and print how to reach it from a terminal."""
    import ecrlab
    from ecrlab.errors import LabError
    from ecrlab.lab import ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY

    try:
        lab = ecrlab.start(deterministic=args.deterministic, region=args.region, data_dir=args.data_dir)
    except LabError as exc:  # a data directory another process holds, say: the message says what to do
        print(f"ecrlab: {exc}", file=sys.stderr)
        return 2
    print("ecrlab sandbox running. In another terminal:")
    print(f"  export AWS_ACCESS_KEY_ID={ADMIN_ACCESS_KEY} AWS_SECRET_ACCESS_KEY={ADMIN_SECRET_KEY}")
    print(f"  export AWS_DEFAULT_REGION={lab.region} AWS_ENDPOINT_URL={lab.endpoint_url}")
    print(f"  aws ecr get-login-password | skopeo login --tls-verify=false -u AWS --password-stdin {lab.registry}")
    print("  aws ecr describe-repositories")
    kept = f"its ECR state stays in {args.data_dir}" if args.data_dir else "its state is gone afterwards"
    print(f"Ctrl-C stops it ({kept}).", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()
    return 0


def lab(args: argparse.Namespace) -> int:
    """Open JupyterLab on the lessons."""
    if not NOTEBOOKS.is_dir():
        print("The lessons live in the ecrlab checkout's notebooks/ folder: run `make lab` there.", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, "-m", "jupyterlab", str(NOTEBOOKS / "00-start-here.ipynb")])


def doctor(args: argparse.Namespace) -> int:
    """Check that the sandbox starts and say which optional real clients are available."""
    import ecrlab
    from ecrlab.errors import RegistryClientError
    from ecrlab.images import ImageBuilder, RegistryClient

    with ecrlab.start(deterministic=True) as running:
        ecr = running.client("ecr")
        ecr.create_repository(repositoryName="ecrlab/doctor")
        print(f"sandbox: ok (account {running.account_id}, region {running.region})")
        # A round trip through the data plane: log in with an ECR token, push, and find the image in the API.
        image = ImageBuilder().copy_bytes(b"ecrlab doctor\n", "/doctor.txt").build()
        try:
            with RegistryClient.for_lab(running) as registry:
                registry.push(image, "ecrlab/doctor", "check")
        except RegistryClientError as exc:
            print(f"registry: FAILED ({exc})")
            return 1
        found = [d["imageDigest"] for d in ecr.describe_images(repositoryName="ecrlab/doctor")["imageDetails"]]
        if found != [image.digest]:
            print(f"registry: FAILED (pushed {image.digest}, DescribeImages lists {found})")
            return 1
        print(f"registry: ok (pushed {image.digest[:19]}… and found it with DescribeImages)")
    for tool, purpose in TOOLS.items():
        where = shutil.which(tool)
        print(f"{tool:16} {'found' if where else 'missing':8} {purpose}")
    return 0


def advisories_import(args: argparse.Namespace) -> int:
    """Load a full advisory feed (Alpine secdb JSON, OSV zip) for the scanner, beside the shipped snapshot."""
    from ecrlab.errors import LabError
    from ecrlab.scanning import import_feed

    try:
        target, feeds = import_feed(args.path)
    except LabError as exc:
        print(f"ecrlab: {exc}", file=sys.stderr)
        return 2
    for label, updated in feeds:
        print(f"imported {label} (data updated {updated:%Y-%m-%d}) into {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecrlab", description="A faithful Amazon ECR sandbox for learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run a sandbox for the AWS CLI and other processes")
    p_serve.add_argument("--region", default="us-east-1")
    p_serve.add_argument("--deterministic", action="store_true", default=None)
    p_serve.add_argument("--data-dir", help="keep the ECR state in this directory across restarts (docs/serve.md)")
    p_serve.set_defaults(func=serve)
    sub.add_parser("lab", help="open JupyterLab on the lessons").set_defaults(func=lab)
    sub.add_parser("doctor", help="check the sandbox and the optional real clients").set_defaults(func=doctor)
    p_advisories = sub.add_parser("advisories", help="advisory feeds for image scanning")
    p_import = p_advisories.add_subparsers(dest="action", required=True).add_parser(
        "import", help="load an Alpine secdb JSON file or an OSV zip you downloaded"
    )
    p_import.add_argument("path")
    p_import.set_defaults(func=advisories_import)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

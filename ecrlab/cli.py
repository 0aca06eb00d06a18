"""The ``ecrlab`` command: ``serve`` a sandbox for other processes, open the ``lab``, or ``doctor``."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
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
    """Run a local ECR until SIGTERM or SIGINT (ecrlab.serve) and print how to reach it."""
    from ecrlab.errors import LabError
    from ecrlab.lab import DEFAULT_ACCOUNT_ID
    from ecrlab.serve import Options, run

    def listed(text: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in text.split(",") if item.strip())

    try:
        options = Options(
            accounts=listed(args.accounts or DEFAULT_ACCOUNT_ID),
            regions=listed(args.regions),
            host=args.host,
            exposed=args.i_know_this_is_exposed,
            port=args.port,
            registry_port_base=args.registry_port_base,
            aws_hostnames=args.aws_hostnames,
            tls_port=args.tls_port,
            data_dir=args.data_dir,
            state_dir=args.state_dir,
            deterministic=args.deterministic,
            print_env=args.print_env,
        )
    except LabError as exc:
        print(f"ecrlab serve: {exc}", file=sys.stderr)
        return 2
    return run(options)


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
    p_serve = sub.add_parser("serve", help="run a local ECR for the AWS CLI, container tools and CI jobs")
    p_serve.add_argument("--accounts", metavar="ID,ID", help="account ids to serve (default: 123456789012)")
    p_serve.add_argument("--regions", metavar="REGION,REGION", default="us-east-1", help="regions to serve")
    p_serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (loopback unless opted out)")
    p_serve.add_argument(
        "--i-know-this-is-exposed", action="store_true", help="allow a --host other machines can reach"
    )
    p_serve.add_argument("--port", type=int, help="fixed port of the AWS API endpoint (default: a free one)")
    p_serve.add_argument(
        "--registry-port-base",
        type=int,
        metavar="PORT",
        help="fixed registry ports: PORT, PORT+1, ... per account×region",
    )
    p_serve.add_argument(
        "--aws-hostnames", action="store_true", help="serve <account>.dkr.ecr.<region>.amazonaws.com over TLS"
    )
    p_serve.add_argument("--tls-port", type=int, default=443, help="port of the --aws-hostnames registry (443)")
    p_serve.add_argument("--data-dir", type=Path, help="keep the sandbox's state in this directory")
    p_serve.add_argument("--state-dir", type=Path, help="where --aws-hostnames keeps its CA without --data-dir")
    p_serve.add_argument("--print-env", action="store_true", help="print only `export` lines on stdout, for eval")
    p_serve.add_argument("--deterministic", action="store_true", default=None)
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

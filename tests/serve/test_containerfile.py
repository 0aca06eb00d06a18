"""The repository's Containerfile builds an image that runs `ecrlab serve`: built with podman on a Debian base
made here (there is no Docker Hub offline: debootstrap, then `podman import`), run with published ports,
healthy, and pushed to with skopeo. Slow (a Debian base and the package's wheels): about three minutes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from ecrlab.images import ImageBuilder
from ecrlab.images.layout import write_layout
from tests.conftest import IN_CI, require_tool
from tests.serve.conftest import clean_env, free_port, podman_settings, wait_healthy

# A Debian base (minutes the first time on a machine), the wheels, a build: far beyond the default timeout.
pytestmark = [pytest.mark.realclient, pytest.mark.timeout(1500)]

ROOT = Path(__file__).resolve().parent.parent.parent
# Kept in podman's storage between runs on one machine (never in git): a Debian base takes a minute to make.
BASE = "localhost/ecrlab-test/bookworm-python:latest"
PODMAN_ENV: dict[str, str] = dict(os.environ)


def run(*args: str, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("env", PODMAN_ENV)
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _base_image(podman: str, scratch: Path) -> str:
    if subprocess.run([podman, "image", "exists", BASE], env=PODMAN_ENV, check=False).returncode == 0:
        return BASE
    debootstrap = require_tool("debootstrap")
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("debootstrap needs root (CI runs as root)")
        pytest.skip("debootstrap needs root")
    rootfs = scratch / "rootfs"
    run(
        debootstrap,
        "--variant=minbase",
        "--include=python3,python3-venv",
        "bookworm",
        str(rootfs),
        "http://deb.debian.org/debian",
    )
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    run(podman, "import", "--change", 'CMD ["python3"]', "-", BASE, stdin=tar.stdout)
    assert tar.wait() == 0
    shutil.rmtree(rootfs, ignore_errors=True)
    return BASE


def _context(scratch: Path) -> Path:
    """The package as `podman build .` in a checkout sees it, plus its wheels so the build needs no PyPI."""
    context = scratch / "context"
    context.mkdir()
    for name in ("Containerfile", ".containerignore", "pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, context / name)
    shutil.copytree(ROOT / "ecrlab", context / "ecrlab", ignore=shutil.ignore_patterns("__pycache__"))
    run(sys.executable, "-m", "pip", "wheel", "-q", "-c", "constraints.txt", "--wheel-dir", "wheels", ".", cwd=context)
    return context


def test_the_containerfile_serves_a_local_ecr(tmp_path):
    podman, skopeo = require_tool("podman"), require_tool("skopeo")
    # The machine's image store (the base image stays cached there), podman run as any CI container allows.
    PODMAN_ENV.update(podman_settings(tmp_path, own_storage=False))
    base = _base_image(podman, tmp_path)
    context = _context(tmp_path)
    tag = f"localhost/ecrlab-test/serve:{uuid.uuid4().hex[:12]}"
    name = f"ecrlab-serve-test-{uuid.uuid4().hex[:8]}"
    run(
        podman,
        "build",
        "-q",
        "--isolation",
        "chroot",
        "-t",
        tag,
        "--build-arg",
        f"BASE={base}",
        "--build-arg",
        "PIP_OPTIONS=--no-index --find-links /src/wheels",
        str(context),
        timeout=900,
    )
    try:
        # The same port numbers outside and in, so the endpoints the service reports are right on the host.
        api, registry = free_port(), free_port()
        run(
            podman,
            "run",
            "-d",
            "--name",
            name,
            "-p",
            f"127.0.0.1:{api}:{api}",
            "-p",
            f"127.0.0.1:{registry}:{registry}",
            tag,
            "--port",
            str(api),
            "--registry-port-base",
            str(registry),
        )
        process = subprocess.Popen(["sleep", "infinity"])  # wait_healthy's liveness check: the container's is below
        try:
            health = wait_healthy(f"http://127.0.0.1:{api}/_ecrlab/health", process, timeout=120)
        finally:
            process.kill()
        assert health["registries"][0]["registry"] == f"127.0.0.1:{registry}"
        env = {
            **clean_env(),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{api}",
            "AWS_ACCESS_KEY_ID": "AKIAECRLABADMIN00000",
            "AWS_SECRET_ACCESS_KEY": "ecrlab-sandbox-secret-not-a-real-aws-key",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        aws = (sys.executable, "-m", "awscli")
        run(*aws, "ecr", "create-repository", "--repository-name", "app", env=env)
        password = run(*aws, "ecr", "get-login-password", env=env).stdout.strip()
        image = ImageBuilder().copy_bytes(b"pushed to ecrlab in a container\n", "/hello.txt").build()
        layout = write_layout(image, tmp_path / "layout", tag="1")
        run(
            skopeo,
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"AWS:{password}",
            f"oci:{layout}:1",
            f"docker://127.0.0.1:{registry}/app:1",
        )
        described = json.loads(run(*aws, "ecr", "describe-images", "--repository-name", "app", env=env).stdout)
        assert [d["imageDigest"] for d in described["imageDetails"]] == [image.digest]
        run(podman, "stop", "-t", "20", name)  # SIGTERM: a clean stop, not the kill after the timeout
        state = json.loads(run(podman, "inspect", name).stdout)[0]["State"]
        assert state["ExitCode"] == 0, run(podman, "logs", name).stderr
    finally:
        subprocess.run([podman, "rm", "-f", name], env=PODMAN_ENV, capture_output=True, check=False)
        subprocess.run([podman, "rmi", "-f", tag], env=PODMAN_ENV, capture_output=True, check=False)

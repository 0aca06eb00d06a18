"""The learner's Docker path, for real: the ``docker`` SDK against Podman's Docker-compatible service.

Podman runs as ``podman system service`` on a unix socket (``podman_service.sh``: vfs storage, chroot
isolation, runc with cgroupfs, the sandbox registry marked insecure). The SDK builds a tiny image,
tags it with the sandbox repository URI, logs in with the ECR token and pushes; ECR's DescribeImages
must then list the digest the engine reported.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ecrlab.images import RegistryClient, engine_registry, find_engine
from tests.conftest import require_tool

SCRIPT = Path(__file__).with_name("podman_service.sh")

pytestmark = pytest.mark.realclient


@pytest.fixture
def podman_engine(lab):
    require_tool("podman")
    require_tool("runc")
    registry = engine_registry(lab.registry)
    # Podman refuses a runroot longer than 50 characters, so not pytest's long tmp_path.
    state = Path(tempfile.mkdtemp(prefix="ecrlab-podman-"))
    started = subprocess.run(
        [str(SCRIPT), "start", str(state), registry, lab.registry],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if started.returncode != 0:
        shutil.rmtree(state, ignore_errors=True)
        pytest.fail(f"podman system service did not start: {started.stderr}")
    engine = find_engine(started.stdout.strip())
    try:
        assert engine is not None, (state / "service.log").read_text()
        yield engine
    finally:
        if engine is not None:
            engine.close()
        subprocess.run([str(SCRIPT), "stop", str(state)], check=True, timeout=30)
        shutil.rmtree(state, ignore_errors=True)


def test_build_tag_login_push_with_the_docker_sdk(lab, ecr, podman_engine, tmp_path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text('FROM scratch\nCOPY hello.txt /hello.txt\nCMD ["/hello"]\n')
    (context / "hello.txt").write_text("hello from the docker SDK\n")
    ecr.create_repository(repositoryName="sdk/hello")

    registry = engine_registry(lab.registry)
    repository_uri = f"{registry}/sdk/hello"
    podman_engine.build(context, "hello:local", isolation="chroot")
    podman_engine.tag("hello:local", repository_uri, "v1")
    assert podman_engine.login_ecr(ecr, registry) == "Login Succeeded"
    pushed = podman_engine.push(repository_uri, "v1")

    details = ecr.describe_images(repositoryName="sdk/hello")["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in details] == [(pushed.digest, ["v1"])]
    assert podman_engine.name == "Podman"
    # the manifest ECR stores is the engine's, byte for byte: its sha256 is the digest the engine printed
    pulled = RegistryClient.for_lab(lab).pull("sdk/hello", "v1")
    assert pulled.digest == pushed.digest
    assert any(b"hello from the docker SDK" in gzip.decompress(layer.data) for layer in pulled.layers)


def test_push_without_login_is_refused(lab, ecr, podman_engine, tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /Dockerfile\n")
    ecr.create_repository(repositoryName="sdk/nologin")
    repository_uri = f"{engine_registry(lab.registry)}/sdk/nologin"
    podman_engine.build(tmp_path, "nologin:local", isolation="chroot")
    podman_engine.tag("nologin:local", repository_uri, "v1")
    from ecrlab.images import RegistryClientError

    with pytest.raises(RegistryClientError, match="(?i)auth|401|denied"):
        podman_engine.push(repository_uri, "v1")
    assert ecr.describe_images(repositoryName="sdk/nologin")["imageDetails"] == []

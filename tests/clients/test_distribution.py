"""Same image, same digest everywhere: the sandbox and a CNCF Distribution registry side by side."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from ecrlab.images import ImageBuilder, RegistryClient, base_image, build_index, start_distribution, write_layout
from tests.conftest import require_tool

pytestmark = pytest.mark.realclient


@pytest.fixture
def distribution(lab):
    require_tool("docker-registry")
    return start_distribution(lab)  # stopped with the lab


def _image():
    return (
        ImageBuilder(base_image("alpine:3.20.3"))
        .copy_bytes(b"same everywhere\n", "/app/hello.txt")
        .cmd(["/app/hello"])
        .build()
    )


def test_ecrlab_client_same_digest_in_both(lab, ecr, distribution) -> None:
    image = _image()
    ecr.create_repository(repositoryName="same/app")
    sandbox = RegistryClient.for_lab(lab).push(image, "same/app", "v1")
    peer = RegistryClient(distribution.address).push(image, "same/app", "v1")
    assert sandbox.digest == peer.digest == image.digest
    [detail] = ecr.describe_images(repositoryName="same/app")["imageDetails"]
    assert detail["imageDigest"] == image.digest
    # and each registry hands back the very same manifest bytes
    assert RegistryClient(distribution.address).pull("same/app", "v1").manifest == image.manifest
    assert RegistryClient.for_lab(lab).pull("same/app", "v1").manifest == image.manifest


def test_skopeo_same_digest_in_both(lab, ecr, distribution, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    index = build_index([_image(), ImageBuilder(platform="linux/arm64").copy_bytes(b"arm\n", "/app/hello.txt").build()])
    write_layout(index, tmp_path / "layout", "v1")
    ecr.create_repository(repositoryName="same/multi")
    password = (
        base64.b64decode(ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"])
        .decode()
        .split(":", 1)[1]
    )
    common = [skopeo, "--insecure-policy", "copy", "--all", "--preserve-digests", f"oci:{tmp_path / 'layout'}:v1"]
    subprocess.run(
        [
            *common,
            f"docker://{lab.registry}/same/multi:v1",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"AWS:{password}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [*common, f"docker://{distribution.address}/same/multi:v1", "--dest-tls-verify=false"],
        check=True,
        capture_output=True,
        timeout=120,
    )

    def digest_of(reference: str, *creds: str) -> str:
        out = subprocess.run(
            [skopeo, "inspect", "--raw", "--tls-verify=false", *creds, f"docker://{reference}"],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout
        assert json.loads(out)["mediaType"] == "application/vnd.oci.image.index.v1+json"
        return "sha256:" + hashlib.sha256(out).hexdigest()

    assert digest_of(f"{lab.registry}/same/multi:v1", "--creds", f"AWS:{password}") == index.digest
    assert digest_of(f"{distribution.address}/same/multi:v1") == index.digest
    tagged = [d for d in ecr.describe_images(repositoryName="same/multi")["imageDetails"] if d.get("imageTags")]
    assert [d["imageDigest"] for d in tagged] == [index.digest]


def test_distribution_stops_with_the_lab(lab) -> None:
    require_tool("docker-registry")
    registry = start_distribution(lab)
    assert registry.process.poll() is None
    lab.stop()
    assert registry.process.poll() is not None

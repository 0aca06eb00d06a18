"""skopeo copies an image into the sandbox and back out with the ECR token, byte for byte."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import pytest

from ecrlab.images import write_layout
from tests.conftest import require_tool
from tests.images.random_images import random_image

pytestmark = pytest.mark.realclient


def _skopeo(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [require_tool("skopeo"), "--insecure-policy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_skopeo_copy_in_and_out(lab, ecr, tmp_path):
    require_tool("skopeo")
    ecr.create_repository(repositoryName="skopeo/app")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    creds = base64.b64decode(token).decode()  # "AWS:<password>"
    image = random_image(layers=3, layer_size=200_000)
    write_layout(image, tmp_path / "src", "v1")
    ref = f"docker://{lab.registry}/skopeo/app:v1"
    pushed = _skopeo(
        "copy",
        "--preserve-digests",
        "--dest-creds",
        creds,
        "--dest-tls-verify=false",
        f"oci:{tmp_path / 'src'}:v1",
        ref,
    )
    assert pushed.returncode == 0, pushed.stderr
    (detail,) = ecr.describe_images(repositoryName="skopeo/app")["imageDetails"]
    assert detail["imageTags"] == ["v1"]
    assert detail["imageDigest"] == image.digest  # preserved: skopeo copied the manifest unchanged
    pulled = _skopeo(
        "copy", "--preserve-digests", "--src-creds", creds, "--src-tls-verify=false", ref, f"oci:{tmp_path / 'dst'}:v1"
    )
    assert pulled.returncode == 0, pulled.stderr
    for blob in image.blobs():
        assert (tmp_path / "dst" / "blobs" / "sha256" / blob.digest.split(":")[1]).read_bytes() == blob.data
    inspect = _skopeo("inspect", "--creds", creds, "--tls-verify=false", "--raw", ref)
    assert inspect.stdout.encode() == image.manifest


def test_skopeo_without_credentials_is_refused(lab, ecr, tmp_path):
    require_tool("skopeo")
    ecr.create_repository(repositoryName="skopeo/app")
    image = random_image()
    write_layout(image, tmp_path / "src", "v1")
    result = _skopeo(
        "copy",
        "--dest-creds",
        "AWS:forged",
        "--dest-tls-verify=false",
        f"oci:{tmp_path / 'src'}:v1",
        f"docker://{lab.registry}/skopeo/app:v1",
    )
    assert result.returncode != 0
    assert "401" in result.stderr or "unauthorized" in result.stderr.lower()
    assert ecr.describe_images(repositoryName="skopeo/app")["imageDetails"] == []


def test_skopeo_pushes_docker_schema2(lab, ecr, tmp_path):
    require_tool("skopeo")
    ecr.create_repository(repositoryName="skopeo/docker")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    creds = base64.b64decode(token).decode()
    write_layout(random_image(layers=2), tmp_path / "src", "v1")
    ref = f"docker://{lab.registry}/skopeo/docker:v2s2"
    pushed = _skopeo(
        "copy", "--format", "v2s2", "--dest-creds", creds, "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", ref
    )
    assert pushed.returncode == 0, pushed.stderr
    (detail,) = ecr.describe_images(repositoryName="skopeo/docker")["imageDetails"]
    assert detail["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert detail["artifactMediaType"] == "application/vnd.docker.container.image.v1+json"
    inspect = _skopeo("inspect", "--creds", creds, "--tls-verify=false", ref)
    assert inspect.returncode == 0 and json.loads(inspect.stdout)["Digest"] == detail["imageDigest"]

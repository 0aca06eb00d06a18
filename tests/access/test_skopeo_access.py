"""skopeo with a low-privilege ECR token: the read-only principal pulls, its push is DENIED."""

from __future__ import annotations

import base64
import os
import subprocess

from ecrlab.images import RegistryClient, write_layout
from tests.conftest import require_tool
from tests.images.random_images import random_image


def _skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [require_tool("skopeo"), "--insecure-policy", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")},
    )


def test_read_only_token_pulls_but_cannot_push_with_skopeo(lab, ecr, tmp_path):
    require_tool("skopeo")
    ecr.create_repository(repositoryName="app")
    admin = RegistryClient.for_lab(lab)
    image = random_image(layers=2)
    admin.push(image, "app", "v1")
    admin.close()
    iam = lab.client("iam")
    iam.create_user(UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    token = (
        lab.session(user="reader").client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    )
    creds = base64.b64decode(token).decode()
    ref = f"docker://{lab.registry}/app:v1"

    pulled = _skopeo(
        "copy", "--preserve-digests", "--src-creds", creds, "--src-tls-verify=false", ref, f"oci:{tmp_path / 'out'}:v1"
    )
    assert pulled.returncode == 0, pulled.stderr
    for blob in image.blobs():
        assert (tmp_path / "out" / "blobs" / "sha256" / blob.digest.split(":")[1]).read_bytes() == blob.data

    write_layout(random_image(), tmp_path / "new", "v2")
    pushed = _skopeo(
        "copy",
        "--dest-creds",
        creds,
        "--dest-tls-verify=false",
        f"oci:{tmp_path / 'new'}:v2",
        f"docker://{lab.registry}/app:v2",
    )
    assert pushed.returncode != 0
    assert "denied" in pushed.stderr.lower()
    assert [i.get("imageTag") for i in ecr.list_images(repositoryName="app")["imageIds"]] == ["v1"]

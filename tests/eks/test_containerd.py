"""containerd, the runtime EKS nodes use, pulls from the lab's registry with the node role's token: the same
digest the lab's kubelet reports, and the same 403 for a refused node role.

A private containerd (its own root, state and socket, the CRI plugin off) is started for the module;
``.ci/run`` installs Debian's ``containerd`` package. ``ctr content fetch`` resolves and downloads the manifest,
config and layers over plain HTTP as ``AWS:<token>``, without unpacking (the test images' layers are not tars).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ecrlab.eks import Cluster
from ecrlab.images import RegistryClient
from tests.conftest import require_tool
from tests.images.random_images import random_image

EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture(scope="module")
def containerd():
    daemon = require_tool("containerd")
    require_tool("ctr")
    if os.geteuid() != 0:
        pytest.skip("containerd needs root")
    # A short path: a unix socket's path is limited to about 100 bytes.
    home = Path(tempfile.mkdtemp(prefix="ctrd", dir="/tmp"))
    (home / "config.toml").write_text('version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n')
    socket = home / "sock"
    log = (home / "log").open("w")
    process = subprocess.Popen(
        [
            daemon,
            "--config",
            home / "config.toml",
            "--root",
            home / "root",
            "--state",
            home / "state",
            "--address",
            socket,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not socket.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"containerd did not start: {(home / 'log').read_text()[-2000:]}")
        time.sleep(0.1)
    yield str(socket)
    process.terminate()
    process.wait(timeout=30)
    log.close()
    shutil.rmtree(home, ignore_errors=True)


def fetch(socket: str, reference: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "--address", socket, "content", "fetch", "--plain-http", "--user", f"AWS:{password}", reference],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def node_password(lab, role: str) -> str:
    data = lab.session(role=role).client("ecr").get_authorization_token()["authorizationData"][0]
    return base64.b64decode(data["authorizationToken"]).decode().partition(":")[2]


def test_containerd_pulls_the_digest_the_kubelet_reports_and_is_refused_alike(lab, ecr, containerd):
    iam = lab.client("iam")
    role = iam.create_role(RoleName="node", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="node", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")
    ecr.create_repository(repositoryName="shop/web")
    pusher = RegistryClient.for_lab(lab)
    digest = pusher.push(random_image(layer_size=256), "shop/web", "v1").digest
    pusher.close()

    cluster = Cluster.create(lab, "demo", node_role_arn=role)
    host = f"{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com"
    cluster.apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
        f"spec:\n  containers: [{{name: web, image: '{host}/shop/web:v1'}}]\n"
    )
    (pod,) = cluster.pods()
    assert pod["imageID"] == f"{host}/shop/web@{digest}"

    fetched = fetch(containerd, f"{lab.registry}/shop/web:v1", node_password(lab, "node"))
    assert fetched.returncode == 0, fetched.stderr
    assert f"manifest-{digest}" in fetched.stdout  # containerd resolved the tag to the same digest
    pulled = [r for r in lab.trail.records if r["eventName"] == "BatchGetImage"][-1]
    assert pulled["userAgent"].startswith("containerd/")
    assert pulled["userIdentity"]["arn"].startswith(f"arn:aws:sts::{lab.account_id}:assumed-role/node/")

    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NotNodes", "Effect": "Deny", "Principal": {"AWS": role}, "Action": "ecr:BatchGetImage"}],
    }
    ecr.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(deny))
    refused = fetch(containerd, f"{lab.registry}/shop/web:v1", node_password(lab, "node"))
    assert refused.returncode != 0 and "403 Forbidden" in refused.stderr
    cluster.apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: again}\n"
        f"spec:\n  containers: [{{name: web, image: '{host}/shop/web:v1', imagePullPolicy: Always}}]\n"
    )
    assert "403 Forbidden" in cluster.events()[-1]["message"]

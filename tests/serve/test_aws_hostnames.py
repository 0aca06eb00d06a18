"""`ecrlab serve --aws-hostnames` end to end: the AWS registry name resolves here (a hosts entry this test
adds and removes), podman logs in with `aws ecr get-login-password`, skopeo pushes to
123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1 over TLS with the lab CA, and pulls it back byte-identical."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ecrlab.images import ImageBuilder
from ecrlab.images.layout import write_layout
from tests.conftest import IN_CI, require_tool
from tests.serve.conftest import clean_env, served

pytestmark = pytest.mark.realclient

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
HOSTS_FILE = Path("/etc/hosts")
AWS = (sys.executable, "-m", "awscli")
LINE = f"127.0.0.1 {HOST}  # ecrlab tests/serve"


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"{reason} (CI runs as root)")
        pytest.skip(reason)


@pytest.fixture
def hosts_entry():
    """The AWS name pointed at loopback for the test, then removed (only this line: others may edit the file
    meanwhile). Written in place: in a container /etc/hosts is a bind mount that cannot be replaced."""
    _need(os.access(HOSTS_FILE, os.W_OK), "adding a hosts entry needs a writable /etc/hosts")
    with HOSTS_FILE.open("a") as f:
        f.write(f"\n{LINE}\n")
    try:
        yield
    finally:
        kept = [line for line in HOSTS_FILE.read_text().splitlines() if line != LINE]
        while kept and not kept[-1]:
            kept.pop()
        with HOSTS_FILE.open("w") as f:
            f.write("\n".join(kept) + "\n")


def _port_443_free() -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 443))
        except OSError:
            return False
    return True


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
    return done.stdout


def test_podman_and_skopeo_push_to_the_aws_name_over_tls(tmp_path, hosts_entry):
    podman, skopeo = require_tool("podman"), require_tool("skopeo")
    _need(_port_443_free(), "the registry's TLS port 443 needs root and a free port")
    with served(tmp_path, "--aws-hostnames", "--state-dir", str(tmp_path / "state")) as running:
        env = {**clean_env(), **running.env, "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json")}
        assert running.env["ECRLAB_REGISTRY"] == HOST
        assert running.health["registries"][0]["registry"] == HOST
        # The CA trusted the way containers' tools read it: a certs.d-style directory.
        certs = tmp_path / "certs.d"
        certs.mkdir()
        shutil.copy(running.env["ECRLAB_CA_CERT"], certs / "ca.crt")
        log = Path(running.stderr_path).read_text()
        assert f"127.0.0.1 {HOST}" in log and f"/etc/containers/certs.d/{HOST}/ca.crt" in log

        token = json.loads(run(*AWS, "ecr", "get-authorization-token", "--output", "json", env=env))
        assert token["authorizationData"][0]["proxyEndpoint"] == f"https://{HOST}"  # what docker login is given
        run(*AWS, "ecr", "create-repository", "--repository-name", "app", env=env)
        password = run(*AWS, "ecr", "get-login-password", env=env)
        out = run(
            podman, "login", "--cert-dir", str(certs), "-u", "AWS", "--password-stdin", HOST, env=env, stdin=password
        )
        assert "Login Succeeded" in out

        image = ImageBuilder().copy_bytes(b"served under its AWS name\n", "/hello.txt").build()
        layout = write_layout(image, tmp_path / "pushed", tag="1")
        run(skopeo, "copy", "--dest-cert-dir", str(certs), f"oci:{layout}:1", f"docker://{HOST}/app:1", env=env)

        described = json.loads(
            run(*AWS, "ecr", "describe-images", "--repository-name", "app", "--output", "json", env=env)
        )
        assert [d["imageDigest"] for d in described["imageDetails"]] == [image.digest]
        raw = subprocess.run(
            [skopeo, "inspect", "--raw", "--cert-dir", str(certs), f"docker://{HOST}/app:1"],
            env=env,
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
        assert raw == image.manifest
        pulled = tmp_path / "pulled"
        run(skopeo, "copy", "--src-cert-dir", str(certs), f"docker://{HOST}/app:1", f"oci:{pulled}:1", env=env)
        for blob in (layout / "blobs" / "sha256").iterdir():
            assert (pulled / "blobs" / "sha256" / blob.name).read_bytes() == blob.read_bytes()

        # Without the CA the name's certificate is not trusted: TLS is real, not switched off.
        refused = subprocess.run(
            [skopeo, "inspect", "--raw", f"docker://{HOST}/app:1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert refused.returncode != 0 and "certificate" in refused.stderr

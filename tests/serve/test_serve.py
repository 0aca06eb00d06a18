"""`ecrlab serve` as a CI job uses it: several accounts and regions on fixed ports, a health endpoint that
says what is served, exports to eval, the AWS CLI against it, and a clean stop on SIGTERM."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import HEALTH, clean_env, free_port, served

ACCOUNTS = ("123456789012", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = free_port(len(ACCOUNTS) * len(REGIONS))
    with served(
        tmp_path_factory.mktemp("serve"),
        "--accounts",
        ",".join(ACCOUNTS),
        "--regions",
        ",".join(REGIONS),
        "--registry-port-base",
        str(base),
    ) as running:
        yield running, base


def test_health_lists_every_account_and_region_on_fixed_ports(server):
    running, base = server
    health = running.health
    assert health["status"] == "ok"
    assert (health["accounts"], health["regions"]) == (list(ACCOUNTS), list(REGIONS))
    registries = {(r["accountId"], r["region"]): r for r in health["registries"]}
    assert list(registries) == [(a, r) for a in ACCOUNTS for r in REGIONS]
    assert [r["registry"] for r in health["registries"]] == [f"127.0.0.1:{base + i}" for i in range(4)]
    assert (
        registries[("222222222222", "eu-west-1")]["repositoryUriPrefix"]
        == "222222222222.dkr.ecr.eu-west-1.amazonaws.com"
    )
    for entry in health["registries"]:  # each one answers as a registry: 401 with ECR's Basic challenge
        answer = httpx.get(f"http://{entry['registry']}/v2/")
        assert answer.status_code == 401
        assert (
            answer.headers["WWW-Authenticate"]
            == f'Basic realm="https://{entry["repositoryUriPrefix"]}/",service="ecr.amazonaws.com"'
        )


def test_exports_point_the_aws_cli_at_the_first_account_and_region(server):
    running, base = server
    assert running.env["AWS_ENDPOINT_URL"] == running.health["endpoint"]
    assert running.env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert running.env["ECRLAB_REGISTRY"] == f"127.0.0.1:{base}"
    made = running.aws("ecr", "create-repository", "--repository-name", "ci/app")
    assert made.returncode == 0, made.stderr
    uri = json.loads(made.stdout)["repository"]["repositoryUri"]
    assert uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/ci/app"  # AWS-shaped: tools store it
    token = running.aws("ecr", "get-authorization-token", "--output", "json")
    (data,) = json.loads(token.stdout)["authorizationData"]
    assert data["proxyEndpoint"] == f"http://127.0.0.1:{base}"
    basic = {"Authorization": f"Basic {data['authorizationToken']}"}
    assert base64.b64decode(data["authorizationToken"]).startswith(b"AWS:")
    assert httpx.get(f"{data['proxyEndpoint']}/v2/", headers=basic).status_code == 200


def test_the_other_account_and_region_are_served_too(server):
    running, _ = server
    log = Path(running.stderr_path).read_text()
    (keys,) = re.findall(r"as account 222222222222's administrator: export (.*)", log)
    other = dict(pair.split("=", 1) for pair in keys.split())
    env = {**running.env, **other, "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1"}
    made = subprocess.run(
        [sys.executable, "-m", "awscli", "ecr", "create-repository", "--repository-name", "eu/app"],
        env={**clean_env(), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert (
        json.loads(made.stdout)["repository"]["repositoryUri"] == "222222222222.dkr.ecr.eu-west-1.amazonaws.com/eu/app"
    )
    listed = running.aws("ecr", "describe-repositories", "--query", "repositories[].repositoryName", "--output", "text")
    assert "eu/app" not in listed.stdout.split()  # the first account's us-east-1 registry holds only its own


def test_health_answers_only_get_and_head(server):
    running, _ = server
    url = f"{running.env['AWS_ENDPOINT_URL']}{HEALTH}"
    assert httpx.head(url).status_code == 200
    refused = httpx.post(url)
    assert (refused.status_code, refused.headers["Allow"]) == (405, "GET, HEAD")


def test_sigterm_stops_every_server(tmp_path):
    with served(tmp_path, "--registry-port-base", str(base := free_port())) as running:
        endpoint = running.env["AWS_ENDPOINT_URL"]
    # served() asserted exit code 0; nothing listens any more.
    for address in (endpoint.removeprefix("http://"), f"127.0.0.1:{base}"):
        host, port = address.split(":")
        with socket.socket() as s:
            assert s.connect_ex((host, int(port))) != 0


def _serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecrlab.cli", "serve", *args],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "--i-know-this-is-exposed"),
        (["--host", "192.0.2.1"], "would let other machines reach the sandbox"),
        (["--accounts", "12345"], "'12345' is not an AWS account id (12 digits)"),
        (["--regions", "US-EAST-1"], "'US-EAST-1' is not an AWS region name"),
        (["--regions", "us-east-1,us-east-1"], "--regions names the same value twice"),
        (["--port", "70000"], "--port must be a TCP port between 1 and 65535"),
    ],
)
def test_bad_flags_are_refused_before_anything_starts(args, message):
    refused = _serve(*args, timeout=30)
    assert refused.returncode == 2
    assert message in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = _serve("--registry-port-base", str(port))
    assert refused.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_busy_api_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = _serve("--port", str(port))
    assert refused.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port} for the AWS API endpoint" in refused.stderr


def test_another_interface_only_with_the_opt_in_and_a_warning(tmp_path):
    with served(tmp_path, "--host", "0.0.0.0", "--i-know-this-is-exposed") as running:
        # Bound to every interface, advertised on loopback: what a published container port reaches.
        assert running.env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert running.health["registries"][0]["registry"].startswith("127.0.0.1:")
        warning = Path(running.stderr_path).read_text()
    assert "WARNING: listening on 0.0.0.0" in warning

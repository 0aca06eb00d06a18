"""In sandbox mode nothing leaves the machine, whatever the environment holds."""

from __future__ import annotations

import socket

import boto3
import pytest

import ecrlab
from ecrlab.safety import SandboxEscapeError, is_loopback_url

REAL_LOOKING = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLETOKEN",
    "AWS_PROFILE": "production-admin",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_ENDPOINT_URL": "https://ecr.eu-central-1.amazonaws.com",
    "AWS_ENDPOINT_URL_ECR": "https://api.ecr.eu-central-1.amazonaws.com",
    "AWS_CONFIG_FILE": "/nonexistent/aws/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws/credentials",
}


@pytest.fixture
def hostile_environment(monkeypatch):
    for key, value in REAL_LOOKING.items():
        monkeypatch.setenv(key, value)
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def loopback_only(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
            attempts.append(address)
            raise ConnectionRefusedError(f"test network: {address} is outside this machine")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    return attempts


def test_lab_works_with_real_looking_credentials_and_no_network(hostile_environment):
    with ecrlab.start(deterministic=True) as lab:
        ecr = lab.client("ecr")
        ecr.create_repository(repositoryName="safe")
        # A learner's plain client inside the kernel reaches the sandbox, not AWS.
        plain = boto3.client("ecr", region_name=lab.region)
        assert [r["repositoryName"] for r in plain.describe_repositories()["repositories"]] == ["safe"]
        # The AWS CLI in another process gets a clean environment pointing at the sandbox.
        out = lab.aws("ecr describe-repositories")
        assert out.ok, out.stderr
        assert "safe" in out.stdout
        assert lab.session().client("sts").get_caller_identity()["Account"] == lab.account_id
    assert hostile_environment == []


def test_an_endpoint_outside_the_machine_is_refused_before_connecting(hostile_environment):
    with ecrlab.start(deterministic=True) as lab:
        client = lab.session().client("ecr", endpoint_url="https://registry.example.com")
        with pytest.raises(SandboxEscapeError, match="nothing leaves this machine"):
            client.describe_repositories()
    assert hostile_environment == []


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:5000/", True),
        ("http://[::1]:80/", True),
        ("http://localhost/", True),
        ("https://api.ecr.us-east-1.amazonaws.com/", False),
        ("http://10.0.0.1/", False),
    ],
)
def test_is_loopback_url(url, loopback):
    assert is_loopback_url(url) is loopback


def test_lab_servers_listen_on_loopback_only(lab):
    assert lab.endpoint_url.startswith("http://127.0.0.1:")

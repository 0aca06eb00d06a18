"""The sandbox imports, starts and works whatever AWS and proxy settings the environment holds, and
nothing it does leaves the machine.

Each case runs in its own interpreter. A ``sitecustomize`` on PYTHONPATH installs an audit hook in that
interpreter and in every Python process it starts (the AWS CLI): a connection or name lookup for
anything but loopback is refused and written to a log. Proxy variables point at a trap listening on
loopback, so a request sent through a proxy is seen even though the proxy is "on this machine".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

WATCHER = textwrap.dedent(
    """
    import ipaddress, os, socket, sys

    _LOG = os.environ.get("ECRLAB_TEST_CONNECT_LOG")

    def _loopback(host):
        if host in ("localhost", "localhost.", ""):
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    def _watch(event, args):
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and not _loopback(str(address[0])):
                _refuse(f"connect {address[0]}:{address[1]}")
        elif event == "socket.getaddrinfo":
            host = args[0]
            if isinstance(host, bytes):
                host = host.decode()
            if host is not None and not _loopback(str(host)):
                _refuse(f"lookup {host}")

    def _refuse(what):
        if _LOG:
            with open(_LOG, "a") as log:
                log.write(f"{os.getpid()} {sys.argv[0]!r}: {what}\\n")
        raise ConnectionRefusedError(f"test network: {what} is outside this machine")

    if _LOG:
        sys.addaudithook(_watch)
    """
)

# What each case does: import, start, the lab's own client, a learner's plain client, a client on the
# lab's loopback endpoint, the registry, the AWS CLI, and fresh sessions aimed off the machine.
CASE = textwrap.dedent(
    """
    import json, os, sys
    import ecrlab
    lab = ecrlab.start(deterministic=True)
    import boto3
    from ecrlab.safety import SandboxEscapeError
    from ecrlab.images import RegistryClient

    lab.client("ecr").create_repository(repositoryName="safe")
    plain = boto3.client("ecr", region_name=lab.region)
    names = [r["repositoryName"] for r in plain.describe_repositories()["repositories"]]
    assert names == ["safe"], names
    served = lab.session().client("ecr", endpoint_url=lab.endpoint_url)
    assert served.describe_repositories()["repositories"][0]["repositoryName"] == "safe"
    registry = RegistryClient.for_lab(lab)
    assert registry.http.get("/v2/").status_code == 200
    registry.close()
    cli = lab.aws("ecr describe-repositories")
    assert cli.ok, cli.stderr
    assert [r["repositoryName"] for r in json.loads(cli.stdout)["repositories"]] == ["safe"], cli.stdout

    refused = []
    try:
        boto3.Session(region_name="us-east-1").client(
            "ecr", endpoint_url="https://ecr.example.invalid"
        ).describe_repositories()
    except SandboxEscapeError:
        refused.append("endpoint_url")
    os.environ["AWS_ENDPOINT_URL"] = "https://api.example.invalid"
    try:
        boto3.Session(region_name="us-east-1").client("ecr").describe_repositories()
    except SandboxEscapeError:
        refused.append("AWS_ENDPOINT_URL")
    del os.environ["AWS_ENDPOINT_URL"]
    assert refused == ["endpoint_url", "AWS_ENDPOINT_URL"], refused
    lab.stop()
    print("CASE-OK")
    """
)


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "site").mkdir()
    (root / "site" / "sitecustomize.py").write_text(WATCHER)
    (root / "config").write_text(
        "[default]\nregion = eu-west-1\ncredential_process = /bin/false\nendpoint_url = https://example.invalid\n"
        "[profile evil]\nregion = eu-west-1\ncredential_process = /bin/false\n"
        "endpoint_url = https://example.invalid\nca_bundle = /nonexistent/ca.pem\n"
    )
    (root / "credentials").write_text(
        "[default]\ncredential_process = /bin/false\n[evil]\ncredential_process = /bin/false\n"
    )
    return root


@pytest.fixture(scope="module")
def proxy_trap():
    """A listener on loopback standing in for a proxy: any connection to it is a request sent via a proxy."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    hits: list[str] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                hits.append(conn.recv(200).decode(errors="replace").splitlines()[0] if conn else "")
            except (OSError, IndexError):
                hits.append("(connection)")
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", hits
    server.close()


def cases(places: Path, proxy: str) -> dict[str, dict[str, str]]:
    config, credentials = str(places / "config"), str(places / "credentials")
    keys = {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLETOKEN",
    }
    single = {
        "profile-not-configured": {"AWS_PROFILE": "production-admin"},
        "default-profile-not-configured": {"AWS_DEFAULT_PROFILE": "production-admin"},
        "config-file-credential-process": {"AWS_CONFIG_FILE": config},
        "credentials-file-credential-process": {"AWS_SHARED_CREDENTIALS_FILE": credentials},
        "profile-with-off-machine-endpoint": {"AWS_CONFIG_FILE": config, "AWS_PROFILE": "evil"},
        "missing-config-files": {
            "AWS_CONFIG_FILE": "/nonexistent/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/c",
        },
        "endpoint-url": {"AWS_ENDPOINT_URL": "https://ecr.eu-central-1.amazonaws.com"},
        "endpoint-url-ecr": {"AWS_ENDPOINT_URL_ECR": "https://example.invalid"},
        "endpoint-url-sts-iam": {
            "AWS_ENDPOINT_URL_STS": "https://example.invalid",
            "AWS_ENDPOINT_URL_IAM": "https://x.invalid",
        },
        "ca-bundle": {"AWS_CA_BUNDLE": "/nonexistent/ca.pem"},
        "credentials": keys,
        "https-proxy": {"HTTPS_PROXY": proxy},
        "http-proxy": {"HTTP_PROXY": proxy},
        "all-proxy": {"ALL_PROXY": proxy},
        "lower-case-proxies": {"https_proxy": proxy, "http_proxy": proxy, "all_proxy": proxy},
        "no-proxy-excludes-nothing": {"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "NO_PROXY": "example.com"},
        "region-elsewhere": {"AWS_DEFAULT_REGION": "ap-southeast-2", "AWS_REGION": "eu-north-1"},
    }
    everything: dict[str, str] = {}
    for variables in single.values():
        everything.update(variables)
    everything.update(AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE=credentials, AWS_PROFILE="evil")
    return {**single, "everything-at-once": everything}


CASE_NAMES = [
    "profile-not-configured",
    "default-profile-not-configured",
    "config-file-credential-process",
    "credentials-file-credential-process",
    "profile-with-off-machine-endpoint",
    "missing-config-files",
    "endpoint-url",
    "endpoint-url-ecr",
    "endpoint-url-sts-iam",
    "ca-bundle",
    "credentials",
    "https-proxy",
    "http-proxy",
    "all-proxy",
    "lower-case-proxies",
    "no-proxy-excludes-nothing",
    "region-elsewhere",
    "everything-at-once",
]


def test_every_case_is_run():
    assert sorted(CASE_NAMES) == sorted(cases(Path("/"), "http://127.0.0.1:9"))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_the_sandbox_works_and_nothing_leaves_the_machine(case, places, proxy_trap, tmp_path):
    proxy, hits = proxy_trap
    log = tmp_path / "connections.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    }
    env.pop("ECRLAB_DETERMINISTIC", None)
    env.update(cases(places, proxy)[case])
    env["ECRLAB_TEST_CONNECT_LOG"] = str(log)
    env["PYTHONPATH"] = os.pathsep.join([str(places / "site"), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["HOME"] = str(tmp_path)  # no ~/.aws of the machine running the tests
    before = len(hits)
    proc = subprocess.run(
        [sys.executable, "-c", CASE], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0 and "CASE-OK" in proc.stdout, proc.stderr[-3000:]
    assert not log.exists(), log.read_text()
    assert hits[before:] == [], "requests went through the proxy"


def test_the_watcher_sees_an_off_machine_connection(places, tmp_path):
    """The watcher itself: a connection to a documentation address is refused and logged."""
    log = tmp_path / "connections.log"
    env = dict(os.environ, ECRLAB_TEST_CONNECT_LOG=str(log), PYTHONPATH=str(places / "site"))
    code = textwrap.dedent(
        """
        import socket
        for attempt in (lambda: socket.create_connection(("api.example.com", 443), timeout=1),
                        lambda: socket.socket().connect(("192.0.2.1", 443))):
            try:
                attempt()
            except ConnectionRefusedError:
                print("refused")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout.split() == ["refused", "refused"], proc.stderr
    assert "lookup api.example.com" in log.read_text()
    assert "connect 192.0.2.1:443" in log.read_text()


def test_the_cli_environment_has_no_proxy_and_no_aws_variable_of_the_learners(lab, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("all_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "example.com")
    monkeypatch.setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem")
    env = lab.cli_env()
    assert not {k for k in env if k.upper() in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")}
    assert "AWS_CA_BUNDLE" not in env
    for key in ("NO_PROXY", "no_proxy"):
        assert set(env[key].split(",")) >= {"example.com", "127.0.0.1", "localhost", "::1"}
    assert json.loads(json.dumps(env))["AWS_ENDPOINT_URL"] == lab.endpoint_url

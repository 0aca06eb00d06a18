"""The lab CA and the certificate `ecrlab serve --aws-hostnames` serves, and routing by Host."""

from __future__ import annotations

import asyncio
import ssl
import stat

from cryptography import x509

from ecrlab.serve.tls import HostRouter, issue, trust_instructions

HOSTS = ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "222222222222.dkr.ecr.eu-west-1.amazonaws.com"]


def test_the_server_certificate_names_every_host_and_chains_to_the_ca(tmp_path):
    files = issue(tmp_path, HOSTS)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == HOSTS
    # What a client does: verify the chain against the lab CA alone, for each host name.
    context = ssl.create_default_context(cafile=str(files.ca_cert))
    context.load_cert_chain(files.cert, files.key)  # the key matches the certificate
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert cert.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    cert.verify_directly_issued_by(ca)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600


def test_the_ca_is_kept_so_it_is_trusted_once(tmp_path):
    first = issue(tmp_path, HOSTS[:1])
    ca_bytes = first.ca_cert.read_bytes()
    cert_bytes = first.cert.read_bytes()
    second = issue(tmp_path, HOSTS)
    assert second.ca_cert.read_bytes() == ca_bytes
    assert second.cert.read_bytes() != cert_bytes  # issued afresh for the hosts of this run


def test_trust_instructions_cover_hosts_docker_podman_and_containerd(tmp_path):
    text = trust_instructions(tmp_path / "ca.crt", HOSTS, 443)
    for host in HOSTS:
        assert f"\n127.0.0.1 {host}\n" in text + "\n"
        assert f"/etc/docker/certs.d/{host}/ca.crt" in text
        assert f"/etc/containers/certs.d/{host}/ca.crt" in text
        assert f"/etc/containerd/certs.d/{host}/hosts.toml" in text
    assert f"/etc/docker/certs.d/{HOSTS[0]}:8443/ca.crt" in trust_instructions(tmp_path / "ca.crt", HOSTS, 8443)


def _call(router: HostRouter, host: bytes) -> tuple[int, bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/v2/", "headers": [(b"host", host)]}
    asyncio.run(router(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_requests_go_to_the_registry_their_host_names():
    def app_answering(status: int):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        return app

    router = HostRouter({HOSTS[0]: app_answering(200), HOSTS[1]: app_answering(204)})
    assert _call(router, HOSTS[0].encode())[0] == 200
    assert _call(router, HOSTS[1].upper().encode() + b":443")[0] == 204
    status, body = _call(router, b"example.com")
    assert status == 421 and b"not example.com" in body

"""``ecrlab serve --aws-hostnames``: the registries under their AWS names, over TLS with a lab CA.

Real clients push to ``<account>.dkr.ecr.<region>.amazonaws.com/...`` once the host resolves to this
machine (a hosts-file line) and they trust the lab's CA. The CA is kept in the data or state directory
and reused, so a machine trusts it once; the server certificate is issued afresh each start for exactly
the hosts served. One HTTPS server answers every host and hands each request to that registry's app by
its ``Host`` header (the certificate names them all, so any SNI a client sends is covered).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["HostRouter", "TlsFiles", "issue", "trust_instructions"]

CA_NAME = "ecrlab local ECR CA"
_CA_LIFETIME = datetime.timedelta(days=3650)
# Well under the 398 days browsers and Apple's TLS stack accept for a server certificate.
_SERVER_LIFETIME = datetime.timedelta(days=365)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    cert: Path
    key: Path


def _write(path: Path, data: bytes, private: bool = False) -> None:
    # Written beside and renamed: a reader never sees half a PEM file, and a key is never world-readable.
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(partial, path)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ecrlab"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _load_or_create_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now() + _SERVER_LIFETIME:
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME))
        .issuer_name(_name(CA_NAME))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(
        key_path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        private=True,
    )
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _now() -> datetime.datetime:
    # Real time, not the lab clock: TLS clients check certificates against the machine's clock.
    return datetime.datetime.now(datetime.timezone.utc)


def issue(directory: Path, hosts: Iterable[str]) -> TlsFiles:
    """The lab CA in ``directory`` (created on first use) and a new server certificate for ``hosts``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _load_or_create_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    names = sorted(set(hosts))
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _SERVER_LIFETIME)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.crt", directory / "registry.crt", directory / "registry.key")
    _write(
        files.key,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        private=True,
    )
    _write(files.cert, cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM))
    return files


class HostRouter:
    """An ASGI app that gives each request to the registry app its ``Host`` header names."""

    def __init__(self, apps: dict[str, AsgiApp]) -> None:
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = ""
        for name, value in scope.get("headers", []):
            if name == b"host":
                host = value.decode("latin-1").rsplit(":", 1)[0] if not value.startswith(b"[") else ""
                break
        app = self.apps.get(host.lower())
        if app is not None:
            await app(scope, receive, send)
            return
        # 421 Misdirected Request: the connection reached a server that does not serve that host.
        body = f"this ecrlab registry serves {', '.join(sorted(self.apps))}, not {host or 'a request without Host'}\n"
        await send({"type": "http.response.start", "status": 421, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body.encode()})


def trust_instructions(ca_cert: Path, hosts: Iterable[str], tls_port: int) -> str:
    """The hosts-file lines and the commands that make docker, podman/skopeo/buildah and containerd
    trust the lab CA for each host, as a shell-commented block to read or paste."""
    names = sorted(hosts)
    # certs.d directories are named host[:port]; the default HTTPS port is left out.
    dirs = [n if tls_port == 443 else f"{n}:{tls_port}" for n in names]
    lines = ["# /etc/hosts (the AWS names reach this machine):"]
    lines += [f"127.0.0.1 {n}" for n in names]
    lines += ["", "# docker:"]
    lines += [f"sudo install -D -m 644 {ca_cert} /etc/docker/certs.d/{d}/ca.crt" for d in dirs]
    lines += ["", "# podman, skopeo, buildah (or --cert-dir / --src-cert-dir / --dest-cert-dir):"]
    lines += [f"sudo install -D -m 644 {ca_cert} /etc/containers/certs.d/{d}/ca.crt" for d in dirs]
    lines += ["", '# containerd (CRI, nerdctl; config_path = "/etc/containerd/certs.d"):']
    for d in dirs:
        url = f"https://{d}"
        lines.append(
            f"sudo mkdir -p /etc/containerd/certs.d/{d} && printf '%s\\n' 'server = \"{url}\"' "
            f"'[host.\"{url}\"]' '  ca = \"{ca_cert}\"' | sudo tee /etc/containerd/certs.d/{d}/hosts.toml"
        )
    return "\n".join(lines)

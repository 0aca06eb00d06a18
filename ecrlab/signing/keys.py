"""The lab's signing key: what signs images in the sandbox where AWS Signer's keys sign them in AWS.

**A lab key, not AWS Signer's trust.** Each registry of the lab gets its own ECDSA P-384 key (AWS Signer's
Notation profiles sign with ECDSA P-384 and SHA-384 too) and a two-certificate chain made by the lab: a root,
"ecrlab lab signing root", and the signing certificate it issued (code signing, as the Notary Project requires
of a signing certificate). Nothing outside the lab trusts them, and a Notation trust store set up for AWS
Signer (``aws-signer-ts``) does not either: a verifier trusts the lab root only when told to, as an admission
controller is told which roots to trust.

The key and chain live on the registry's record (``Registry.signing_key_pem``/``signing_chain_pem``), so they
are kept with the rest of the registry's state. They are made on first use from the engine's ids: in
deterministic mode the same seed gives the same key, certificates and (RFC 6979) signatures run to run; in
a normal lab they come from the system's randomness.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.model import Registry

__all__ = ["CERTIFICATE_LIFETIME", "LabSigningKey", "ecdsa", "signing_key", "trust_anchor"]

#: How long the lab's certificates are valid from when they are made: long enough for any lesson's
#: time travel (lifecycle lessons move the lab clock by months), short of anything a real CA would issue.
CERTIFICATE_LIFETIME = timedelta(days=3650)
# The order of the P-384 group: a private scalar is taken in [1, n-1].
_P384_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973


@lru_cache(maxsize=1)
def _deterministic() -> bool:
    try:
        ec.ECDSA(hashes.SHA384(), deterministic_signing=True)
    except UnsupportedAlgorithm:
        return False
    return True


def ecdsa() -> ec.ECDSA:
    """ECDSA with SHA-384, deterministic (RFC 6979) where the OpenSSL underneath supports it, so a
    deterministic lab's signatures repeat byte for byte; randomised ECDSA verifies the same way."""
    return ec.ECDSA(hashes.SHA384(), deterministic_signing=_deterministic())


@dataclass(frozen=True)
class LabSigningKey:
    """A registry's lab signing key and its chain: ``chain[0]`` the signing certificate, ``chain[-1]`` the root."""

    private_key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1]


def _private_key(engine: Engine) -> ec.EllipticCurvePrivateKey:
    material = "".join(engine.new_id() for _ in range(4)).encode()
    scalar = int.from_bytes(hashlib.sha512(material).digest(), "big") % (_P384_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP384R1())


def _name(common_name: str, account: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ecrlab sandbox lab key - not AWS Signer"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, account),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _serial(engine: Engine) -> int:
    return int(engine.new_id().replace("-", ""), 16) >> 1  # positive, under 2**159 as RFC 5280 asks


def _make(engine: Engine, registry: Registry) -> None:
    # Certificates carry whole seconds; a minute of slack keeps a signature made right away inside them.
    start = engine.clock.now().astimezone(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    root_key, leaf_key = _private_key(engine), _private_key(engine)
    root_name = _name("ecrlab lab signing root", registry.account)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(_serial(engine))
        .not_valid_before(start)
        .not_valid_after(start + CERTIFICATE_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA384(), ecdsa_deterministic=_deterministic())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(f"ecrlab lab signing key {registry.region}", registry.account))
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(_serial(engine))
        .not_valid_before(start)
        .not_valid_after(start + CERTIFICATE_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA384(), ecdsa_deterministic=_deterministic())
    )
    registry.signing_key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    registry.signing_chain_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, root))


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def signing_key(engine: Engine, account: str, region: str) -> LabSigningKey:
    """The lab signing key of the registry ``account``/``region``, made on first use."""
    with engine.lock:
        registry = engine.registry(account, region)
        if registry.signing_key_pem is None or registry.signing_chain_pem is None:
            _make(engine, registry)
        assert registry.signing_key_pem is not None and registry.signing_chain_pem is not None
        key = serialization.load_pem_private_key(registry.signing_key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("a lab signing key is an EC key")
        return LabSigningKey(key, tuple(x509.load_pem_x509_certificates(registry.signing_chain_pem)))


def trust_anchor(engine: Engine, account: str, region: str) -> x509.Certificate:
    """The root certificate a verifier must trust to accept the signatures this registry's managed signing
    makes in the lab (what a Notation trust store or an admission controller would be given)."""
    return signing_key(engine, account, region).root

"""Notary Project signatures: the JWS envelope, the signature manifest that attaches it to an image, and
the checks a verifier makes.

The format is the Notary Project's (the one AWS Signer and ``notation`` write, and what ECR managed signing
stores):

- the **payload** names the signed image, ``{"targetArtifact": {"mediaType", "digest", "size"}}``
  (``application/vnd.cncf.notary.payload.v1+json``);
- the **envelope** is a JWS in JSON serialization (``application/jose+json``): a protected header with the
  algorithm (``ES384``), the signing scheme ``notary.x509`` (critical) and the signing time, the signature
  over ``base64url(protected) + "." + base64url(payload)``, and an unprotected header carrying the
  certificate chain (``x5c``, signing certificate first) and the signing agent;
- the **signature manifest** is an OCI image manifest with ``artifactType``
  ``application/vnd.cncf.notary.signature``, the empty config, the envelope as its one layer and the image
  as its ``subject``, so the registry's referrers API lists it under the image.

What a valid signature proves: the holder of a key that a trusted root certified signed *this digest*. A tag
is not signed; an image pushed under the same tag later has another digest and no signature of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID

from ecrlab.errors import SignatureVerificationError
from ecrlab.oci import OCI_MANIFEST, sha256_digest
from ecrlab.signing.keys import LabSigningKey, ecdsa

__all__ = [
    "EMPTY_CONFIG",
    "EMPTY_CONFIG_TYPE",
    "ENVELOPE_TYPE",
    "PAYLOAD_TYPE",
    "SIGNATURE_ARTIFACT_TYPE",
    "SIGNING_AGENT",
    "Signature",
    "Verified",
    "sign",
    "verify",
]

SIGNATURE_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
ENVELOPE_TYPE = "application/jose+json"
PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
#: The unprotected ``io.cncf.notary.signingAgent`` header: says what made the signature (not AWS Signer).
SIGNING_AGENT = "ecrlab managed signing (lab key)"
_ALG = "ES384"
_SCHEME = "notary.x509"
_COORDINATE = 48  # bytes of r and of s in a P-384 JWS signature
_THUMBPRINTS = "io.cncf.notary.x509chain.thumbprint#S256"


@dataclass(frozen=True)
class Signature:
    """A signature ready to store: the envelope (the manifest's one layer) and the signature manifest."""

    envelope: bytes
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)


@dataclass(frozen=True)
class Verified:
    """What a signature that verified says: who signed (the signing certificate's subject), when, and which image."""

    digest: str
    media_type: str
    size: int
    signed_at: datetime
    signer: str
    extended: dict[str, str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    key: LabSigningKey,
    *,
    media_type: str,
    digest: str,
    size: int,
    signed_at: datetime,
    extended: dict[str, str] | None = None,
) -> Signature:
    """Sign the image ``digest`` (its manifest's ``media_type`` and ``size``) with ``key`` at ``signed_at``.

    ``extended``: extended attributes for the protected header (not critical: a verifier that does not know
    them still verifies the signature)."""
    payload = json.dumps(
        {"targetArtifact": {"mediaType": media_type, "digest": digest, "size": size}}, separators=(",", ":")
    ).encode()
    protected = json.dumps(
        {
            "alg": _ALG,
            "crit": ["io.cncf.notary.signingScheme"],
            "cty": PAYLOAD_TYPE,
            "io.cncf.notary.signingScheme": _SCHEME,
            "io.cncf.notary.signingTime": _stamp(signed_at),
            **(extended or {}),
        },
        separators=(",", ":"),
    ).encode()
    signing_input = f"{_b64url(protected)}.{_b64url(payload)}".encode("ascii")
    r, s = decode_dss_signature(key.private_key.sign(signing_input, ecdsa()))
    envelope = json.dumps(
        {
            "payload": _b64url(payload),
            "protected": _b64url(protected),
            "header": {
                "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode() for cert in key.chain],
                "io.cncf.notary.signingAgent": SIGNING_AGENT,
            },
            "signature": _b64url(r.to_bytes(_COORDINATE, "big") + s.to_bytes(_COORDINATE, "big")),
        },
        separators=(",", ":"),
    ).encode()
    thumbprints = [hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest() for c in key.chain]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": SIGNATURE_ARTIFACT_TYPE,
            "config": {"mediaType": EMPTY_CONFIG_TYPE, "digest": sha256_digest(EMPTY_CONFIG), "size": 2},
            "layers": [{"mediaType": ENVELOPE_TYPE, "digest": sha256_digest(envelope), "size": len(envelope)}],
            "subject": {"mediaType": media_type, "digest": digest, "size": size},
            "annotations": {
                _THUMBPRINTS: json.dumps(thumbprints),
                "org.opencontainers.image.created": _stamp(signed_at),
            },
        },
        separators=(",", ":"),
    ).encode()
    return Signature(envelope, manifest)


def _fail(why: str) -> SignatureVerificationError:
    return SignatureVerificationError(f"signature verification failed: {why}")


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise _fail(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise _fail(f"the {what} is not a JSON object")
    return value


def verify(envelope: bytes, *, digest: str, trusted: list[x509.Certificate], at: datetime) -> Verified:
    """Check a Notary JWS ``envelope`` as a verifier does, and say what it proves.

    Raises :class:`~ecrlab.errors.SignatureVerificationError` naming the first check that fails: the envelope's
    form, the certificate chain up to one of the ``trusted`` roots (each certificate valid at the signing
    time, the signing certificate for code signing), the signature over protected header and payload, and
    that the payload names ``digest``, the image the verifier is about to run. ``at`` is the verifier's
    time (the lab clock's), which the signing time must not be after."""
    jws = _json(envelope, "signature envelope")
    try:
        protected_b64, payload_b64, signature_b64 = jws["protected"], jws["payload"], jws["signature"]
        chain_der = [base64.b64decode(c, validate=True) for c in jws["header"]["x5c"]]
        protected = _json(_unb64url(protected_b64), "protected header")
        payload = _json(_unb64url(payload_b64), "payload")
        raw_signature = _unb64url(signature_b64)
    except (KeyError, TypeError, binascii.Error, ValueError) as exc:
        if isinstance(exc, SignatureVerificationError):
            raise
        raise _fail("the envelope is not a Notary Project JWS envelope") from None
    if protected.get("alg") != _ALG or protected.get("io.cncf.notary.signingScheme") != _SCHEME:
        raise _fail(f"unsupported algorithm or signing scheme ({protected.get('alg')}, expected {_ALG}/{_SCHEME})")
    if protected.get("cty") != PAYLOAD_TYPE:
        raise _fail(f"the payload content type is {protected.get('cty')!r}, not {PAYLOAD_TYPE}")
    known = {"io.cncf.notary.signingScheme"}
    unknown = [c for c in protected.get("crit", []) if c not in known]
    if unknown:
        raise _fail(f"unknown critical header(s) {unknown}")
    try:
        signed_at = datetime.strptime(protected["io.cncf.notary.signingTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
        chain = [x509.load_der_x509_certificate(der) for der in chain_der]
    except (KeyError, ValueError):
        raise _fail("the signing time or the certificate chain cannot be read") from None
    if not chain:
        raise _fail("the envelope carries no certificate")
    # Without a timestamp countersignature (notary.x509 signatures made without a TSA) the Notary Project
    # specification checks the chain at verification time, and the signing time must fall inside it too.
    _check_chain(chain, trusted, (signed_at, at))
    if signed_at > at:
        raise _fail(f"the signing time {_stamp(signed_at)} is in the future")
    public_key = chain[0].public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(raw_signature) != 2 * _COORDINATE:
        raise _fail("the signature is not an ES384 signature")
    der = encode_dss_signature(
        int.from_bytes(raw_signature[:_COORDINATE], "big"), int.from_bytes(raw_signature[_COORDINATE:], "big")
    )
    try:
        public_key.verify(der, f"{protected_b64}.{payload_b64}".encode("ascii"), ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise _fail("the signature does not match the signed content: the envelope was altered") from None
    target = payload.get("targetArtifact")
    if not isinstance(target, dict):
        raise _fail("the payload names no target artifact")
    if target.get("digest") != digest:
        raise _fail(f"the signature is for {target.get('digest')}, not for the image {digest}")
    extended = {
        k: str(v)
        for k, v in protected.items()
        if k not in ("alg", "crit", "cty", "io.cncf.notary.signingScheme", "io.cncf.notary.signingTime")
    }
    return Verified(
        digest=digest,
        media_type=str(target.get("mediaType", "")),
        size=int(target.get("size", 0)),
        signed_at=signed_at,
        signer=chain[0].subject.rfc4514_string(),
        extended=extended,
    )


def _check_chain(
    chain: list[x509.Certificate], trusted: list[x509.Certificate], moments: tuple[datetime, datetime]
) -> None:
    leaf = chain[0]
    try:
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and ExtendedKeyUsageOID.CODE_SIGNING not in usage:
        raise _fail("the signing certificate is not for code signing")
    for cert in chain:
        for moment, what in zip(moments, ("the signing time", "verification time"), strict=True):
            if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
                raise _fail(f"the certificate {cert.subject.rfc4514_string()} is not valid at {what}")
    for child, issuer in itertools.pairwise(chain):
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise _fail(
                f"{child.subject.rfc4514_string()} was not issued by {issuer.subject.rfc4514_string()}"
            ) from None
    top = chain[-1]
    anchors = {cert.public_bytes(serialization.Encoding.DER) for cert in trusted}
    if top.public_bytes(serialization.Encoding.DER) in anchors:
        return
    for anchor in trusted:
        try:
            top.verify_directly_issued_by(anchor)
            return
        except (ValueError, TypeError, InvalidSignature):
            continue
    raise _fail(f"the certificate chain does not lead to a trusted root (it ends at {top.subject.rfc4514_string()})")

"""Verifying an image's signatures over the wire, as an admission controller does before a pod may run.

A Kubernetes admission controller that enforces signatures (Ratify with Gatekeeper, Kyverno's
``verifyImages``, the AWS Signer plugin for Notation) does, for each image a pod names: resolve the reference to
a digest, list the signatures attached to that digest through the registry's referrers API, fetch each
signature's envelope, and admit the pod only if one verifies against the roots it was told to trust and names
that digest. :func:`verify_image` does exactly that, with any :class:`~ecrlab.images.RegistryClient` (the
lab's registry or any other), so what it accepts is what such a controller would accept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from ecrlab.errors import SignatureVerificationError
from ecrlab.images import RegistryClient
from ecrlab.oci import sha256_digest
from ecrlab.signing.notation import ENVELOPE_TYPE, SIGNATURE_ARTIFACT_TYPE, Verified, verify

__all__ = ["verify_image"]


def verify_image(
    client: RegistryClient, repository: str, reference: str, *, trusted: Sequence[x509.Certificate], at: datetime
) -> Verified:
    """The first signature of ``repository:reference`` (a tag or a digest) that verifies against ``trusted`` at
    ``at``; :class:`~ecrlab.errors.SignatureVerificationError` when none is attached or none verifies, saying
    why each failed."""
    manifest, _media_type = client.get_manifest(repository, reference)
    digest = sha256_digest(manifest)
    signatures = client.referrers(repository, digest, artifact_type=SIGNATURE_ARTIFACT_TYPE)
    if not signatures:
        raise SignatureVerificationError(
            f"signature verification failed: no signature is associated with {repository}@{digest}"
        )
    reasons: list[str] = []
    for descriptor in signatures:
        body, _ = client.get_manifest(repository, descriptor["digest"])
        layers = [layer for layer in json.loads(body).get("layers", []) if layer.get("mediaType") == ENVELOPE_TYPE]
        if not layers:
            reasons.append(f"{descriptor['digest']}: no JWS envelope in the signature manifest")
            continue
        envelope = client.get_blob(repository, layers[0]["digest"])
        try:
            return verify(envelope, digest=digest, trusted=list(trusted), at=at)
        except SignatureVerificationError as exc:
            reasons.append(f"{descriptor['digest']}: {exc}")
    raise SignatureVerificationError(
        f"signature verification failed: no signature of {repository}@{digest} verifies ({'; '.join(reasons)})"
    )

"""ECR managed signing, emulated: signing configurations, signing on push with a lab key, and verification.

- :mod:`~ecrlab.signing.configuration`: Put/Get/DeleteSigningConfiguration and which signing profiles a
  repository's pushes are signed with;
- :mod:`~ecrlab.signing.signer`: the subscriber that signs each push on the lab clock as the pushing principal
  (FAILED when it may not ``signer:SignPayload``), storing a Notation signature as the image's referrer, and
  DescribeImageSigningStatus;
- :mod:`~ecrlab.signing.notation`: the Notary Project JWS envelope and signature manifest, and their checks;
- :mod:`~ecrlab.signing.keys`: the registry's lab signing key and certificate chain (**a lab key**: nothing
  outside the lab trusts it, and it stands for AWS Signer's keys only inside the sandbox);
- :mod:`~ecrlab.signing.verifier`: an image's signatures verified over the wire, as an admission controller does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrlab.signing.keys import signing_key, trust_anchor
from ecrlab.signing.notation import SIGNATURE_ARTIFACT_TYPE, Signature, Verified, sign, verify
from ecrlab.signing.signer import SIGNING_DELAY, signing_statuses
from ecrlab.signing.verifier import verify_image

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.events import Subscription

__all__ = [
    "SIGNATURE_ARTIFACT_TYPE",
    "SIGNING_DELAY",
    "Signature",
    "Verified",
    "attach",
    "register_operations",
    "sign",
    "signing_key",
    "signing_statuses",
    "trust_anchor",
    "verify",
    "verify_image",
]


def register_operations() -> None:
    """Add the signing operations to the engine's table (idempotent)."""
    import ecrlab.signing.configuration
    import ecrlab.signing.signer  # noqa: F401  (importing registers them)


def attach(engine: Engine) -> list[Subscription]:
    """Sign ``engine``'s pushes as its registries' signing configurations say; returns the subscriptions."""
    from ecrlab.signing import signer

    register_operations()
    return signer.attach(engine)

"""The lab signing key: made once per registry and kept on the registry's record, the same run to run in
deterministic mode, different between registries and in a normal lab; signatures over it verify."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from ecrlab.clock import LabClock
from ecrlab.ecr.engine import Engine
from ecrlab.signing import sign, signing_key, trust_anchor, verify

ACCOUNT, REGION = "123456789012", "us-east-1"
DIGEST = "sha256:" + "ab" * 32


def _engine(seed: int | None) -> Engine:
    return Engine(LabClock(deterministic=seed is not None), seed=seed)


def _pem(engine: Engine, account: str = ACCOUNT) -> bytes:
    return signing_key(engine, account, REGION).root.public_bytes(serialization.Encoding.PEM)


def test_deterministic_labs_make_the_same_key_and_signature():
    one, two = _engine(7), _engine(7)
    assert _pem(one) == _pem(two)
    signed = [
        sign(signing_key(e, ACCOUNT, REGION), media_type="m", digest=DIGEST, size=1, signed_at=e.clock.now())
        for e in (one, two)
    ]
    assert signed[0].manifest == signed[1].manifest  # RFC 6979: the same bytes, so the same digest


def test_each_registry_and_each_normal_lab_has_its_own_key():
    engine = _engine(7)
    assert _pem(engine) != _pem(engine, "210987654321")
    assert _pem(_engine(None)) != _pem(_engine(None))


def test_the_key_is_kept_on_the_registry_record():
    engine = _engine(None)
    first = _pem(engine)
    registry = engine.registry(ACCOUNT, REGION)
    assert registry.signing_key_pem is not None and registry.signing_chain_pem is not None
    assert _pem(engine) == first  # read back, not made again


def test_a_signature_verifies_against_its_registry_root_only():
    engine = _engine(7)
    key = signing_key(engine, ACCOUNT, REGION)
    signature = sign(key, media_type="m", digest=DIGEST, size=1, signed_at=engine.clock.now())
    verified = verify(
        signature.envelope, digest=DIGEST, trusted=[trust_anchor(engine, ACCOUNT, REGION)], at=engine.clock.now()
    )
    assert verified.digest == DIGEST and "ecrlab lab signing key" in verified.signer

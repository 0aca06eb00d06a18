"""Signing on push: statuses on the lab clock, the signature stored as the image's referrer, signing as the
pushing principal (FAILED without signer:SignPayload), and what verification accepts and refuses."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

import ecrlab
from ecrlab.errors import SignatureVerificationError
from ecrlab.images import RegistryClient
from ecrlab.signing import SIGNATURE_ARTIFACT_TYPE, SIGNING_DELAY, trust_anchor, verify, verify_image
from ecrlab.signing.keys import CERTIFICATE_LIFETIME
from tests.signing.helpers import ACCOUNT, PUSH_ACTIONS, profile, push, registry_client_of, rule, statuses

PROD = profile("prod_signer")
AUDIT = profile("audit_signer")


@pytest.fixture(scope="module")
def lab():
    with ecrlab.start(deterministic=True) as running:
        ecr = running.client("ecr")
        for name in ("shop/web", "shop/api", "tools/lint"):
            ecr.create_repository(repositoryName=name)
        ecr.put_signing_configuration(
            signingConfiguration={"rules": [rule(PROD, "shop/*"), rule(AUDIT, "*web"), rule(PROD, "shop/web")]}
        )
        yield running


@pytest.fixture(scope="module")
def ecr(lab):
    return lab.client("ecr")


@pytest.fixture(scope="module")
def admin(lab):
    client = RegistryClient.for_lab(lab)
    yield client
    client.close()


def _trusted(lab) -> list:
    return [trust_anchor(lab.engine, lab.account_id, lab.region)]


def _settle(lab) -> None:
    lab.clock.advance(seconds=SIGNING_DELAY.total_seconds())


def test_a_push_is_in_progress_then_signed_once_per_profile(lab, ecr, admin):
    digest = push(admin, "shop/web", "web v1", "v1")
    assert statuses(ecr, "shop/web", digest) == [
        {"signingProfileArn": PROD, "status": "IN_PROGRESS"},
        {"signingProfileArn": AUDIT, "status": "IN_PROGRESS"},
    ]
    _settle(lab)
    by_tag = ecr.describe_image_signing_status(repositoryName="shop/web", imageId={"imageTag": "v1"})
    assert by_tag["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert by_tag["registryId"] == ACCOUNT and by_tag["repositoryName"] == "shop/web"
    assert by_tag["signingStatuses"] == [
        {"signingProfileArn": PROD, "status": "COMPLETE"},
        {"signingProfileArn": AUDIT, "status": "COMPLETE"},
    ]
    referrers = ecr.list_image_referrers(repositoryName="shop/web", subjectId={"imageDigest": digest})["referrers"]
    assert [r["artifactType"] for r in referrers] == [SIGNATURE_ARTIFACT_TYPE] * 2
    # The signatures are referrers, not images of their own: untagged, not signed again, not listed as tags.
    assert all(statuses(ecr, "shop/web", r["digest"]) == [] for r in referrers)
    assert admin.tags("shop/web") == ["v1"]
    verified = verify_image(admin, "shop/web", "v1", trusted=_trusted(lab), at=lab.clock.now())
    assert verified.digest == digest
    assert verified.extended["ecrlab.signingProfileArn"] in (PROD, AUDIT)


def test_the_signature_is_a_notation_jws_over_the_image_digest(lab, ecr, admin):
    digest = push(admin, "shop/api", "api v1", "v1")
    _settle(lab)
    (descriptor,) = admin.referrers("shop/api", digest, artifact_type=SIGNATURE_ARTIFACT_TYPE)
    manifest = json.loads(admin.get_manifest("shop/api", descriptor["digest"])[0])
    assert manifest["artifactType"] == SIGNATURE_ARTIFACT_TYPE
    assert manifest["subject"]["digest"] == digest
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == "application/jose+json"
    envelope = json.loads(admin.get_blob("shop/api", layer["digest"]))
    pad = lambda s: s + "=" * (-len(s) % 4)
    protected = json.loads(base64.urlsafe_b64decode(pad(envelope["protected"])))
    assert protected["alg"] == "ES384" and protected["io.cncf.notary.signingScheme"] == "notary.x509"
    assert protected["crit"] == ["io.cncf.notary.signingScheme"]
    assert protected["cty"] == "application/vnd.cncf.notary.payload.v1+json"
    payload = json.loads(base64.urlsafe_b64decode(pad(envelope["payload"])))
    assert payload["targetArtifact"]["digest"] == digest
    assert len(envelope["header"]["x5c"]) == 2  # signing certificate, then the lab root


def test_a_repository_no_rule_covers_is_not_signed(lab, ecr, admin):
    digest = push(admin, "tools/lint", "lint", "v1")
    _settle(lab)
    assert statuses(ecr, "tools/lint", digest) == []
    assert admin.referrers("tools/lint", digest) == []
    with pytest.raises(SignatureVerificationError, match="no signature is associated with tools/lint@sha256:"):
        verify_image(admin, "tools/lint", "v1", trusted=_trusted(lab), at=lab.clock.now())


def test_signing_runs_as_the_pusher_who_must_be_allowed_sign_payload(lab, ecr):
    unsigned = registry_client_of(lab, "pusher", [{"Effect": "Allow", "Action": PUSH_ACTIONS, "Resource": "*"}])
    signed = registry_client_of(
        lab,
        "signer",
        [
            {"Effect": "Allow", "Action": PUSH_ACTIONS, "Resource": "*"},
            {"Effect": "Allow", "Action": "signer:SignPayload", "Resource": PROD},
        ],
    )
    try:
        denied = push(unsigned, "shop/api", "api from pusher", "pusher")
        allowed = push(signed, "shop/api", "api from signer", "signer")
        _settle(lab)
        (status,) = statuses(ecr, "shop/api", denied)
        assert status["status"] == "FAILED" and status["failureCode"] == "AccessDeniedException"
        assert status["failureReason"] == (
            f"User: arn:aws:iam::{ACCOUNT}:user/pusher is not authorized to perform: signer:SignPayload on resource: "
            f"{PROD} because no identity-based policy allows the signer:SignPayload action"
        )
        assert unsigned.referrers("shop/api", denied) == []  # nothing stored for a refused signing
        assert statuses(ecr, "shop/api", allowed) == [{"signingProfileArn": PROD, "status": "COMPLETE"}]
        # The signature was stored as the pusher: CloudTrail-shaped events name the pushing user.
        pushed = [
            e
            for e in lab.engine.events.recent
            if type(e).__name__ == "ImagePushed" and e.source == "signing" and e.repository == "shop/api"
        ]
        assert pushed[-1].principal.arn == f"arn:aws:iam::{ACCOUNT}:user/signer"
    finally:
        unsigned.close()
        signed.close()


def test_tampering_a_tag_is_caught_by_verification(lab, ecr, admin):
    digest = push(admin, "shop/web", "web release", "release")
    _settle(lab)
    (good,) = [
        r for r in admin.referrers("shop/web", digest, artifact_type=SIGNATURE_ARTIFACT_TYPE)[:1]
    ]  # one of the two profiles' signatures
    envelope_digest = json.loads(admin.get_manifest("shop/web", good["digest"])[0])["layers"][0]["digest"]
    envelope = admin.get_blob("shop/web", envelope_digest)
    # Someone who may push but not sign moves the tag to another image.
    attacker = registry_client_of(lab, "mallory", [{"Effect": "Allow", "Action": PUSH_ACTIONS, "Resource": "*"}])
    try:
        evil = push(attacker, "shop/web", "web release with a backdoor", "release")
    finally:
        attacker.close()
    _settle(lab)
    assert {s["status"] for s in statuses(ecr, "shop/web", evil)} == {"FAILED"}
    with pytest.raises(SignatureVerificationError, match=f"no signature is associated with shop/web@{evil}"):
        verify_image(admin, "shop/web", "release", trusted=_trusted(lab), at=lab.clock.now())
    # The old signature is still good for the image it signed, and proves nothing about the new one.
    assert verify(envelope, digest=digest, trusted=_trusted(lab), at=lab.clock.now()).digest == digest
    with pytest.raises(SignatureVerificationError, match=f"the signature is for {digest}, not for the image {evil}"):
        verify(envelope, digest=evil, trusted=_trusted(lab), at=lab.clock.now())


def test_an_altered_envelope_or_an_untrusted_root_fails(lab, admin):
    digest = push(admin, "shop/web", "web v2", "v2")
    _settle(lab)
    good = admin.referrers("shop/web", digest, artifact_type=SIGNATURE_ARTIFACT_TYPE)[0]
    layer = json.loads(admin.get_manifest("shop/web", good["digest"])[0])["layers"][0]["digest"]
    envelope = json.loads(admin.get_blob("shop/web", layer))
    other = json.dumps({"targetArtifact": {"mediaType": "x", "digest": digest, "size": 1}}).encode()
    forged = dict(envelope, payload=base64.urlsafe_b64encode(other).rstrip(b"=").decode())
    with pytest.raises(SignatureVerificationError, match="the envelope was altered"):
        verify(json.dumps(forged).encode(), digest=digest, trusted=_trusted(lab), at=lab.clock.now())
    stranger = trust_anchor(lab.engine, "210987654321", lab.region)  # another registry's lab root
    with pytest.raises(SignatureVerificationError, match="does not lead to a trusted root"):
        verify(json.dumps(envelope).encode(), digest=digest, trusted=[stranger], at=lab.clock.now())
    later = lab.clock.now() + CERTIFICATE_LIFETIME + timedelta(days=1)
    with pytest.raises(SignatureVerificationError, match="is not valid at verification time"):
        verify(json.dumps(envelope).encode(), digest=digest, trusted=_trusted(lab), at=later)
    with pytest.raises(SignatureVerificationError, match="not a Notary Project JWS envelope"):
        verify(b'{"payload": 1}', digest=digest, trusted=_trusted(lab), at=lab.clock.now())


def test_deleting_the_configuration_keeps_signatures_and_stops_signing(lab, ecr, admin):
    kept = push(admin, "shop/api", "api v9", "v9")
    _settle(lab)
    config = ecr.get_signing_configuration()["signingConfiguration"]
    ecr.delete_signing_configuration()
    try:
        later = push(admin, "shop/api", "api v10", "v10")
        _settle(lab)
        assert statuses(ecr, "shop/api", later) == []
        assert statuses(ecr, "shop/api", kept) == [{"signingProfileArn": PROD, "status": "COMPLETE"}]
        assert verify_image(admin, "shop/api", "v9", trusted=_trusted(lab), at=lab.clock.now()).digest == kept
    finally:
        ecr.put_signing_configuration(signingConfiguration=config)


def test_describe_answers_ecr_errors_for_what_does_not_exist(ecr):
    with pytest.raises(ecr.exceptions.ImageNotFoundException, match="imageTag=nope"):
        ecr.describe_image_signing_status(repositoryName="shop/web", imageId={"imageTag": "nope"})
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_image_signing_status(repositoryName="no/such", imageId={"imageTag": "v1"})


def test_the_aws_cli_describes_the_signing_status(lab, admin):
    push(admin, "shop/api", "api for the cli", "cli")
    out = lab.aws("ecr describe-image-signing-status --repository-name shop/api --image-id imageTag=cli")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["signingStatuses"] == [{"signingProfileArn": PROD, "status": "IN_PROGRESS"}]
    _settle(lab)
    out = lab.aws("ecr describe-image-signing-status --repository-name shop/api --image-id imageTag=cli")
    assert json.loads(out.stdout)["signingStatuses"][0]["status"] == "COMPLETE"


def test_replication_carries_the_signature_and_does_not_sign_again(lab, ecr, admin):
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [{"region": "us-west-2", "registryId": ACCOUNT}]}]}
    )
    try:
        digest = push(admin, "shop/web", "web replicated", "replicated")
        _settle(lab)  # signed
        lab.clock.advance(minutes=1)  # the image and then its signatures replicated
        west = lab.client("ecr", region_name="us-west-2")
        referrers = west.list_image_referrers(repositoryName="shop/web", subjectId={"imageDigest": digest})
        assert [r["artifactType"] for r in referrers["referrers"]] == [SIGNATURE_ARTIFACT_TYPE] * 2
        assert statuses(west, "shop/web", digest) == []  # the replica keeps the source's signatures
    finally:
        ecr.put_replication_configuration(replicationConfiguration={"rules": []})


def test_an_image_restored_from_the_archive_is_not_signed_again(lab, ecr, admin):
    digest = push(admin, "shop/api", "api archived", "archived")
    _settle(lab)
    image_id = {"imageDigest": digest}
    ecr.update_image_storage_class(repositoryName="shop/api", imageId=image_id, targetStorageClass="ARCHIVE")
    ecr.update_image_storage_class(repositoryName="shop/api", imageId=image_id, targetStorageClass="STANDARD")
    lab.clock.advance(minutes=21)  # restored: published as a new push
    assert statuses(ecr, "shop/api", digest) == [{"signingProfileArn": PROD, "status": "COMPLETE"}]
    referrers = ecr.list_image_referrers(repositoryName="shop/api", subjectId=image_id)["referrers"]
    assert [r["artifactType"] for r in referrers] == [SIGNATURE_ARTIFACT_TYPE]

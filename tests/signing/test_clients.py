"""Real registry clients see managed signing's work: skopeo reads the signature manifest by digest (its
``subject`` the image), and oras-py lists the image's referrers and fetches the JWS envelope, which the lab's
verifier accepts."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import oras.client
import pytest

from ecrlab.images import RegistryClient
from ecrlab.signing import SIGNATURE_ARTIFACT_TYPE, SIGNING_DELAY, trust_anchor, verify
from tests.conftest import require_tool
from tests.signing.helpers import profile, push, rule

pytestmark = pytest.mark.realclient


@pytest.fixture
def signed(lab, ecr):
    """(image digest, signature manifest digest) of an image pushed to a repository managed signing covers."""
    ecr.create_repository(repositoryName="team/app")
    ecr.put_signing_configuration(signingConfiguration={"rules": [rule(profile("team_signer"), "team/*")]})
    client = RegistryClient.for_lab(lab)
    try:
        digest = push(client, "team/app", "app v1", "v1")
    finally:
        client.close()
    lab.clock.advance(seconds=SIGNING_DELAY.total_seconds())
    (referrer,) = ecr.list_image_referrers(repositoryName="team/app", subjectId={"imageDigest": digest})["referrers"]
    return digest, referrer["digest"]


def _password(ecr) -> str:
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(token).decode().split(":", 1)[1]


def test_skopeo_reads_the_signature_manifest(lab, ecr, signed, tmp_path):
    digest, signature = signed
    result = subprocess.run(
        [
            require_tool("skopeo"),
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            f"AWS:{_password(ecr)}",
            f"docker://{lab.registry}/team/app@{signature}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["artifactType"] == SIGNATURE_ARTIFACT_TYPE
    assert manifest["subject"]["digest"] == digest
    assert manifest["layers"][0]["mediaType"] == "application/jose+json"


def test_oras_lists_the_referrer_and_fetches_a_verifiable_envelope(lab, ecr, signed, tmp_path, monkeypatch):
    digest, signature = signed
    monkeypatch.setenv("HOME", str(tmp_path))  # oras-py writes a docker config; keep the learner's alone
    client = oras.client.OrasClient(hostname=lab.registry, insecure=True, auth_backend="basic")
    client.login(
        username="AWS", password=_password(ecr), hostname=lab.registry, config_path=str(tmp_path / "config.json")
    )
    listed = client.do_request(f"http://{lab.registry}/v2/team/app/referrers/{digest}", "GET")
    assert listed.status_code == 200
    assert [(m["digest"], m["artifactType"]) for m in listed.json()["manifests"]] == [
        (signature, SIGNATURE_ARTIFACT_TYPE)
    ]
    manifest = client.get_manifest(f"{lab.registry}/team/app@{signature}")
    envelope = client.get_blob(f"{lab.registry}/team/app", manifest["layers"][0]["digest"]).content
    trusted = [trust_anchor(lab.engine, lab.account_id, lab.region)]
    assert verify(envelope, digest=digest, trusted=trusted, at=lab.clock.now()).digest == digest

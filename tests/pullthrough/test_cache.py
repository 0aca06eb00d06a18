"""Pulls through the cache: the repository appears with the upstream's digest, later pulls come from the
cache, tags refresh after 24 hours of lab time, permissions and upstream failures answer as ECR does."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from botocore.exceptions import ClientError

from ecrlab.errors import RegistryClientError
from ecrlab.images import ImageBuilder, RegistryClient, base_image
from ecrlab.pullthrough import PullThroughCacheAction
from tests.conftest import require_tool

ALPINE = base_image("alpine:3.20.3")  # the upstream's library/alpine:latest


def _events(lab, repository: str) -> list[PullThroughCacheAction]:
    sent = lab.monitoring.eventbridge.sent
    return [
        d
        for (_t, _a, _r, kind, d) in sent
        if kind == "ECR Pull Through Cache Action" and d["repository-name"] == repository
    ]


def test_first_pull_creates_and_caches(lab, ecr, good_secret):
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl="registry-1.docker.io", credentialArn=good_secret
    )
    ecr.create_repository_creation_template(
        prefix="docker-hub",
        appliedFor=["PULL_THROUGH_CACHE"],
        imageTagMutability="IMMUTABLE",
        resourceTags=[{"Key": "cache", "Value": "yes"}],
    )
    client = RegistryClient.for_lab(lab)
    raw, _ = client.get_manifest("docker-hub/library/alpine", "latest")
    assert raw == ALPINE.manifest  # same bytes, so the same digest as upstream
    (repo,) = ecr.describe_repositories(repositoryNames=["docker-hub/library/alpine"])["repositories"]
    assert repo["imageTagMutability"] == "IMMUTABLE"  # the PULL_THROUGH_CACHE template applied
    (image,) = ecr.describe_images(repositoryName="docker-hub/library/alpine")["imageDetails"]
    assert image["imageDigest"] == ALPINE.digest and image["imageTags"] == ["latest"]
    for layer in ALPINE.layers:
        assert client.get_blob("docker-hub/library/alpine", layer.digest) == layer.data
    got = ecr.batch_get_image(repositoryName="docker-hub/library/alpine", imageIds=[{"imageTag": "latest"}])
    assert got["images"][0]["imageId"]["imageDigest"] == ALPINE.digest
    url = ecr.get_download_url_for_layer(
        repositoryName="docker-hub/library/alpine", layerDigest=ALPINE.layers[0].digest
    )
    assert url["layerDigest"] == ALPINE.layers[0].digest
    (event,) = _events(lab, "docker-hub/library/alpine")
    assert event["sync-status"] == "SUCCESS" and event["ecr-repository-prefix"] == "docker-hub"
    assert event["upstream-registry-url"] == "registry-1.docker.io" and event["image-digest"] == ALPINE.digest
    # A second pull is answered from the cache: no new fetch.
    client.get_manifest("docker-hub/library/alpine", "latest")
    assert len(_events(lab, "docker-hub/library/alpine")) == 1
    # An image the upstream does not have is unknown, and creates nothing.
    with pytest.raises(RegistryClientError) as exc:
        client.get_manifest("docker-hub/library/nothing", "latest")
    assert exc.value.status == 404
    assert "docker-hub/library/nothing" not in [
        r["repositoryName"] for r in ecr.describe_repositories()["repositories"]
    ]


def test_tags_refresh_after_24_hours(lab, ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")
    client = RegistryClient.for_lab(lab)
    first, _ = client.get_manifest("quay/library/nginx", "latest")
    newer = ImageBuilder(ALPINE).copy_bytes(b"worker_processes 2;\n", "/etc/nginx/nginx.conf").build()
    lab.pull_through.upstream.publish("quay.io", "library/nginx", "latest", newer)
    lab.clock.advance(hours=23)
    client = RegistryClient.for_lab(lab)  # a new login: tokens last 12 hours
    assert client.get_manifest("quay/library/nginx", "latest")[0] == first  # still within 24 hours
    lab.clock.advance(hours=2)
    client = RegistryClient.for_lab(lab)
    assert client.get_manifest("quay/library/nginx", "latest")[0] == newer.manifest
    digests = {d["imageDigest"] for d in ecr.describe_images(repositoryName="quay/library/nginx")["imageDetails"]}
    assert newer.digest in digests and len(digests) == 2


def test_upstream_failures(lab, ecr, wrong_secret):
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="gitlab", upstreamRegistryUrl="registry.gitlab.com", credentialArn=wrong_secret
    )
    client = RegistryClient.for_lab(lab)
    with pytest.raises(RegistryClientError) as exc:
        client.get_manifest("gitlab/library/alpine", "latest")
    assert (exc.value.status, exc.value.code) == (403, "DENIED")
    assert "gitlab/library/alpine" not in [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    (event,) = _events(lab, "gitlab/library/alpine")
    assert event["sync-status"] == "FAILED" and event["failure-code"] == "UpstreamAccessDenied"
    # The API's BatchGetImage answers ECR's exception for the same failure.
    with pytest.raises(ClientError) as api:
        ecr.batch_get_image(repositoryName="gitlab/library/alpine", imageIds=[{"imageTag": "latest"}])
    assert api.value.response["Error"]["Code"] == "UnableToGetUpstreamImageException"

    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="k8s", upstreamRegistryUrl="registry.k8s.io")
    client.get_manifest("k8s/library/alpine", "latest")  # cached while the upstream is up
    lab.pull_through.upstream.fail("registry.k8s.io", 429)
    try:
        with pytest.raises(RegistryClientError) as exc:
            client.get_manifest("k8s/library/nginx", "latest")
        assert (exc.value.status, exc.value.code) == (429, "TOOMANYREQUESTS")
        lab.pull_through.upstream.fail("registry.k8s.io", 503)
        with pytest.raises(RegistryClientError) as exc:
            client.get_manifest("k8s/library/nginx", "latest")
        assert (exc.value.status, exc.value.code) == (503, "UNAVAILABLE")
        lab.clock.advance(hours=25)
        client = RegistryClient.for_lab(lab)
        assert client.get_manifest("k8s/library/alpine", "latest")[0] == ALPINE.manifest  # served from the cache
    finally:
        lab.pull_through.upstream.fail("registry.k8s.io", None)


def test_first_pull_needs_create_and_import_permissions(lab, ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="public", upstreamRegistryUrl="public.ecr.aws")
    iam = lab.client("iam")
    iam.create_user(UserName="puller")
    pull_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": "*",
            }
        ],
    }
    iam.put_user_policy(UserName="puller", PolicyName="pull", PolicyDocument=json.dumps(pull_only))
    client = RegistryClient.for_lab(lab, lab.session(user="puller"))
    with pytest.raises(RegistryClientError) as exc:
        client.get_manifest("public/library/alpine", "latest")
    assert exc.value.code == "DENIED" and "ecr:CreateRepository" in exc.value.message
    pull_only["Statement"][0]["Action"] += ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"]
    iam.put_user_policy(UserName="puller", PolicyName="pull", PolicyDocument=json.dumps(pull_only))
    assert client.get_manifest("public/library/alpine", "latest")[0] == ALPINE.manifest


def test_ecr_upstream_with_a_custom_role(lab, ecr):
    other = lab.account("210987654321")
    other_ecr = other.client("ecr")
    other_ecr.create_repository(repositoryName="shared/base")
    RegistryClient.for_lab(lab, other.session(), account_id="210987654321").push(ALPINE, "shared/base", "v1")
    other_ecr.set_repository_policy(
        repositoryName="shared/base",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    }
                ],
            }
        ),
    )
    iam = lab.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pullthroughcache.ecr.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="ptc-upstream", AssumeRolePolicyDocument=json.dumps(trust))
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="ptc-upstream", PolicyName="read", PolicyDocument=json.dumps(allow))
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="team",
        upstreamRegistryUrl=f"210987654321.dkr.ecr.{lab.region}.amazonaws.com",
        customRoleArn="arn:aws:iam::123456789012:role/ptc-upstream",
        upstreamRepositoryPrefix="shared",
    )
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="team")["isValid"] is True
    raw, _ = RegistryClient.for_lab(lab).get_manifest("team/base", "v1")
    assert raw == ALPINE.manifest


def test_skopeo_pulls_through_the_cache(lab, ecr, good_secret, tmp_path):
    skopeo = require_tool("skopeo")
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="azure", upstreamRegistryUrl="labsamples.azurecr.io", credentialArn=good_secret
    )
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    creds = base64.b64decode(token).decode()
    done = subprocess.run(
        [
            skopeo,
            "--insecure-policy",
            "copy",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            creds,
            f"docker://{lab.registry}/azure/library/nginx:1.27",
            f"oci:{tmp_path / 'out'}:1.27",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (image,) = ecr.describe_images(repositoryName="azure/library/nginx")["imageDetails"]
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image["imageDigest"]


def test_root_rule_covers_every_name(lab, ecr):
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ROOT", upstreamRegistryUrl="public.ecr.aws")
    try:
        raw, _ = RegistryClient.for_lab(lab).get_manifest("library/alpine", "3.18.0")
        assert raw == base_image("alpine:3.18.0").manifest
        (event,) = _events(lab, "library/alpine")
        assert event["ecr-repository-prefix"] == "ROOT"
    finally:
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="ROOT")

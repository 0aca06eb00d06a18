"""The capstone's checks outside the notebook: one release walked through in one lab, with the answers the
notebook's learner test does not try (other right answers, other wrong ones), then the reset."""

from __future__ import annotations

import json

import pytest

import ecrlab
from ecrlab.exercises import lesson11 as ex
from ecrlab.images import RegistryClient, base_image, build_dockerfile

REPO = ex.REPOSITORY


@pytest.fixture(scope="module")
def lab():
    with ecrlab.start(deterministic=True) as lab:
        lab.client("ecr").create_repository(repositoryName=REPO)
        yield lab


def _push(lab, image, tag: str, *, cli_login: bool) -> None:
    if cli_login:
        password = lab.aws("ecr get-login-password").stdout.strip()
        client = RegistryClient(lab.registry, username="AWS", password=password)
    else:
        client = RegistryClient.for_lab(lab)
    with client:
        client.push(image, REPO, tag)


def _digest(lab, tag: str) -> str:
    found = lab.client("ecr").describe_images(repositoryName=REPO, imageIds=[{"imageTag": tag}])
    return found["imageDetails"][0]["imageDigest"]


def _policy(*rules: dict) -> str:
    return json.dumps({"rules": [dict(r, rulePriority=i, action={"type": "expire"}) for i, r in enumerate(rules, 1)]})


PROTECT_PROD = {
    "selection": {
        "tagStatus": "tagged",
        "tagPatternList": ["prod"],
        "countType": "imageCountMoreThan",
        "countNumber": 10000,
    }
}


def test_the_source_builds_the_same_image_every_time_and_its_arguments_change_it(lab):
    first = build_dockerfile(context=ex.service_source())
    assert build_dockerfile(context=ex.service_source()).digest == first.digest
    assert build_dockerfile(context=ex.service_source(pyyaml="5.4")).digest != first.digest
    assert ex.q1.evaluate(first).correct
    assert ex.q1.evaluate(base_image("alpine:3.18.0")).kind == "incorrect"
    assert ex.q1.evaluate("sha256:" + "0" * 64).kind == "incorrect"


def test_a_release_walked_through_every_check(lab):
    ecr = lab.client("ecr")
    assert ex.q2.evaluate().kind == "not-attempted"  # no scanning rule at all yet
    rule = {"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": "shop", "filterType": "WILDCARD"}]}
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[rule])
    assert ex.q2.evaluate().correct  # continuous scanning scans on push too; `shop` matches names containing it

    assert ex.q3.evaluate().kind == "not-attempted"
    _push(lab, build_dockerfile(context=ex.service_source()), "1.0.0", cli_login=True)
    assert ex.q3.evaluate().correct
    # A later push of the same image with boto3's token is the last login now: the check reads the trail.
    _push(lab, build_dockerfile(context=ex.service_source()), "1.0.0", cli_login=False)
    assert ex.q3.evaluate().kind == "incorrect"

    assert ex.q4.evaluate({"CVE-2020-14343"}).kind == "not-attempted"  # the scan is still running
    lab.clock.advance(minutes=1)
    assert ex.q4.evaluate(["CVE-2020-14343"]).correct  # any collection of the ids
    assert ex.q4.evaluate("CVE-2020-14343").kind == "incorrect"

    destinations = [
        {"region": "us-west-2", "registryId": lab.account_id},
        {"region": "us-east-1", "registryId": ex.PARTNER},
    ]
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [
                {"destinations": destinations, "repositoryFilters": [{"filter": "dev/", "filterType": "PREFIX_MATCH"}]}
            ]
        }
    )
    assert ex.q5.evaluate().kind == "incorrect"  # the filter does not cover shop/checkout
    ecr.put_replication_configuration(replicationConfiguration={"rules": [{"destinations": destinations}]})
    partner = lab.account(ex.PARTNER).client("ecr")
    statement = {"Effect": "Allow", "Principal": {"AWS": lab.account_id}, "Action": "ecr:*", "Resource": "*"}
    partner.put_registry_policy(policyText=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert ex.q5.evaluate().correct  # the account id as principal, and ecr:*, are as good

    assert ex.q6.evaluate().kind == "not-attempted"
    _push(lab, build_dockerfile(context=ex.service_source("1.0.1", "alpine:3.20.3", "6.0.1")), "1.0.1", cli_login=False)
    assert ex.q6.evaluate().kind == "not-attempted"  # scanning
    lab.clock.advance(seconds=10)
    verdict = ex.q6.evaluate()
    assert verdict.kind == "incorrect" and "IN_PROGRESS" in verdict.text  # the copies take 30 s
    lab.clock.advance(minutes=1)
    assert ex.q6.evaluate().correct  # any newer clean base and any fixed PyYAML will do

    # Once the repository exists in the partner's registry, ecr:ReplicateImage alone is enough (as in ECR).
    only_replicate = dict(statement, Action="ecr:ReplicateImage")
    partner.put_registry_policy(policyText=json.dumps({"Version": "2012-10-17", "Statement": [only_replicate]}))
    assert ex.q5.evaluate().correct

    cluster = ex.setup_cluster(lab)
    assert ex.q7.evaluate("prod").kind == "not-attempted"
    assert ex.q7.evaluate(cluster).kind == "not-attempted"  # nothing deployed yet
    cluster.apply(ex.deployment(f"{lab.registry_host}/{REPO}@{_digest(lab, '1.0.1')}"))
    assert ex.q7.evaluate(cluster).correct

    assert ex.q8.evaluate(cluster).kind == "not-attempted"  # nothing is tagged prod yet
    assert "ci pushed" in ex.ship_broken_release(lab, cluster)
    assert _digest(lab, "prod") == _digest(lab, "1.1.0")
    assert ex.q8.evaluate(cluster).kind == "incorrect"
    good = ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "1.0.1"}])["images"][0]
    cluster.apply(ex.deployment(f"{lab.registry_host}/{REPO}@{_digest(lab, '1.0.1')}"))
    verdict = ex.q8.evaluate(cluster)
    assert verdict.kind == "incorrect" and "`prod` does not name 1.0.1" in verdict.text
    ecr.put_image(repositoryName=REPO, imageManifest=good["imageManifest"], imageTag="prod")
    assert ex.q8.evaluate(cluster).correct

    keep_two = {"selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2}}
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=_policy(PROTECT_PROD, keep_two))
    assert ex.q9.evaluate().correct
    # Keeping one image expires the newest release: prod survives, the rule is not what was asked.
    keep_one = {"selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}}
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=_policy(PROTECT_PROD, keep_one))
    verdict = ex.q9.evaluate()
    assert verdict.kind == "incorrect" and "one of the 2 newest" in verdict.text

    pages = (
        lab.client("cloudtrail")
        .get_paginator("lookup_events")
        .paginate(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": REPO}])
    )
    events = [e for page in pages for e in page["Events"]]  # newest first, 50 a page
    pushes = [
        (e["Username"], json.loads(e["CloudTrailEvent"])["requestParameters"].get("imageTag"), e["EventTime"])
        for e in reversed(events)
        if e["EventName"] == "PutImage" and "errorCode" not in json.loads(e["CloudTrailEvent"])
    ]
    assert [(user, tag) for user, tag, _ in pushes] == [
        ("root", "1.0.0"),
        ("root", "1.0.1"),
        ("ci", "1.1.0"),
        ("ci", "prod"),
        ("root", "prod"),
    ]
    assert ex.q10.evaluate(pushes).correct
    as_text = [(user, tag, when.strftime("%Y-%m-%dT%H:%M:%SZ")) for user, tag, when in pushes]
    assert ex.q10.evaluate(as_text).correct  # times as CloudTrail writes them are fine too
    wrong_user = [("root", tag, when) for _, tag, when in pushes]
    assert ex.q10.evaluate(wrong_user).kind == "incorrect"
    assert ex.q10.evaluate(pushes[::-1]).kind == "incorrect"


def test_reset_removes_the_cluster_the_settings_and_the_replicas(lab):
    summary = ex.reset(lab)
    assert summary.startswith("1 cluster(s) deleted; lab reset:")
    ecr = lab.client("ecr")
    assert ecr.describe_repositories()["repositories"] == []
    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}
    assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}
    assert lab.client("ecr", region_name="us-west-2").describe_repositories()["repositories"] == []
    assert lab.account(ex.PARTNER).client("ecr").describe_repositories()["repositories"] == []
    assert lab.client("eks").list_clusters()["clusters"] == []
    assert ex.q3.evaluate().kind == "not-attempted"

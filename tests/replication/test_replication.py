"""Replication through boto3: configuration checks, copies on the lab clock, across regions and accounts."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError

from ecrlab.replication.copier import REPLICATION_DELAY, ReplicationAction
from tests.replication.helpers import allow_replication_from, client_for, image, statuses

OTHER = "210987654321"


def _rules(*destinations: tuple[str, str], filters: list[str] | None = None) -> dict:
    rule: dict = {"destinations": [{"registryId": a, "region": r} for a, r in destinations]}
    if filters:
        rule["repositoryFilters"] = [{"filter": f, "filterType": "PREFIX_MATCH"} for f in filters]
    return {"rules": [rule]}


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


# -- configuration ------------------------------------------------------------------------------------
def test_configuration_is_read_back_by_describe_registry(lab, ecr):
    config = _rules((lab.account_id, "us-west-2"), (OTHER, "eu-west-1"), filters=["prod"])
    answer = ecr.put_replication_configuration(replicationConfiguration=config)
    assert answer["replicationConfiguration"] == config
    assert ecr.describe_registry()["replicationConfiguration"] == config
    ecr.put_replication_configuration(replicationConfiguration={"rules": []})
    assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"rules": [{"destinations": [{"registryId": "123456789012", "region": "us-east-1"}]}]}, "source registry"),
        ({"rules": [{"destinations": [{"registryId": "123456789012", "region": "mars-north-1"}]}]}, "region"),
        ({"rules": [{"destinations": [{"registryId": "123456789012", "region": "cn-north-1"}]}]}, "region"),
        ({"rules": [{"destinations": [{"registryId": "12345", "region": "us-west-2"}]}]}, "registryId"),
        (
            {"rules": [{"destinations": [{"registryId": "123456789012", "region": "us-west-2"}]}] * 11},
            "length less than or equal to 10",
        ),
        (
            {
                "rules": [
                    {
                        "destinations": [{"registryId": "123456789012", "region": "us-west-2"}],
                        "repositoryFilters": [{"filter": "Prod", "filterType": "PREFIX_MATCH"}],
                    }
                ]
            },
            "regular expression",
        ),
        (
            {
                "rules": [
                    {
                        "destinations": [{"registryId": "123456789012", "region": "us-west-2"}],
                        "repositoryFilters": [{"filter": "prod", "filterType": "WILDCARD"}],
                    }
                ]
            },
            "PREFIX_MATCH",
        ),
        (
            {
                "rules": [
                    {
                        "destinations": [{"registryId": "123456789012", "region": "us-west-2"}],
                        "repositoryFilters": [
                            {"filter": f"p{i:03d}", "filterType": "PREFIX_MATCH"} for i in range(101)
                        ],
                    }
                ]
            },
            "length less than or equal to 100",
        ),
        (
            {"rules": [{"destinations": [{"registryId": "123456789012", "region": "us-west-2"}] * 2}]},
            "Duplicate destination",
        ),
    ],
)
def test_invalid_configurations_are_refused_as_ecr_does(lab, ecr, config, fragment):
    with pytest.raises(ClientError) as exc:
        ecr.put_replication_configuration(replicationConfiguration=config)
    assert _code(exc) == "InvalidParameterException"
    assert fragment in exc.value.response["Error"]["Message"]
    assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}


def test_aws_cli_puts_the_configuration_and_create_replication_configuration_does_not_exist(lab, ecr):
    config = '{"rules":[{"destinations":[{"region":"us-west-2","registryId":"123456789012"}]}]}'
    result = lab.aws(f"ecr put-replication-configuration --replication-configuration '{config}'")
    assert result.ok, result.stderr
    assert ecr.describe_registry()["replicationConfiguration"]["rules"][0]["destinations"][0]["region"] == "us-west-2"
    wrong = lab.aws(f"ecr create-replication-configuration --replication-configuration '{config}'")
    assert not wrong.ok and "Invalid choice" in wrong.stderr


# -- copying ------------------------------------------------------------------------------------------
def test_cross_region_copy_is_in_progress_then_complete_and_pullable_byte_identical(lab, ecr):
    west = lab.client("ecr", region_name="us-west-2")
    ecr.put_replication_configuration(replicationConfiguration=_rules((lab.account_id, "us-west-2")))
    ecr.create_repository(repositoryName="web")
    app = image("v1")
    with client_for(lab, ecr) as source:
        pushed = source.push(app, "web", "v1")
    assert statuses(ecr, "web", pushed.digest) == [
        {"region": "us-west-2", "registryId": lab.account_id, "status": "IN_PROGRESS"}
    ]
    with pytest.raises(ClientError) as exc:
        west.describe_images(repositoryName="web")
    assert _code(exc) == "RepositoryNotFoundException"

    lab.clock.advance(seconds=REPLICATION_DELAY.total_seconds())
    assert statuses(ecr, "web", pushed.digest)[0]["status"] == "COMPLETE"
    replica = west.describe_images(repositoryName="web")["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in replica] == [(pushed.digest, ["v1"])]
    got = west.batch_get_image(repositoryName="web", imageIds=[{"imageTag": "v1"}])["images"][0]
    assert got["imageManifest"].encode() == app.manifest
    with client_for(lab, west, region="us-west-2") as destination:
        pulled = destination.pull("web", "v1")
    assert pulled.digest == app.digest
    assert [b.digest for b in pulled.blobs()] == [b.digest for b in app.blobs()]
    for blob in pulled.blobs():
        assert "sha256:" + hashlib.sha256(blob.data).hexdigest() == blob.digest
    # The created repository has the default settings, not the source's.
    repo = west.describe_repositories(repositoryNames=["web"])["repositories"][0]
    assert repo["imageTagMutability"] == "MUTABLE" and repo["encryptionConfiguration"] == {"encryptionType": "AES256"}


def test_only_pushes_after_the_configuration_and_matching_filters_replicate(lab, ecr):
    west = lab.client("ecr", region_name="us-west-2")
    ecr.create_repository(repositoryName="prod/api")
    ecr.create_repository(repositoryName="dev/api")
    with client_for(lab, ecr) as source:
        before = source.push(image("before"), "prod/api", "old")
        ecr.put_replication_configuration(
            replicationConfiguration=_rules((lab.account_id, "us-west-2"), filters=["prod"])
        )
        after = source.push(image("after"), "prod/api", "new")
        dev = source.push(image("dev"), "dev/api", "x")
    lab.clock.advance(minutes=5)
    assert statuses(ecr, "prod/api", before.digest) == []
    assert statuses(ecr, "dev/api", dev.digest) == []
    assert [d["imageDigest"] for d in west.describe_images(repositoryName="prod/api")["imageDetails"]] == [after.digest]
    assert [r["repositoryName"] for r in west.describe_repositories()["repositories"]] == ["prod/api"]


def test_deletes_and_policies_are_not_replicated_and_no_chaining(lab, ecr):
    west = lab.client("ecr", region_name="us-west-2")
    ecr.put_replication_configuration(replicationConfiguration=_rules((lab.account_id, "us-west-2")))
    # us-west-2 replicates onward to eu-west-1: a replica arriving there must not travel again.
    west.put_replication_configuration(replicationConfiguration=_rules((lab.account_id, "eu-west-1")))
    ecr.create_repository(repositoryName="web")
    ecr.set_repository_policy(
        repositoryName="web",
        policyText='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}',
    )
    with client_for(lab, ecr) as source:
        pushed = source.push(image("one"), "web", "v1")
    lab.clock.advance(minutes=5)
    ecr.batch_delete_image(repositoryName="web", imageIds=[{"imageDigest": pushed.digest}])
    lab.clock.advance(minutes=5)
    assert [d["imageDigest"] for d in west.describe_images(repositoryName="web")["imageDetails"]] == [pushed.digest]
    with pytest.raises(ClientError) as exc:
        west.get_repository_policy(repositoryName="web")
    assert _code(exc) == "RepositoryPolicyNotFoundException"
    eu = lab.client("ecr", region_name="eu-west-1")
    assert eu.describe_repositories()["repositories"] == []


def test_immutable_tag_elsewhere_in_the_destination_replicates_the_image_without_it(lab, ecr):
    west = lab.client("ecr", region_name="us-west-2")
    west.create_repository(repositoryName="web", imageTagMutability="IMMUTABLE")
    with client_for(lab, west, region="us-west-2") as destination:
        theirs = destination.push(image("theirs"), "web", "v1")
    ecr.put_replication_configuration(replicationConfiguration=_rules((lab.account_id, "us-west-2")))
    ecr.create_repository(repositoryName="web")
    with client_for(lab, ecr) as source:
        ours = source.push(image("ours"), "web", "v1")
    lab.clock.advance(minutes=1)
    assert statuses(ecr, "web", ours.digest)[0]["status"] == "COMPLETE"
    details = {
        d["imageDigest"]: d.get("imageTags", []) for d in west.describe_images(repositoryName="web")["imageDetails"]
    }
    assert details == {theirs.digest: ["v1"], ours.digest: []}


def test_a_tag_put_on_an_existing_image_replicates_the_tag(lab, ecr):
    west = lab.client("ecr", region_name="us-west-2")
    ecr.put_replication_configuration(replicationConfiguration=_rules((lab.account_id, "us-west-2")))
    ecr.create_repository(repositoryName="web")
    with client_for(lab, ecr) as source:
        pushed = source.push(image("one"), "web", "v1")
    lab.clock.advance(minutes=1)
    manifest = ecr.batch_get_image(repositoryName="web", imageIds=[{"imageTag": "v1"}])["images"][0]["imageManifest"]
    ecr.put_image(repositoryName="web", imageManifest=manifest, imageTag="prod")
    assert statuses(ecr, "web", pushed.digest)[0]["status"] == "IN_PROGRESS"
    lab.clock.advance(minutes=1)
    tags = west.describe_images(repositoryName="web")["imageDetails"][0]["imageTags"]
    assert sorted(tags) == ["prod", "v1"]


# -- across accounts ----------------------------------------------------------------------------------
def test_cross_account_fails_without_the_destination_registry_policy_then_succeeds_with_it(lab, ecr):
    other = lab.account(OTHER)
    theirs = other.client("ecr")
    seen: list[ReplicationAction] = []
    lab.engine.events.subscribe(seen.append, ReplicationAction)
    ecr.put_replication_configuration(replicationConfiguration=_rules((OTHER, lab.region)))
    ecr.create_repository(repositoryName="web")
    with client_for(lab, ecr) as source:
        refused = source.push(image("refused"), "web", "v1")
        lab.clock.advance(minutes=1)
        assert statuses(ecr, "web", refused.digest) == [
            {"region": lab.region, "registryId": OTHER, "status": "FAILED", "failureCode": "ACCESS_DENIED"}
        ]
        assert theirs.describe_repositories()["repositories"] == []
        assert seen[-1].result == "FAILED" and "ecr:ReplicateImage" in (seen[-1].failure_reason or "")

        # ReplicateImage alone does not let replication create the repository...
        allow_replication_from(theirs, lab.account_id, create=False)
        second = source.push(image("second"), "web", "v2")
        lab.clock.advance(minutes=1)
        assert statuses(ecr, "web", second.digest)[0]["status"] == "FAILED"
        assert "ecr:CreateRepository" in (seen[-1].failure_reason or "")
        # ...but into a repository that exists it copies.
        theirs.create_repository(repositoryName="web")
        third = source.push(image("third"), "web", "v3")
        lab.clock.advance(minutes=1)
        assert statuses(ecr, "web", third.digest)[0]["status"] == "COMPLETE"
    assert [d["imageDigest"] for d in theirs.describe_images(repositoryName="web")["imageDetails"]] == [third.digest]
    with client_for(lab, theirs, account_id=OTHER) as destination:
        assert destination.pull("web", "v3").digest == third.digest
    assert seen[-1].result == "SUCCESS" and (seen[-1].account, seen[-1].source_account) == (OTHER, lab.account_id)


def test_cross_account_with_create_permission_creates_the_repository(lab, ecr):
    theirs = lab.account(OTHER).client("ecr", region_name="eu-west-1")
    allow_replication_from(theirs, lab.account_id)
    ecr.put_replication_configuration(replicationConfiguration=_rules((OTHER, "eu-west-1")))
    ecr.create_repository(repositoryName="team/web")
    with client_for(lab, ecr) as source:
        pushed = source.push(image("x"), "team/web", "1.0.0")
    lab.clock.advance(minutes=1)
    assert statuses(ecr, "team/web", pushed.digest)[0]["status"] == "COMPLETE"
    assert theirs.describe_images(repositoryName="team/web")["imageDetails"][0]["imageDigest"] == pushed.digest


def test_status_of_a_missing_image_is_image_not_found(lab, ecr):
    ecr.create_repository(repositoryName="web")
    with pytest.raises(ClientError) as exc:
        ecr.describe_image_replication_status(repositoryName="web", imageId={"imageTag": "nope"})
    assert _code(exc) == "ImageNotFoundException"

"""Repository operations, checked through the real boto3 API against ECR's documented behaviour."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from ecrlab.clock import DETERMINISTIC_START


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def test_create_describe_and_uri(ecr, lab):
    repo = ecr.create_repository(repositoryName="team/app")["repository"]
    assert repo["repositoryUri"] == f"{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com/team/app"
    assert repo["repositoryArn"] == f"arn:aws:ecr:{lab.region}:{lab.account_id}:repository/team/app"
    assert repo["imageTagMutability"] == "MUTABLE"
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert repo["createdAt"] == DETERMINISTIC_START
    (described,) = ecr.describe_repositories(repositoryNames=["team/app"])["repositories"]
    assert described == repo


@pytest.mark.parametrize("name", ["MyRepository", "-app", "app-", "app//x", "app/", "x" * 257])
def test_bad_names_are_refused_like_ecr(ecr, name):
    with pytest.raises(ClientError) as exc:
        ecr.create_repository(repositoryName=name)
    assert code(exc) == "InvalidParameterException"
    assert "repositoryName" in exc.value.response["Error"]["Message"]
    assert ecr.describe_repositories()["repositories"] == []


@pytest.mark.parametrize("name", ["ab", "my-app", "team/app_1", "a.b/c__d", "a--b"])
def test_good_names_are_accepted(ecr, name):
    assert ecr.create_repository(repositoryName=name)["repository"]["repositoryName"] == name


def test_duplicate_is_refused(ecr):
    ecr.create_repository(repositoryName="app")
    with pytest.raises(ClientError) as exc:
        ecr.create_repository(repositoryName="app")
    assert code(exc) == "RepositoryAlreadyExistsException"
    assert "app" in exc.value.response["Error"]["Message"]


def test_pagination_walks_every_repository_once(ecr):
    names = [f"repo-{i:03d}" for i in range(25)]
    for name in reversed(names):
        ecr.create_repository(repositoryName=name)
    first = ecr.describe_repositories(maxResults=10)
    assert len(first["repositories"]) == 10 and "nextToken" in first
    seen = [
        r["repositoryName"]
        for page in ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 7})
        for r in page["repositories"]
    ]
    assert sorted(seen) == names and len(set(seen)) == 25


def test_bad_next_token(ecr):
    with pytest.raises(ClientError) as exc:
        ecr.describe_repositories(nextToken="not-a-token")
    assert code(exc) == "InvalidParameterException"


def test_describe_missing_names_the_repository(ecr, lab):
    with pytest.raises(ClientError) as exc:
        ecr.describe_repositories(repositoryNames=["nope"])
    assert code(exc) == "RepositoryNotFoundException"
    assert exc.value.response["Error"]["Message"] == (
        f"The repository with name 'nope' does not exist in the registry with id '{lab.account_id}'"
    )


def test_tag_mutability_with_exclusions(ecr):
    repo = ecr.create_repository(
        repositoryName="app",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )["repository"]
    assert repo["imageTagMutabilityExclusionFilters"] == [{"filterType": "WILDCARD", "filter": "latest"}]
    with pytest.raises(ClientError) as exc:
        ecr.put_image_tag_mutability(repositoryName="app", imageTagMutability="MUTABLE_WITH_EXCLUSION")
    assert code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ecr.create_repository(
            repositoryName="other",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "bad filter!"}],
            imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        )
    assert code(exc) == "InvalidParameterException"
    out = ecr.put_image_tag_mutability(repositoryName="app", imageTagMutability="IMMUTABLE")
    assert out["imageTagMutability"] == "IMMUTABLE" and "imageTagMutabilityExclusionFilters" not in out


def test_tags_and_limits(ecr):
    arn = ecr.create_repository(repositoryName="app", tags=[{"Key": "team", "Value": "web"}])["repository"][
        "repositoryArn"
    ]
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    assert len(ecr.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
    with pytest.raises(ClientError) as exc:
        ecr.tag_resource(resourceArn=arn, tags=[{"Key": "one-too-many", "Value": "v"}])
    assert code(exc) == "TooManyTagsException"
    with pytest.raises(ClientError) as exc:
        ecr.tag_resource(resourceArn=arn, tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert code(exc) == "InvalidTagParameterException"
    ecr.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert "team" not in {t["Key"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}


def test_encryption_settings(ecr, lab):
    kms = ecr.create_repository(repositoryName="secret", encryptionConfiguration={"encryptionType": "KMS"})[
        "repository"
    ]
    assert kms["encryptionConfiguration"]["encryptionType"] == "KMS"
    assert kms["encryptionConfiguration"]["kmsKey"].startswith(f"arn:aws:kms:{lab.region}:{lab.account_id}:")
    with pytest.raises(ClientError) as exc:
        ecr.create_repository(repositoryName="x1", encryptionConfiguration={"encryptionType": "AES256", "kmsKey": "k"})
    assert code(exc) == "InvalidParameterException"


def test_scanning_configuration(ecr):
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
    out = ecr.put_image_scanning_configuration(repositoryName="app", imageScanningConfiguration={"scanOnPush": False})
    assert out["imageScanningConfiguration"] == {"scanOnPush": False}
    assert ecr.describe_repositories()["repositories"][0]["imageScanningConfiguration"] == {"scanOnPush": False}


def test_repository_policy_roundtrip_and_validation(ecr, lab):
    ecr.create_repository(repositoryName="app")
    with pytest.raises(ClientError) as exc:
        ecr.get_repository_policy(repositoryName="app")
    assert code(exc) == "RepositoryPolicyNotFoundException"
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "pull",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{lab.account_id}:root"},
                    "Action": ["ecr:BatchGetImage"],
                }
            ],
        }
    )
    stored = ecr.set_repository_policy(repositoryName="app", policyText=policy)["policyText"]
    assert json.loads(stored) == json.loads(policy)  # re-formatted as ECR stores it (tests/access/test_policy_text.py)
    assert ecr.get_repository_policy(repositoryName="app")["policyText"] == stored
    for bad in [
        "{not json",
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "ecr:*"}]}),
        json.dumps({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "ecr:*"}]}),
    ]:
        with pytest.raises(ClientError) as exc:
            ecr.set_repository_policy(repositoryName="app", policyText=bad)
        assert code(exc) == "InvalidParameterException"
    assert ecr.get_repository_policy(repositoryName="app")["policyText"] == stored  # bad input lost nothing
    ecr.delete_repository_policy(repositoryName="app")
    with pytest.raises(ClientError):
        ecr.get_repository_policy(repositoryName="app")


def test_repository_policy_principals_must_exist(ecr, lab):
    """AWS resolves the users and roles a resource policy names when it is saved."""
    ecr.create_repository(repositoryName="app")
    lab.client("iam").create_user(UserName="reader")

    def allowing(*principals: str) -> str:
        statement = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "ecr:BatchGetImage"}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    ours = f"arn:aws:iam::{lab.account_id}"
    kept = allowing(f"{ours}:user/reader", "210987654321", "arn:aws:iam::210987654321:root")
    ecr.set_repository_policy(repositoryName="app", policyText=kept)
    for ghost in [f"{ours}:user/ghost", f"{ours}:role/nobody"]:
        with pytest.raises(ClientError) as exc:
            ecr.set_repository_policy(repositoryName="app", policyText=allowing(f"{ours}:user/reader", ghost))
        assert code(exc) == "InvalidParameterException"
        assert "'Invalid repository policy provided'" in str(exc.value) and ghost in str(exc.value)
    assert json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"]) == json.loads(kept)


def test_delete_repository(ecr):
    ecr.create_repository(repositoryName="app")
    assert ecr.delete_repository(repositoryName="app")["repository"]["repositoryName"] == "app"
    with pytest.raises(ClientError) as exc:
        ecr.delete_repository(repositoryName="app")
    assert code(exc) == "RepositoryNotFoundException"


def test_describe_registry(ecr, lab):
    out = ecr.describe_registry()
    assert out["registryId"] == lab.account_id
    assert out["replicationConfiguration"] == {"rules": []}


def test_regions_are_separate(lab):
    lab.client("ecr").create_repository(repositoryName="app")
    assert lab.client("ecr", region_name="eu-west-1").describe_repositories()["repositories"] == []

"""Pull-time update exclusions: the operations (boto3 and the AWS CLI), and what they change for pull times
and ``sinceImagePulled`` lifecycle rules."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

import ecrlab
from ecrlab.images import RegistryClient
from tests.images.random_images import random_image


@pytest.fixture(scope="module")
def lab():
    with ecrlab.start(deterministic=True) as running:
        yield running


@pytest.fixture(scope="module")
def ecr(lab):
    return lab.client("ecr")


@pytest.fixture(scope="module")
def users(lab):
    """Two IAM users allowed to pull: ``scanner`` (to be excluded) and ``deployer``."""
    iam = lab.client("iam")
    for name in ("scanner", "deployer"):
        iam.create_user(UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    return {name: lab.session(user=name).client("ecr") for name in ("scanner", "deployer")}


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def user_arn(lab, name: str) -> str:
    return f"arn:aws:iam::{lab.account_id}:user/{name}"


def test_register_list_deregister(lab, ecr):
    arn = f"arn:aws:iam::{lab.account_id}:role/ci/scanner-role"
    registered = ecr.register_pull_time_update_exclusion(principalArn=arn)
    assert registered["principalArn"] == arn and registered["createdAt"]
    with pytest.raises(ClientError) as twice:
        ecr.register_pull_time_update_exclusion(principalArn=arn)
    assert code(twice) == "ExclusionAlreadyExistsException"
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [arn]
    assert ecr.deregister_pull_time_update_exclusion(principalArn=arn)["principalArn"] == arn
    with pytest.raises(ClientError) as gone:
        ecr.deregister_pull_time_update_exclusion(principalArn=arn)
    assert code(gone) == "ExclusionNotFoundException"
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:root",  # not a user or role
        "arn:aws:sts::123456789012:assumed-role/ci/session",  # a session, not the role
        "arn:aws:iam::123456789012:group/devs",
        "arn:aws:iam::12345:user/short-account",
    ],
)
def test_only_user_and_role_arns_are_accepted(ecr, arn):
    with pytest.raises(ClientError) as refused:
        ecr.register_pull_time_update_exclusion(principalArn=arn)
    assert code(refused) == "InvalidParameterException"


def test_at_most_one_hundred_and_pages(lab, ecr):
    arns = [f"arn:aws:iam::{lab.account_id}:role/r{n:03}" for n in range(100)]
    for arn in arns:
        ecr.register_pull_time_update_exclusion(principalArn=arn)
    with pytest.raises(ClientError) as full:
        ecr.register_pull_time_update_exclusion(principalArn=f"arn:aws:iam::{lab.account_id}:role/one-too-many")
    assert code(full) == "LimitExceededException"
    first = ecr.list_pull_time_update_exclusions(maxResults=60)
    second = ecr.list_pull_time_update_exclusions(maxResults=60, nextToken=first["nextToken"])
    assert first["pullTimeUpdateExclusions"] + second["pullTimeUpdateExclusions"] == arns
    assert "nextToken" not in second
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == arns  # 100 by default
    for arn in arns:
        ecr.deregister_pull_time_update_exclusion(principalArn=arn)


def test_aws_cli(lab):
    arn = f"arn:aws:iam::{lab.account_id}:user/cli-user"
    added = lab.aws(f"ecr register-pull-time-update-exclusion --principal-arn {arn}")
    assert added.ok and json.loads(added.stdout)["principalArn"] == arn
    listed = lab.aws("ecr list-pull-time-update-exclusions")
    assert json.loads(listed.stdout)["pullTimeUpdateExclusions"] == [arn]
    removed = lab.aws(f"ecr deregister-pull-time-update-exclusion --principal-arn {arn}")
    assert removed.ok
    missing = lab.aws(f"ecr deregister-pull-time-update-exclusion --principal-arn {arn}")
    assert not missing.ok and "ExclusionNotFoundException" in missing.stderr


def _pull(client, digest: str) -> None:
    assert client.batch_get_image(repositoryName="excl/app", imageIds=[{"imageDigest": digest}])["images"]


def _recorded(ecr, digest: str):
    detail = ecr.describe_images(repositoryName="excl/app", imageIds=[{"imageDigest": digest}])["imageDetails"][0]
    return detail.get("lastRecordedPullTime")


def test_excluded_pulls_leave_the_pull_time_and_spare_nothing(lab, ecr, users):
    ecr.create_repository(repositoryName="excl/app")
    client = RegistryClient.for_lab(lab)
    try:
        digest = client.push(random_image(layers=0, shared=[b"excluded"]), "excl/app", "v1").digest
    finally:
        client.close()
    ecr.register_pull_time_update_exclusion(principalArn=user_arn(lab, "scanner"))
    _pull(users["scanner"], digest)
    assert _recorded(ecr, digest) is None  # the scanner's pull is not recorded

    _pull(users["deployer"], digest)
    first = _recorded(ecr, digest)
    assert first is not None
    lab.clock.advance(hours=3)
    _pull(users["deployer"], digest)
    assert _recorded(ecr, digest) == first  # refreshed at most once every 24 hours, not to the second
    lab.clock.advance(hours=21)
    _pull(users["deployer"], digest)
    assert _recorded(ecr, digest) > first

    # a month of daily scanner pulls does not keep the image "recently pulled"
    rule = {
        "rulePriority": 1,
        "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30},
        "action": {"type": "transition", "targetStorageClass": "archive"},
    }
    ecr.put_lifecycle_policy(repositoryName="excl/app", lifecyclePolicyText=json.dumps({"rules": [rule]}))
    for _ in range(31):
        lab.clock.advance(days=1)
        users["scanner"].batch_get_image(repositoryName="excl/app", imageIds=[{"imageDigest": digest}])
    detail = ecr.describe_images(repositoryName="excl/app", filter={"imageStatus": "ANY"})["imageDetails"][0]
    assert detail["imageStatus"] == "ARCHIVED"
    ecr.deregister_pull_time_update_exclusion(principalArn=user_arn(lab, "scanner"))


def test_without_the_exclusion_daily_pulls_keep_the_image(lab, ecr, users):
    ecr.create_repository(repositoryName="excl/kept")
    client = RegistryClient.for_lab(lab)
    try:
        digest = client.push(random_image(layers=0, shared=[b"kept"]), "excl/kept", "v1").digest
    finally:
        client.close()
    rule = {
        "rulePriority": 1,
        "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30},
        "action": {"type": "transition", "targetStorageClass": "archive"},
    }
    ecr.put_lifecycle_policy(repositoryName="excl/kept", lifecyclePolicyText=json.dumps({"rules": [rule]}))
    for _ in range(31):
        lab.clock.advance(days=1)
        users["scanner"].batch_get_image(repositoryName="excl/kept", imageIds=[{"imageDigest": digest}])
    (detail,) = ecr.describe_images(repositoryName="excl/kept")["imageDetails"]
    assert detail["imageStatus"] == "ACTIVE"


def test_iam_checks_the_service_authorization_reference_names(lab):
    """The User Guide's ``ecr:CreatePullTimeUpdateExclusion`` grants nothing; ``ecr:RegisterPullTimeUpdateExclusion``
    is the action IAM evaluates."""
    iam = lab.client("iam")
    iam.create_user(UserName="admin-by-guide")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:CreatePullTimeUpdateExclusion", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="admin-by-guide", PolicyName="guide", PolicyDocument=json.dumps(document))
    client = lab.session(user="admin-by-guide").client("ecr")
    arn = f"arn:aws:iam::{lab.account_id}:role/guide-role"
    with pytest.raises(ClientError) as denied:
        client.register_pull_time_update_exclusion(principalArn=arn)
    assert code(denied) == "AccessDeniedException" and "ecr:RegisterPullTimeUpdateExclusion" in str(denied.value)
    document["Statement"][0]["Action"] = "ecr:RegisterPullTimeUpdateExclusion"
    iam.put_user_policy(UserName="admin-by-guide", PolicyName="guide", PolicyDocument=json.dumps(document))
    assert client.register_pull_time_update_exclusion(principalArn=arn)["principalArn"] == arn

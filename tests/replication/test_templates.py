"""Repository creation templates: the four operations, prefix matching, and where they apply
(replication, create-on-push on the API and on the registry)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from ecrlab.images.client import RegistryClientError
from tests.replication.helpers import client_for, image

LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5},
                "action": {"type": "expire"},
            }
        ]
    }
)
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}],
    }
)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_create_describe_update_delete(lab, ecr):
    created = ecr.create_repository_creation_template(
        prefix="prod",
        description="production images",
        appliedFor=["REPLICATION", "CREATE_ON_PUSH"],
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
        resourceTags=[{"Key": "team", "Value": "web"}],
        repositoryPolicy=POLICY,
        lifecyclePolicy=LIFECYCLE,
        customRoleArn=f"arn:aws:iam::{lab.account_id}:role/ecr-templates",
    )
    template = created["repositoryCreationTemplate"]
    assert created["registryId"] == lab.account_id
    assert template["prefix"] == "prod"
    assert template["appliedFor"] == ["REPLICATION", "CREATE_ON_PUSH"]
    assert template["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert template["imageTagMutabilityExclusionFilters"] == [{"filterType": "WILDCARD", "filter": "latest"}]
    ecr.create_repository_creation_template(prefix="ROOT", appliedFor=["PULL_THROUGH_CACHE"])

    listed = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    assert [t["prefix"] for t in listed] == ["ROOT", "prod"]
    only = ecr.describe_repository_creation_templates(prefixes=["prod"])["repositoryCreationTemplates"]
    assert [t["description"] for t in only] == ["production images"]

    updated = ecr.update_repository_creation_template(prefix="prod", imageTagMutability="MUTABLE")
    assert updated["repositoryCreationTemplate"]["imageTagMutability"] == "MUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in updated["repositoryCreationTemplate"]
    assert updated["repositoryCreationTemplate"]["description"] == "production images"  # kept

    ecr.delete_repository_creation_template(prefix="prod")
    with pytest.raises(ClientError) as exc:
        ecr.delete_repository_creation_template(prefix="prod")
    assert _code(exc) == "TemplateNotFoundException"
    with pytest.raises(ClientError) as exc:
        ecr.update_repository_creation_template(prefix="prod", description="x")
    assert _code(exc) == "TemplateNotFoundException"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"prefix": "Prod", "appliedFor": ["REPLICATION"]}, "InvalidParameterException"),
        ({"prefix": "prod", "appliedFor": ["EVERYWHERE"]}, "InvalidParameterException"),
        ({"prefix": "prod", "appliedFor": []}, "InvalidParameterException"),
        ({"prefix": "prod", "appliedFor": ["REPLICATION"], "lifecyclePolicy": "{}"}, "InvalidParameterException"),
        ({"prefix": "prod", "appliedFor": ["REPLICATION"], "repositoryPolicy": "{"}, "InvalidParameterException"),
        (
            {"prefix": "prod", "appliedFor": ["REPLICATION"], "customRoleArn": "arn:aws:iam::999999999999:role/x"},
            "InvalidParameterException",
        ),
        (
            {"prefix": "prod", "appliedFor": ["REPLICATION"], "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"},
            "InvalidParameterException",
        ),
        (
            {
                "prefix": "prod",
                "appliedFor": ["REPLICATION"],
                "encryptionConfiguration": {"encryptionType": "AES256", "kmsKey": ""},
                "resourceTags": [{"Key": "aws:reserved", "Value": "x"}],
            },
            "InvalidTagParameterException",
        ),
    ],
)
def test_invalid_templates_are_refused(lab, ecr, kwargs, code):
    with pytest.raises(ClientError) as exc:
        ecr.create_repository_creation_template(**kwargs)
    assert _code(exc) == code
    assert ecr.describe_repository_creation_templates()["repositoryCreationTemplates"] == []


def test_a_prefix_is_a_namespace_and_prod_slash_names_the_same_template(lab, ecr):
    ecr.create_repository_creation_template(prefix="prod/", appliedFor=["CREATE_ON_PUSH"])
    with pytest.raises(ClientError) as exc:
        ecr.create_repository_creation_template(prefix="prod", appliedFor=["CREATE_ON_PUSH"])
    assert _code(exc) == "TemplateAlreadyExistsException"
    with client_for(lab, ecr) as client:
        client.push(image("a"), "prod/web", "v1")  # covered: created
        with pytest.raises(RegistryClientError) as missing:
            client.push(image("b"), "production", "v1")  # "prod" covers prod/..., not production
    assert missing.value.code == "NAME_UNKNOWN"
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["prod/web"]


def test_push_to_a_missing_repository_fails_without_a_create_on_push_template(lab, ecr):
    ecr.create_repository_creation_template(prefix="ROOT", appliedFor=["REPLICATION"])
    with client_for(lab, ecr) as client, pytest.raises(RegistryClientError) as exc:
        client.push(image("a"), "web", "v1")
    assert exc.value.code == "NAME_UNKNOWN"
    with pytest.raises(ClientError) as api:
        ecr.initiate_layer_upload(repositoryName="web")
    assert _code(api) == "RepositoryNotFoundException"
    assert ecr.describe_repositories()["repositories"] == []


def test_create_on_push_applies_the_closest_template_on_both_planes(lab, ecr):
    ecr.create_repository_creation_template(prefix="ROOT", appliedFor=["CREATE_ON_PUSH"])
    ecr.create_repository_creation_template(
        prefix="team",
        appliedFor=["CREATE_ON_PUSH"],
        imageTagMutability="IMMUTABLE",
        resourceTags=[{"Key": "team", "Value": "a"}],
        repositoryPolicy=POLICY,
        lifecyclePolicy=LIFECYCLE,
    )
    with client_for(lab, ecr) as client:
        pushed = client.push(image("a"), "team/web", "v1")
    repo = ecr.describe_repositories(repositoryNames=["team/web"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"] == [{"Key": "team", "Value": "a"}]
    assert (
        json.loads(ecr.get_repository_policy(repositoryName="team/web")["policyText"])["Statement"][0]["Sid"] == "Read"
    )
    assert (
        json.loads(ecr.get_lifecycle_policy(repositoryName="team/web")["lifecyclePolicyText"])["rules"][0][
            "rulePriority"
        ]
        == 1
    )
    assert ecr.describe_images(repositoryName="team/web")["imageDetails"][0]["imageDigest"] == pushed.digest

    # The API's layer upload creates it too, with ROOT's defaults.
    upload = ecr.initiate_layer_upload(repositoryName="other")
    assert upload["uploadId"]
    other = ecr.describe_repositories(repositoryNames=["other"])["repositories"][0]
    assert other["imageTagMutability"] == "MUTABLE"


def test_create_on_push_needs_create_repository_permission(lab, ecr):
    iam = lab.client("iam")
    iam.create_user(UserName="pusher")
    iam.put_user_policy(
        UserName="pusher",
        PolicyName="push",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "ecr:GetAuthorizationToken",
                            "ecr:BatchCheckLayerAvailability",
                            "ecr:InitiateLayerUpload",
                            "ecr:UploadLayerPart",
                            "ecr:CompleteLayerUpload",
                            "ecr:PutImage",
                        ],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    ecr.create_repository_creation_template(prefix="ROOT", appliedFor=["CREATE_ON_PUSH"])
    pusher = lab.session(user="pusher").client("ecr")
    with pytest.raises(ClientError) as exc:
        pusher.initiate_layer_upload(repositoryName="web")
    assert _code(exc) == "AccessDeniedException"
    assert "ecr:CreateRepository" in exc.value.response["Error"]["Message"]
    assert ecr.describe_repositories()["repositories"] == []


def test_replication_creates_the_destination_repository_from_its_template(lab, ecr):
    west = lab.client("ecr", region_name="us-west-2")
    west.create_repository_creation_template(
        prefix="ROOT", appliedFor=["REPLICATION"], imageTagMutability="IMMUTABLE", lifecyclePolicy=LIFECYCLE
    )
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [{"region": "us-west-2", "registryId": lab.account_id}]}]}
    )
    ecr.create_repository(repositoryName="web")  # MUTABLE in the source
    with client_for(lab, ecr) as client:
        client.push(image("a"), "web", "v1")
    lab.clock.advance(minutes=1)
    repo = west.describe_repositories(repositoryNames=["web"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert west.get_lifecycle_policy(repositoryName="web")["lifecyclePolicyText"]


def test_aws_cli_manages_templates(lab, ecr):
    made = lab.aws("ecr create-repository-creation-template --prefix apps --applied-for CREATE_ON_PUSH")
    assert made.ok, made.stderr
    listed = lab.aws("ecr describe-repository-creation-templates")
    assert json.loads(listed.stdout)["repositoryCreationTemplates"][0]["prefix"] == "apps"

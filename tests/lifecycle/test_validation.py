"""PutLifecyclePolicy refuses what ECR refuses, with ECR's code and a message naming the broken rule."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.lifecycle.lifecycle_support import policy, rule

PREFIX = (
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "
)


def refusal(ecr, text: str) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def pad(doc: dict) -> str:
    return json.dumps(doc, indent=4).ljust(100)


BAD = [
    (pad({"rules": []}), "array is too short"),
    ("{" + " " * 120, "Could not map policyString into LifecyclePolicy."),
    (pad({"rulez": [rule(1, "any", "imageCountMoreThan", 1)]}), 'object has missing required properties (["rules"])'),
    (
        policy(rule(1, "tagged", "imageCountMoreThan", 1)),
        "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED. (rules[0], rulePriority 1)",
    ),
    (
        policy(rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["v"], tagPatternList=["v*"])),
        "Can only specify one of tagPrefixList or tagPatternList",
    ),
    (
        policy(rule(1, "untagged", "imageCountMoreThan", 1, tagPrefixList=["v"])),
        "tagPrefixList can only be specified when tagStatus=TAGGED, not tagStatus=UNTAGGED.",
    ),
    (
        policy(rule(1, "any", "imageCountMoreThan", 1, tagPatternList=["v*"])),
        "tagPatternList can only be specified when tagStatus=TAGGED, not tagStatus=ANY.",
    ),
    (
        policy(rule(1, "tagged", "imageCountMoreThan", 1, tagPatternList=["a*b*c*d*e*f"])),
        "has 5 wildcards; at most 4 wildcards",
    ),
    (
        policy(rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=[])),
        "tagPrefixList must contain at least one entry",
    ),
    (
        policy(
            rule(3, "untagged", "imageCountMoreThan", 1),
            rule(3, "tagged", "imageCountMoreThan", 1, tagPrefixList=["v"]),
        ),
        "rulePriority 3 is used by more than one rule",
    ),
    (
        policy(rule(1, "any", "imageCountMoreThan", 5), rule(2, "untagged", "imageCountMoreThan", 1)),
        "Rule for tagStatus=ANY must have the lowest priority per storage class",
    ),
    (
        policy(rule(1, "untagged", "imageCountMoreThan", 5), rule(2, "untagged", "sinceImagePushed", 1)),
        "Only one rule can select Untagged images per storage class. (rulePriority 1 and 2)",
    ),
    (
        policy(rule(1, "untagged", "imageCountMoreThan", 5, countUnit="days")),
        "countUnit cannot be specified when countType is imageCountMoreThan.",
    ),
    (
        policy(rule(1, "untagged", "sinceImagePushed", 5, countUnit="hours")),
        'instance value ("hours") not found in enum',
    ),
    (
        policy(
            {
                **rule(1, "untagged", "sinceImagePushed", 5),
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 5},
            }
        ),
        "countUnit must be specified when countType is sinceImagePushed.",
    ),
    (
        policy(rule(1, "untagged", "imageCountMoreThan", 0)),
        "numeric instance is lower than the required minimum (minimum: 1, found: 0)",
    ),
    (policy(rule(1, "untagged", "imageCountMoreThan", "5")), "instance type (string) does not match"),
    (
        policy(rule(1, "UNTAGGED", "imageCountMoreThan", 1)),
        'instance value ("UNTAGGED") not found in enum (possible values: ["tagged", "untagged", "any"])',
    ),
    (policy(rule(1, "untagged", "imageCountLessThan", 1)), 'instance value ("imageCountLessThan") not found in enum'),
    (
        policy({**rule(1, "untagged", "imageCountMoreThan", 1), "action": {"type": "delete"}}),
        'instance value ("delete") not found in enum',
    ),
    (
        policy({**rule(1, "untagged", "imageCountMoreThan", 1), "colour": "red"}),
        'object instance has properties which are not allowed by the schema: (["colour"])',
    ),
    (
        policy({k: v for k, v in rule(1, "untagged", "imageCountMoreThan", 1).items() if k != "action"}),
        'object has missing required properties (["action"])',
    ),
    (policy(rule(0, "untagged", "imageCountMoreThan", 1)), "(rules[0], rulePriority 0: rulePriority)"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_refused_with_ecr_wording(ecr, repo, text, message):
    code, got = refusal(ecr, text)
    assert code == "InvalidParameterException"
    assert got.startswith((PREFIX, "Invalid parameter at 'lifecyclePolicyText'"))
    assert message in got
    with pytest.raises(ClientError) as exc:  # nothing was stored
        ecr.get_lifecycle_policy(repositoryName="app")
    assert exc.value.response["Error"]["Code"] == "LifecyclePolicyNotFoundException"


def test_text_length_limits(lab, repo):
    # boto3 checks the length itself; switch that off to see the service's own answer
    from botocore.config import Config

    raw = lab.session().client("ecr", config=Config(parameter_validation=False))
    code, message = refusal(raw, json.dumps({"rules": [rule(1, "any", "imageCountMoreThan", 1)]})[:99])
    assert code == "InvalidParameterException" and "length greater than or equal to 100" in message
    code, message = refusal(raw, policy(rule(1, "any", "imageCountMoreThan", 1)).ljust(30721))
    assert code == "InvalidParameterException" and "length less than or equal to 30720" in message


def _transition(r: dict) -> dict:
    return {**r, "action": {"type": "transition", "targetStorageClass": "archive"}}


ARCHIVE_GOOD = [
    policy(_transition(rule(1, "any", "sinceImagePushed", 30))),
    policy(
        _transition(rule(1, "any", "sinceImagePulled", 90)),
        rule(2, "any", "sinceImageTransitioned", 365, storageClass="archive"),
    ),
    # "any" and "untagged" are checked per storage class: one each in standard and in archive is fine
    policy(
        rule(1, "untagged", "sinceImagePushed", 7),
        rule(2, "untagged", "sinceImageTransitioned", 90, storageClass="archive"),
        rule(3, "any", "sinceImageTransitioned", 180, storageClass="archive"),
        _transition(rule(4, "any", "imageCountMoreThan", 10)),
    ),
]


@pytest.mark.parametrize("text", ARCHIVE_GOOD)
def test_archive_rules_are_accepted_and_written_back(ecr, repo, text):
    saved = ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)["lifecyclePolicyText"]
    assert json.loads(saved) == {"rules": sorted(json.loads(text)["rules"], key=lambda r: r["rulePriority"])}


@pytest.mark.parametrize(
    "text,words",
    [
        (
            policy({**rule(1, "any", "sinceImagePushed", 30), "action": {"type": "transition"}}),
            "targetStorageClass must",
        ),
        (
            policy(
                {
                    **rule(1, "any", "sinceImagePushed", 30),
                    "action": {"type": "expire", "targetStorageClass": "archive"},
                }
            ),
            "only be specified when the action type is transition",
        ),
        (
            policy(
                {
                    **rule(1, "any", "sinceImagePushed", 30),
                    "action": {"type": "transition", "targetStorageClass": "standard"},
                }
            ),
            "not found in enum",
        ),
        (policy(rule(1, "untagged", "sinceImageTransitioned", 90)), "storageClass must be archive"),
        (policy(rule(1, "any", "sinceImagePushed", 30, storageClass="archive")), "storageClass must be standard"),
        (policy(rule(1, "any", "sinceImageTransitioned", 89, storageClass="archive")), "at least 90"),
        (policy(_transition(rule(1, "any", "sinceImageTransitioned", 90, storageClass="archive"))), "only be expired"),
        (
            policy(
                rule(1, "any", "sinceImageTransitioned", 90, storageClass="archive"),
                rule(2, "untagged", "sinceImageTransitioned", 120, storageClass="archive"),
            ),
            "lowest priority per storage class",
        ),
    ],
)
def test_archive_rules_are_validated_as_documented(ecr, repo, text, words):
    code, message = refusal(ecr, text)
    assert code == "InvalidParameterException"
    assert words in message


GOOD = [
    policy(rule(1, "untagged", "sinceImagePushed", 14)),
    policy(rule(1, "tagged", "imageCountMoreThan", 3, tagPatternList=["*test*1*2*3", "test*1*2*3*"])),
    policy(
        rule(5, "untagged", "imageCountMoreThan", 1),
        rule(10, "tagged", "sinceImagePulled", 30, tagPrefixList=["v", "prod"]),
        rule(99, "any", "imageCountMoreThan", 100),
    ),
    policy(rule(2, "tagged", "imageCountMoreThan", 1, tagPrefixList=["prod"], storageClass="standard")),
]


@pytest.mark.parametrize("text", GOOD)
def test_accepted_and_read_back(ecr, repo, text):
    put = ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    got = ecr.get_lifecycle_policy(repositoryName="app")
    # Put answers with the text as stored (compact), the one Get returns, not the caller's bytes.
    assert put["lifecyclePolicyText"] == got["lifecyclePolicyText"] and put["repositoryName"] == "app"
    assert json.loads(put["lifecyclePolicyText"])["rules"] == sorted(
        json.loads(put["lifecyclePolicyText"])["rules"], key=lambda r: r["rulePriority"]
    )
    stored = json.loads(got["lifecyclePolicyText"])
    priorities = [r["rulePriority"] for r in stored["rules"]]
    assert priorities == sorted(priorities) == sorted(r["rulePriority"] for r in json.loads(text)["rules"])
    assert got["lastEvaluatedAt"].timestamp() == 0  # never evaluated yet


def test_rules_come_back_in_priority_order(ecr, repo):
    text = policy(rule(20, "any", "imageCountMoreThan", 9), rule(3, "untagged", "sinceImagePushed", 1))
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    stored = json.loads(ecr.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"])
    assert [r["rulePriority"] for r in stored["rules"]] == [3, 20]


def test_delete_returns_the_policy_then_it_is_gone(ecr, repo):
    text = policy(rule(1, "untagged", "sinceImagePushed", 14))
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    deleted = ecr.delete_lifecycle_policy(repositoryName="app")
    assert json.loads(deleted["lifecyclePolicyText"]) == json.loads(text)
    for call in (ecr.get_lifecycle_policy, ecr.delete_lifecycle_policy):
        with pytest.raises(ClientError) as exc:
            call(repositoryName="app")
        assert exc.value.response["Error"]["Code"] == "LifecyclePolicyNotFoundException"
        assert exc.value.response["Error"]["Message"] == (
            "Lifecycle policy does not exist for the repository with name 'app' in the registry with id '123456789012'"
        )


def test_missing_repository(ecr, lab):
    with pytest.raises(ClientError) as exc:
        ecr.put_lifecycle_policy(repositoryName="nope", lifecyclePolicyText=GOOD[0])
    assert exc.value.response["Error"]["Code"] == "RepositoryNotFoundException"


def test_the_aws_cli_sees_the_same_refusal(lab, repo):
    import shlex

    result = lab.aws(
        "ecr put-lifecycle-policy --repository-name app --lifecycle-policy-text "
        + shlex.quote(policy(rule(1, "tagged", "imageCountMoreThan", 1)))
    )
    assert not result.ok
    assert "InvalidParameterException" in result.stderr and "tagStatus=TAGGED" in result.stderr

"""Policy grammar: what AWS refuses is refused with a message that names the rule."""

from __future__ import annotations

import json

import pytest

from ecrlab.access.grammar import parse_policy, split_operator
from ecrlab.errors import PolicyGrammarError


def doc(*statements, version="2012-10-17"):
    return json.dumps({"Version": version, "Statement": list(statements)})


PULL = {
    "Sid": "Pull",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
}


def test_valid_resource_policy_comes_back_with_a_statement_list():
    parsed = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": PULL}), resource_policy=True, service="ecr")
    assert parsed["Statement"] == [PULL]


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        ({**PULL, "Effect": "allow"}, "Effect must be Allow or Deny"),
        ({k: v for k, v in PULL.items() if k != "Principal"}, "has no Principal"),
        ({**PULL, "Action": "ecr:PullImage"}, "matches no ECR action"),
        ({**PULL, "Action": "ecr:BatchGetImages"}, "did you mean ecr:BatchGetImage"),
        ({**PULL, "Action": "s3:GetObject"}, "is not an ecr action"),
        ({**PULL, "NotAction": "ecr:PutImage"}, "exactly one of Action or NotAction"),
        ({**PULL, "Principal": {"AWS": "arn:aws:iam::222222222222:user/*"}}, "invalid principal"),
        ({**PULL, "Principal": {"AWS": "2222"}}, "invalid principal"),
        ({**PULL, "Principal": {"Human": "bob"}}, "must be one of AWS"),
        (
            {**PULL, "Condition": {"StringEqualz": {"aws:PrincipalTag/team": "a"}}},
            "'StringEqualz' is not a condition operator",
        ),
        ({**PULL, "Condition": {"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}}}, "not a set operator"),
        ({**PULL, "Condition": {"NullIfExists": {"aws:TagKeys": "true"}}}, "Null operator takes no IfExists"),
        ({**PULL, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}, 'takes "true" or "false"'),
        ({**PULL, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}}, "IP addresses or CIDR"),
        ({**PULL, "Condition": {"DateGreaterThan": {"aws:CurrentTime": "tomorrow"}}}, "ISO 8601"),
        ({**PULL, "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}, "takes numbers"),
        ({**PULL, "Resource": "repository/app"}, 'must be "*" or an ARN'),
        ({**PULL, "Extra": 1}, "unknown element(s): Extra"),
        ({**PULL, "Sid": "no-dashes!"}, "Sid may hold only"),
    ],
)
def test_invalid_resource_policies_are_refused_with_the_rule(statement, fragment):
    with pytest.raises(PolicyGrammarError) as info:
        parse_policy(doc(statement), resource_policy=True, service="ecr")
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"Version": "2012-10-17"}), "has no Statement"),
        (json.dumps({"Version": "2020-01-01", "Statement": [PULL]}), "Version must be one of"),
        (json.dumps({"Version": "2012-10-17", "Statement": []}), "non-empty list"),
        (doc(PULL, PULL), "Sid 'Pull' is used twice"),
    ],
)
def test_document_level_rules(text, fragment):
    with pytest.raises(PolicyGrammarError) as info:
        parse_policy(text, resource_policy=True, service="ecr")
    assert fragment in str(info.value)


def test_identity_policies_need_a_resource_and_no_principal():
    allow = {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}
    assert parse_policy(doc(allow), resource_policy=False)["Statement"][0] == allow
    with pytest.raises(PolicyGrammarError, match="has no Resource"):
        parse_policy(doc({"Effect": "Allow", "Action": "ecr:*"}), resource_policy=False)
    with pytest.raises(PolicyGrammarError, match="must not name one"):
        parse_policy(doc({**allow, "Principal": "*"}), resource_policy=False)


def test_operator_names_split_into_set_operator_base_and_ifexists():
    assert split_operator("ForAnyValue:StringLikeIfExists") == ("ForAnyValue", "StringLike", True)
    assert split_operator("ArnNotEquals") == (None, "ArnNotEquals", False)
    assert split_operator("Null") == (None, "Null", False)


def test_set_repository_policy_maps_grammar_errors_to_invalid_parameter(ecr):
    ecr.create_repository(repositoryName="app")
    bad = doc({**PULL, "Action": "ecr:PullImage"})
    with pytest.raises(ecr.exceptions.InvalidParameterException) as info:
        ecr.set_repository_policy(repositoryName="app", policyText=bad)
    message = info.value.response["Error"]["Message"]
    assert message.startswith(
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
    )
    assert "ecr:PullImage" in message
    with pytest.raises(ecr.exceptions.RepositoryPolicyNotFoundException):
        ecr.get_repository_policy(repositoryName="app")  # nothing was stored

"""IAM's simulator answers from the same engine, in IAM's response shape."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
REPO = "arn:aws:ecr:us-east-1:123456789012:repository/app"


def test_simulate_principal_policy_for_a_read_only_user(lab):
    iam = lab.client("iam")
    iam.create_user(UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn=READ_ONLY)
    iam.put_user_policy(
        UserName="reader",
        PolicyName="no-scan-findings",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "ecr:DescribeImageScanFindings", "Resource": "*"}],
            }
        ),
    )
    out = iam.simulate_principal_policy(
        PolicySourceArn="arn:aws:iam::123456789012:user/reader",
        ActionNames=["ecr:BatchGetImage", "ecr:PutImage", "ecr:DescribeImageScanFindings"],
        ResourceArns=[REPO],
    )
    assert out["IsTruncated"] is False
    results = {r["EvalActionName"]: r for r in out["EvaluationResults"]}
    assert {a: r["EvalDecision"] for a, r in results.items()} == {
        "ecr:BatchGetImage": "allowed",
        "ecr:PutImage": "implicitDeny",
        "ecr:DescribeImageScanFindings": "explicitDeny",
    }
    (matched,) = results["ecr:BatchGetImage"]["MatchedStatements"]
    assert matched["SourcePolicyId"] == "AmazonEC2ContainerRegistryReadOnly"
    assert matched["SourcePolicyType"] == "aws-managed"
    (denied,) = results["ecr:DescribeImageScanFindings"]["MatchedStatements"]
    assert denied["SourcePolicyId"] == "no-scan-findings" and denied["SourcePolicyType"] == "user"
    assert results["ecr:PutImage"]["MatchedStatements"] == []
    assert results["ecr:BatchGetImage"]["EvalResourceName"] == REPO


def test_simulate_custom_policy_with_a_resource_policy_and_context(lab):
    iam = lab.client("iam")
    identity = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ecr:BatchGetImage",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
                }
            ],
        }
    )
    resource = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "ecr:BatchGetImage"}],
        }
    )
    base = {
        "PolicyInputList": [identity],
        "ActionNames": ["ecr:BatchGetImage"],
        "ResourceArns": [REPO],
        "CallerArn": "arn:aws:iam::222222222222:user/bob",
    }
    blue = [{"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyValues": ["blue"], "ContextKeyType": "string"}]
    (r,) = iam.simulate_custom_policy(**base, ContextEntries=blue)["EvaluationResults"]
    assert r["EvalDecision"] == "implicitDeny"  # cross-account with no resource policy
    (r,) = iam.simulate_custom_policy(**base, ContextEntries=blue, ResourcePolicy=resource)["EvaluationResults"]
    assert r["EvalDecision"] == "allowed"
    assert {m["SourcePolicyId"] for m in r["MatchedStatements"]} == {"PolicyInputList.1", "ResourcePolicy"}
    (r,) = iam.simulate_custom_policy(**base, ResourcePolicy=resource)["EvaluationResults"]
    assert r["EvalDecision"] == "implicitDeny"
    assert r["MissingContextValues"] == ["aws:PrincipalTag/team"]


def test_statement_positions_point_into_the_policy_text(lab):
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Deny", "Action": "ecr:PutImage", "Resource": "*"},\n'
        '    {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}\n  ]\n}'
    )
    out = lab.client("iam").simulate_custom_policy(PolicyInputList=[text], ActionNames=["ecr:ListImages"])
    (m,) = out["EvaluationResults"][0]["MatchedStatements"]
    assert m["StartPosition"] == {"Line": 5, "Column": 5}
    assert m["EndPosition"]["Line"] == 5


def test_simulator_errors_are_iam_shaped(lab):
    iam = lab.client("iam")
    with pytest.raises(ClientError) as info:
        iam.simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::123456789012:user/ghost", ActionNames=["ecr:ListImages"]
        )
    assert info.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as info:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["ecr:ListImages"])
    assert info.value.response["Error"]["Code"] == "InvalidInput"

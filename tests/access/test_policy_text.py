"""Policy documents come back as ECR stores them: re-serialised in its service's JSON style, not the
caller's bytes (the AWS CLI's own example for set-repository-policy shows input and output)."""

from __future__ import annotations

import json

from ecrlab.access.operations import ecr_policy_text

# awscli/examples/ecr/set-repository-policy.rst: the contents of my-policy.json ...
CLI_EXAMPLE_INPUT = """{
    "Version" : "2008-10-17",
    "Statement" : [ 
        {
            "Sid" : "allow public pull",
            "Effect" : "Allow",
            "Principal" : "*",
            "Action" : [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer" 
            ]
        }
    ]
}
"""
# ... and the policyText real ECR answered (the same in get- and delete-repository-policy.rst).
CLI_EXAMPLE_OUTPUT = (
    '{\n  "Version" : "2008-10-17",\n  "Statement" : [ {\n    "Sid" : "allow public pull",\n'
    '    "Effect" : "Allow",\n    "Principal" : "*",\n'
    '    "Action" : [ "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ]\n'
    "  } ]\n}"
)


def test_the_formatter_reproduces_ecrs_documented_output_byte_for_byte():
    assert ecr_policy_text(CLI_EXAMPLE_INPUT) == CLI_EXAMPLE_OUTPUT
    # whatever the caller's layout, the stored text is the same
    assert ecr_policy_text(json.dumps(json.loads(CLI_EXAMPLE_INPUT))) == CLI_EXAMPLE_OUTPUT
    assert ecr_policy_text(json.dumps(json.loads(CLI_EXAMPLE_INPUT), indent=7)) == CLI_EXAMPLE_OUTPUT


def test_nested_objects_empty_containers_scalars_and_escapes():
    document = {
        "Statement": [
            {"Condition": {"StringLike": {"aws:PrincipalArn": ["arn:*:a", "arn:*:b"]}}, "Resource": []},
            {"Principal": {}, "Sid": 'tab\there "quoted" \\ café\u0001', "N": 5, "B": True, "Z": None},
        ]
    }
    assert ecr_policy_text(json.dumps(document)) == (
        "{\n"
        '  "Statement" : [ {\n'
        '    "Condition" : {\n'
        '      "StringLike" : {\n'
        '        "aws:PrincipalArn" : [ "arn:*:a", "arn:*:b" ]\n'
        "      }\n"
        "    },\n"
        '    "Resource" : [ ]\n'
        "  }, {\n"
        '    "Principal" : { },\n'
        '    "Sid" : "tab\\there \\"quoted\\" \\\\ café\\u0001",\n'
        '    "N" : 5,\n'
        '    "B" : true,\n'
        '    "Z" : null\n'
        "  } ]\n"
        "}"
    )
    # the stored text is still the same document
    assert json.loads(ecr_policy_text(json.dumps(document))) == document


def test_repository_policy_calls_return_the_stored_text(ecr):
    ecr.create_repository(repositoryName="cluster-autoscaler")
    out = ecr.set_repository_policy(repositoryName="cluster-autoscaler", policyText=CLI_EXAMPLE_INPUT)
    assert out["policyText"] == CLI_EXAMPLE_OUTPUT
    assert ecr.get_repository_policy(repositoryName="cluster-autoscaler")["policyText"] == CLI_EXAMPLE_OUTPUT
    assert ecr.delete_repository_policy(repositoryName="cluster-autoscaler")["policyText"] == CLI_EXAMPLE_OUTPUT


def test_registry_policy_calls_return_the_stored_text(lab, ecr):
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReplicationAccessCrossAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{lab.account_id}:root"},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": f"arn:aws:ecr:us-east-1:{lab.account_id}:repository/*",
            }
        ],
    }
    expected = (
        '{\n  "Version" : "2012-10-17",\n  "Statement" : [ {\n    "Sid" : "ReplicationAccessCrossAccount",\n'
        '    "Effect" : "Allow",\n    "Principal" : {\n'
        f'      "AWS" : "arn:aws:iam::{lab.account_id}:root"\n    }},\n'
        '    "Action" : [ "ecr:CreateRepository", "ecr:ReplicateImage" ],\n'
        f'    "Resource" : "arn:aws:ecr:us-east-1:{lab.account_id}:repository/*"\n'
        "  } ]\n}"
    )
    assert ecr.put_registry_policy(policyText=json.dumps(policy))["policyText"] == expected
    assert ecr.get_registry_policy()["policyText"] == expected
    assert ecr.delete_registry_policy()["policyText"] == expected


def test_the_aws_cli_shows_the_stored_text(lab, ecr):
    ecr.create_repository(repositoryName="cluster-autoscaler")
    ecr.set_repository_policy(repositoryName="cluster-autoscaler", policyText=CLI_EXAMPLE_INPUT)
    out = lab.aws("ecr get-repository-policy --repository-name cluster-autoscaler")
    assert out.ok, out.stderr
    assert json.loads(out.stdout)["policyText"] == CLI_EXAMPLE_OUTPUT

"""Lesson 05's checks ask the authorizer about the learner's principals: wrong answers are caught."""

from __future__ import annotations

import json

import pytest

from ecrlab.exercises import lesson05 as ex

ACCOUNT = "123456789012"
READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def shop(lab, ecr):
    for name, team in (("shop/web", None), ("shop/other", None), ("blue/app", "blue"), ("red/app", "red")):
        ecr.create_repository(repositoryName=name, tags=[{"Key": "team", "Value": team}] if team else [])
    return lab.client("iam")


def put(iam, user, *statements):
    iam.put_user_policy(
        UserName=user,
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
    )


def test_q1_least_privilege_pusher(shop):
    iam = shop
    assert ex.q1.evaluate().kind == "not-attempted"
    iam.create_user(UserName="ci-pusher")
    assert "no permissions yet" in ex.q1.evaluate().text  # not "Incorrect" before the learner tried
    put(iam, "ci-pusher", {"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "*"})
    assert "cannot push yet" in ex.q1.evaluate().text
    put(iam, "ci-pusher", {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
    verdict = ex.q1.evaluate()
    assert verdict.kind == "incorrect" and "more than pushing" in verdict.text
    put(
        iam,
        "ci-pusher",
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": list(ex.PUSH_ACTIONS[1:]),
            "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/shop/web",
        },
    )
    assert ex.q1.evaluate().correct


def test_q2_read_only_role(shop):
    iam = shop
    iam.create_role(RoleName="deploy-reader", AssumeRolePolicyDocument=TRUST)
    assert ex.q2.evaluate().kind == "not-attempted"
    iam.attach_role_policy(
        RoleName="deploy-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    )
    assert "must not be able to push" in ex.q2.evaluate().text
    iam.detach_role_policy(
        RoleName="deploy-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    )
    iam.attach_role_policy(RoleName="deploy-reader", PolicyArn=READ_ONLY)
    assert ex.q2.evaluate().correct


def test_q3_cross_account(lab, ecr, shop):
    other = lab.account(ex.OTHER_ACCOUNT)
    other.client("iam").create_user(UserName="consumer")
    other.client("iam").attach_user_policy(UserName="consumer", PolicyArn=READ_ONLY)
    verdict = ex.q3.evaluate()
    assert verdict.kind == "not-attempted" and "no repository policy" in verdict.text
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}
        ],
    }
    ecr.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(public))
    assert "any account in the world" in ex.q3.evaluate().text
    public["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ex.OTHER_ACCOUNT}:root"}
    ecr.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(public))
    assert ex.q3.evaluate().correct


def test_q4_deny_beats_allow(ecr, shop):
    shop.create_user(UserName="full-admin")
    shop.attach_user_policy(
        UserName="full-admin", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"
    )
    assert ex.q4.evaluate().kind == "not-attempted"
    too_much = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}]}
    ecr.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(too_much))
    assert "stops `full-admin` from pushing" in ex.q4.evaluate().text
    too_much["Statement"][0]["Action"] = "ecr:DeleteRepository"
    ecr.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(too_much))
    assert ex.q4.evaluate().correct


def test_q5_tag_condition(shop):
    iam = shop
    iam.create_user(UserName="blue-dev", Tags=[{"Key": "team", "Value": "blue"}])
    assert ex.q5.evaluate().kind == "not-attempted"
    put(iam, "blue-dev", {"Effect": "Allow", "Action": "ecr:ListImages", "Resource": "*"})
    assert "red/app" in ex.q5.evaluate().text
    put(
        iam,
        "blue-dev",
        {
            "Effect": "Allow",
            "Action": "ecr:ListImages",
            "Resource": "*",
            "Condition": {"StringEquals": {"ecr:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        },
    )
    assert ex.q5.evaluate().correct


def test_q6_managed_policy_choice(lab):
    assert ex.q6.evaluate().kind == "not-attempted"
    assert "cannot push" in ex.q6.evaluate("AmazonEC2ContainerRegistryReadOnly").text
    assert "also allows" in ex.q6.evaluate("AmazonEC2ContainerRegistryFullAccess").text
    assert ex.q6.evaluate("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser").correct
    assert ex.q6.evaluate("AdministratorAccess").kind == "incorrect"


def test_managed_policy_table_is_computed_from_the_real_texts():
    rows = {r["action"]: r for r in ex.managed_policy_table(("ecr:PutImage", "ecr:BatchImportUpstreamImage"))}
    assert rows["ecr:PutImage"] == {
        "action": "ecr:PutImage",
        "FullAccess": "✓",
        "PowerUser": "✓",
        "PullOnly": "–",
        "ReadOnly": "–",
    }
    assert rows["ecr:BatchImportUpstreamImage"]["PullOnly"] == "✓"

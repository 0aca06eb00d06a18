"""sts:AssumeRole is decided by the role's trust policy and the caller's identity policies, as in AWS:
the trust policy must allow; naming the account delegates to identity policies; across accounts both
must allow; an explicit deny wins. The lab's administrator may act as any role."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.access.policies import trust_policy

ASSUME_ANY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}


def make_user(iam, name: str, inline: dict | None = None) -> None:
    iam.create_user(UserName=name)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))


def assume(session, role_arn: str) -> str:
    return session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="test")["AssumedRoleUser"]["Arn"]


def refusal(session, role_arn: str) -> dict:
    with pytest.raises(ClientError) as info:
        assume(session, role_arn)
    return info.value.response


@pytest.fixture
def roles(lab):
    iam = lab.client("iam")
    me = lab.account_id
    arns = {}
    for name, trust in [
        ("names-bob", trust_policy(f"arn:aws:iam::{me}:user/bob")),
        ("names-account", trust_policy(f"arn:aws:iam::{me}:root")),
        ("ec2-only", trust_policy(service="ec2.amazonaws.com")),
    ]:
        arns[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    make_user(iam, "bob")
    make_user(iam, "carol", ASSUME_ANY)
    return arns


def test_a_trust_policy_naming_the_user_suffices(lab, roles):
    arn = assume(lab.session(user="bob"), roles["names-bob"])
    assert arn == f"arn:aws:sts::{lab.account_id}:assumed-role/names-bob/test"


def test_a_trust_policy_naming_the_account_needs_an_identity_policy(lab, roles):
    denied = refusal(lab.session(user="bob"), roles["names-account"])
    assert denied["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert denied["Error"]["Code"] == "AccessDenied"
    assert denied["Error"]["Message"] == (
        f"User: arn:aws:iam::{lab.account_id}:user/bob is not authorized to perform: sts:AssumeRole "
        f"on resource: {roles['names-account']}"
    )
    assert assume(lab.session(user="carol"), roles["names-account"]).endswith(":assumed-role/names-account/test")


def test_an_identity_policy_opens_no_role_whose_trust_policy_does_not_allow(lab, roles):
    for role in ("names-bob", "ec2-only"):
        assert refusal(lab.session(user="carol"), roles[role])["Error"]["Code"] == "AccessDenied"


def test_an_explicit_deny_in_the_identity_policy_wins(lab, roles):
    iam = lab.client("iam")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="bob", PolicyName="no-sts", PolicyDocument=json.dumps(deny))
    assert refusal(lab.session(user="bob"), roles["names-bob"])["Error"]["Code"] == "AccessDenied"


def test_across_accounts_both_the_trust_and_the_identity_policy_must_allow(lab):
    other = lab.account("210987654321")
    role = lab.client("iam").create_role(
        RoleName="shared-reader", AssumeRolePolicyDocument=trust_policy(f"arn:aws:iam::{other.account_id}:root")
    )["Role"]["Arn"]
    other_iam = other.client("iam")
    make_user(other_iam, "dev")
    make_user(other_iam, "ci", ASSUME_ANY)
    assert refusal(other.session(user="dev"), role)["Error"]["Code"] == "AccessDenied"
    assert assume(other.session(user="ci"), role) == f"arn:aws:sts::{lab.account_id}:assumed-role/shared-reader/test"


def test_the_lab_administrator_acts_as_any_role(lab, roles):
    assert assume(lab.session(), roles["ec2-only"]).endswith(":assumed-role/ec2-only/test")
    arn = lab.session(role="ec2-only").client("sts").get_caller_identity()["Arn"]
    assert arn == f"arn:aws:sts::{lab.account_id}:assumed-role/ec2-only/ecrlab"


def test_the_aws_cli_is_refused_the_same_way(lab, roles):
    creds = lab.session(user="bob").get_credentials()
    env = {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
    ok = lab.aws(f"sts assume-role --role-arn {roles['names-bob']} --role-session-name cli", env=env)
    assert ok.ok, ok.stderr
    refused = lab.aws(f"sts assume-role --role-arn {roles['ec2-only']} --role-session-name cli", env=env)
    assert not refused.ok and "(AccessDenied)" in refused.stderr and "sts:AssumeRole" in refused.stderr

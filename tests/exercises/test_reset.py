"""``ex.reset(lab)`` empties the lab the lessons filled, in every account, through the public APIs."""

from __future__ import annotations

import json

import pytest

from ecrlab.exercises import lesson05


def test_reset_deletes_repositories_policies_users_and_roles(lab, ecr):
    iam = lab.client("iam")
    ecr.create_repository(repositoryName="shop/web")
    ecr.put_registry_policy(policyText=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
        "Action": "ecr:ReplicateImage", "Resource": "*"}]}))  # fmt: skip
    iam.create_user(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}))  # fmt: skip
    iam.create_access_key(UserName="ci")
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    other = lab.account("222222222222")
    other.client("iam").create_user(UserName="partner")
    other.client("ecr").create_repository(repositoryName="theirs")

    summary = lesson05.reset(lab)

    assert summary.startswith("lab reset: 2 repositories and 3 IAM users and roles deleted")
    assert ecr.describe_repositories()["repositories"] == []
    assert other.client("ecr").describe_repositories()["repositories"] == []
    assert iam.list_users()["Users"] == [] and iam.list_roles()["Roles"] == []
    assert other.client("iam").list_users()["Users"] == []
    with pytest.raises(ecr.exceptions.RegistryPolicyNotFoundException):
        ecr.get_registry_policy()
    # run twice: nothing left to delete, no error
    assert lesson05.reset(lab).startswith("lab reset: 0 repositories and 0 IAM")

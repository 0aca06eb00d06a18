"""The policy playground decides, draws the matrix and validates policies without a browser."""

from __future__ import annotations

import json

from ecrlab.widgets.policy_playground import MATRIX_ACTIONS, PolicyPlayground
from tests.access.policies import trust_policy

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"


def setup(lab):
    ecr, iam = lab.client("ecr"), lab.client("iam")
    ecr.create_repository(repositoryName="app")
    iam.create_user(UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn=READ_ONLY)
    iam.create_role(
        RoleName="ci",
        AssumeRolePolicyDocument=trust_policy("arn:aws:iam::123456789012:root"),
    )
    return ecr


def test_decide_explains_allow_and_deny(lab):
    setup(lab)
    w = PolicyPlayground(lab)
    assert [v for _, v in w.principal.options] == [
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/reader",
        "arn:aws:iam::123456789012:role/ci",
    ]
    w.principal.value = "arn:aws:iam::123456789012:user/reader"
    w.repository.value = "app"
    w.action.value = "ecr:BatchGetImage"
    w.decide_button.click()
    assert w.decision.allowed
    assert (
        "Allow" in w.result.value and "AmazonEC2ContainerRegistryReadOnly (attached to user/reader)" in w.result.value
    )
    w.action.value = "ecr:PutImage"
    w.decide_button.click()
    assert not w.decision.allowed
    assert "because no identity-based policy allows the ecr:PutImage action" in w.result.value
    w.action.value = "ecr:GetAuthorizationToken"
    w.decide_button.click()
    assert w.decision.request.resource == "*" and w.decision.allowed


def test_matrix_shows_principals_by_actions(lab):
    setup(lab)
    w = PolicyPlayground(lab)
    rows = dict(w.matrix_rows())
    reader = rows["arn:aws:iam::123456789012:user/reader"]
    assert dict(zip(MATRIX_ACTIONS, reader)) == {
        "ecr:GetAuthorizationToken": True,
        "ecr:DescribeImages": True,
        "ecr:BatchGetImage": True,
        "ecr:GetDownloadUrlForLayer": True,
        "ecr:InitiateLayerUpload": False,
        "ecr:PutImage": False,
        "ecr:SetRepositoryPolicy": False,
        "ecr:DeleteRepository": False,
    }
    assert all(rows["lab administrator"])
    assert not any(rows["arn:aws:iam::123456789012:role/ci (as a role session)"])
    w.matrix_button.click()
    assert w.matrix.value.count("✓") == 8 + 4 and "ecrlab-access-matrix" in w.matrix.value


def test_editor_validates_as_you_type_and_applies(lab):
    ecr = setup(lab)
    w = PolicyPlayground(lab)
    w.repository.value = "app"
    assert "✓ valid repository policy" in w.validation.value  # the starter policy
    w.policy_text.value = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage"}]}'
    assert "has no Principal" in w.validation.value
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoPull", "Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"}],
    }
    w.policy_text.value = json.dumps(deny)
    assert "✓" in w.validation.value
    w.apply_button.click()
    assert json.loads(ecr.get_repository_policy(repositoryName="app")["policyText"]) == deny
    w.principal.value = "arn:aws:iam::123456789012:user/reader"
    w.action.value = "ecr:BatchGetImage"
    w.decide_button.click()
    assert not w.decision.allowed and "NoPull" in w.result.value
    # an invalid policy applied anyway shows ECR's own error in the widget, not a traceback
    w.policy_text.value = "{"
    w.apply_button.click()
    assert "InvalidParameterException" in w.message.value


def test_other_accounts_principals_are_listed(lab):
    setup(lab)
    other = lab.account("222222222222")
    other.client("iam").create_user(UserName="consumer")
    w = PolicyPlayground(lab)
    assert "arn:aws:iam::222222222222:user/consumer" in [v for _, v in w.principal.options]
    w.principal.value = "arn:aws:iam::222222222222:user/consumer"
    w.repository.value = "app"
    w.decide_button.click()
    assert "cross-account" in w.result.value

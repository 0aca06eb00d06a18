"""Lesson 09's exercises: wrong attempts get specific feedback; every solution, pasted and run twice, passes."""

from __future__ import annotations

import json

from ecrlab.exercises import lesson09 as ex


def run(lab, code: str, shop) -> dict:
    namespace = {"lab": lab, "ecr": lab.client("ecr"), "ex": ex, "shop": shop}
    exec(code, namespace)  # noqa: S102 - the code shown to learners, run as they would
    return namespace


def test_exercises_before_and_after_their_solutions(lab):
    shop = ex.setup(lab)
    assert shop.pods()[0]["reason"] == "ImagePullBackOff"
    assert not ex.q1.evaluate("shop").correct
    assert "no policy yet" in str(ex.q1.evaluate(shop))
    iam = lab.client("iam")
    describe_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="shop-node", PolicyName="describe", PolicyDocument=json.dumps(describe_only))
    assert "still ImagePullBackOff" in str(ex.q1.evaluate(shop))
    iam.delete_role_policy(RoleName="shop-node", PolicyName="describe")
    iam.attach_role_policy(
        RoleName="shop-node", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    )
    assert "push or delete" in str(ex.q1.evaluate(shop))
    iam.detach_role_policy(
        RoleName="shop-node", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    )
    for _ in range(2):
        run(lab, ex.q1.solution_code, shop)
        assert ex.q1.evaluate(shop).correct

    assert "by digest" in str(ex.q2.evaluate(shop))
    for _ in range(2):
        run(lab, ex.q2.solution_code, shop)
        assert ex.q2.evaluate(shop).correct

    assert not ex.q3.evaluate(["Always"] * 4).correct
    for _ in range(2):
        assert ex.q3.evaluate(run(lab, ex.q3.solution_code, shop)["policies"]).correct

    again = ex.setup(lab)  # safe to run again: a fresh cluster
    assert again.pods()[0]["phase"] == "Running"  # the node role keeps its permission
    summary = ex.reset(lab)
    assert "cluster shop" in summary and "role shop-node" in summary

"""Lesson 00's checks against a running lab."""

from __future__ import annotations

import pytest

from ecrlab.exercises import lesson00 as ex


def test_account_from_sts_is_correct(lab):
    account = lab.client("sts").get_caller_identity()["Account"]
    assert ex.q1.evaluate(account).correct


@pytest.mark.parametrize(
    ("answer", "says"),
    [(123456789012, "strings of 12 digits"), ("111122223333", "not the lab's account"), (None, "should be a string")],
)
def test_account_feedback(lab, answer, says):
    verdict = ex.q1.evaluate(answer)
    assert verdict.kind == "incorrect" and says in verdict.text


def test_registry_host(lab):
    assert ex.q2.evaluate(f"{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com").correct


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "no scheme"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop", "repository or image URI"),
        ("123456789012.ecr.us-east-1.amazonaws.com", "`dkr`"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "region"),
        ("123456789012.DKR.ecr.us-east-1.amazonaws.com", "lowercase"),
    ],
)
def test_registry_host_feedback(lab, answer, says):
    verdict = ex.q2.evaluate(answer)
    assert verdict.kind == "incorrect" and says in verdict.text


def test_image_uri(lab):
    assert ex.q3.evaluate(f"{lab.registry_host}/shop/api:1.4.2").correct


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api", "tag is missing"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/Shop/API:1.4.2", "repository part"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:latest", "tag part is `latest`"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api@sha256:" + "0" * 64, "by-digest"),
        ("shop/api:1.4.2", "starts with the registry host"),
    ],
)
def test_image_uri_feedback(lab, answer, says):
    verdict = ex.q3.evaluate(answer)
    assert verdict.kind == "incorrect" and says in verdict.text

"""Condition operators as IAM documents them, including IfExists, ForAnyValue and ForAllValues."""

from __future__ import annotations

import pytest

from ecrlab.access.conditions import conditions_match, substitute

CTX = {
    "aws:principaltag/team": "blue",
    "aws:sourceip": "10.1.2.3",
    "aws:currenttime": "2026-01-05T09:00:00Z",
    "aws:tagkeys": ["team", "env"],
    "aws:principalarn": "arn:aws:iam::123456789012:role/ci",
    "aws:securetransport": "true",
    "ecr:resourcetag/size": "10",
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"aws:PrincipalTag/team": "blue"}}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}, True),  # values are ORed
        ({"StringEquals": {"aws:PrincipalTag/team": "Blue"}}, False),
        ({"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "Blue"}}, True),
        ({"StringNotEquals": {"aws:PrincipalTag/team": ["red", "green"]}}, True),
        ({"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}, False),
        ({"StringLike": {"aws:PrincipalTag/team": "bl*"}}, True),
        ({"StringLike": {"aws:PrincipalTag/team": "b?ue"}}, True),
        ({"StringNotLike": {"aws:PrincipalTag/team": "r*"}}, True),
        # a missing key: positive operators are false, negated ones true, IfExists true
        ({"StringEquals": {"aws:PrincipalTag/cost": "x"}}, False),
        ({"StringNotEquals": {"aws:PrincipalTag/cost": "x"}}, True),
        ({"StringEqualsIfExists": {"aws:PrincipalTag/cost": "x"}}, True),
        ({"StringEqualsIfExists": {"aws:PrincipalTag/team": "red"}}, False),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, True),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False),
        ({"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "10.1.2.3/32"]}}, True),
        ({"DateLessThan": {"aws:CurrentTime": "2026-02-01T00:00:00Z"}}, True),
        ({"DateGreaterThan": {"aws:CurrentTime": "2026-02-01T00:00:00Z"}}, False),
        ({"NumericLessThanEquals": {"ecr:ResourceTag/size": "10"}}, True),
        ({"NumericGreaterThan": {"ecr:ResourceTag/size": "10"}}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
        ({"Bool": {"aws:SecureTransport": False}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/c*"}}, True),
        ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/ci"}}, True),
        ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, True),
        ({"Null": {"aws:PrincipalTag/cost": "true"}}, True),
        ({"Null": {"aws:PrincipalTag/team": "true"}}, False),
        ({"Null": {"aws:PrincipalTag/team": "false"}}, True),
        # multivalued keys
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, True),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "owner"]}}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, False),
        ({"ForAllValues:StringEquals": {"aws:RequestTag/none": ["x"]}}, True),  # missing: vacuously true
        ({"ForAnyValue:StringEquals": {"aws:RequestTag/none": ["x"]}}, False),
        ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team"]}}, True),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["team"]}}, False),
        # several keys and operators are ANDed; key names are case-insensitive
        ({"StringEquals": {"aws:principaltag/TEAM": "blue", "aws:PrincipalArn": "x"}}, False),
        ({"StringEquals": {"AWS:PrincipalTag/team": "blue"}, "Bool": {"aws:SecureTransport": "true"}}, True),
    ],
)
def test_operator(condition, expected):
    assert conditions_match(condition, CTX) is expected


def test_policy_variables_substitute_from_the_context():
    ctx = {"aws:username": "alice", "aws:principaltag/team": "blue"}
    assert substitute("repository/${aws:username}/*", ctx) == "repository/alice/*"
    assert substitute("${aws:PrincipalTag/team}-${*}", ctx) == "blue-*"
    assert substitute("${aws:PrincipalTag/cost}", ctx) is None
    assert substitute("${aws:PrincipalTag/cost, 'none'}", ctx) == "none"
    assert conditions_match({"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/team}"}}, ctx)

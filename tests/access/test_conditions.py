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


# Values that must NOT match, operator by operator (IAM User Guide, "IAM JSON policy elements: Condition
# operators"): a test table of only matching values lets a too-lenient operator pass.
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # String operators are case-sensitive, except the IgnoreCase pair; StringLike too.
        ({"StringEquals": {"aws:PrincipalTag/team": "BLUE"}}, False),
        ({"StringEquals": {"aws:PrincipalTag/team": "blu"}}, False),
        ({"StringNotEquals": {"aws:PrincipalTag/team": "BLUE"}}, True),
        ({"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "red"}}, False),
        ({"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "BLUE"}}, False),
        ({"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": "red"}}, True),
        ({"StringLike": {"aws:PrincipalTag/team": "BL*"}}, False),
        ({"StringLike": {"aws:PrincipalTag/team": "B?ue"}}, False),
        ({"StringLike": {"aws:PrincipalTag/team": "bl"}}, False),  # no wildcard: the whole value
        ({"StringLike": {"aws:PrincipalTag/team": "?lue?"}}, False),  # ? is exactly one character
        ({"StringLike": {"aws:PrincipalTag/team": "*lu"}}, False),
        ({"StringNotLike": {"aws:PrincipalTag/team": "BL*"}}, True),
        ({"StringNotLike": {"aws:PrincipalTag/team": "bl*"}}, False),
        # Numeric and Date: the boundaries, and values that are not numbers or dates match nothing.
        ({"NumericEquals": {"ecr:ResourceTag/size": "10.0"}}, True),
        ({"NumericEquals": {"ecr:ResourceTag/size": "11"}}, False),
        ({"NumericNotEquals": {"ecr:ResourceTag/size": "10"}}, False),
        ({"NumericLessThan": {"ecr:ResourceTag/size": "10"}}, False),
        ({"NumericGreaterThanEquals": {"ecr:ResourceTag/size": "10"}}, True),
        ({"NumericGreaterThanEquals": {"ecr:ResourceTag/size": "11"}}, False),
        ({"NumericLessThan": {"ecr:ResourceTag/size": "ten"}}, False),
        ({"NumericLessThan": {"aws:PrincipalTag/team": "100"}}, False),
        ({"DateEquals": {"aws:CurrentTime": "2026-01-05T09:00:00Z"}}, True),
        ({"DateEquals": {"aws:CurrentTime": "2026-01-05T09:00:01Z"}}, False),
        ({"DateNotEquals": {"aws:CurrentTime": "2026-01-05T09:00:00Z"}}, False),
        ({"DateLessThan": {"aws:CurrentTime": "2026-01-05T09:00:00Z"}}, False),
        ({"DateLessThanEquals": {"aws:CurrentTime": "2026-01-05T09:00:00Z"}}, True),
        ({"DateGreaterThanEquals": {"aws:CurrentTime": "2026-01-06T00:00:00Z"}}, False),
        ({"DateGreaterThan": {"aws:CurrentTime": "not a date"}}, False),
        # Bool, IP
        ({"Bool": {"aws:SecureTransport": "false"}}, False),
        ({"IpAddress": {"aws:SourceIp": "10.1.2.4/32"}}, False),
        ({"IpAddress": {"aws:SourceIp": "192.168.0.0/16"}}, False),
        ({"NotIpAddress": {"aws:SourceIp": "192.168.0.0/16"}}, True),
        ({"IpAddress": {"aws:SourceIp": "not-an-ip"}}, False),
        # ARNs: case-sensitive, compared part by part; a wildcard never spans a colon.
        ({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/CI"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/C*"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:user/*"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}}, False),  # five parts: no ARN matches
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:*:role/ci"}}, False),  # * would span colons whole
        ({"ArnLike": {"aws:PrincipalArn": "arn:*:role/*"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::12345678901?:role/ci"}}, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1234567890?:role/ci"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:*:*:*:role/*"}}, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:*:*:*:*"}}, True),
        ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}, False),
        ({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/ci"}}, False),
        ({"ArnLike": {"aws:PrincipalTag/team": "arn:*:*:*:*:*"}}, False),  # not an ARN at all
        # Missing keys: every positive operator false, every negated one true, IfExists true.
        ({"StringLike": {"aws:PrincipalTag/cost": "*"}}, False),
        ({"NumericLessThan": {"aws:PrincipalTag/cost": "1"}}, False),
        ({"DateLessThan": {"aws:PrincipalTag/cost": "2030-01-01T00:00:00Z"}}, False),
        ({"ArnLike": {"aws:PrincipalTag/cost": "*"}}, False),
        ({"IpAddress": {"aws:PrincipalTag/cost": "0.0.0.0/0"}}, False),
        ({"Bool": {"aws:PrincipalTag/cost": "true"}}, False),
        ({"StringNotLike": {"aws:PrincipalTag/cost": "*"}}, True),
        ({"ArnNotLike": {"aws:PrincipalTag/cost": "*"}}, True),
        ({"NotIpAddress": {"aws:PrincipalTag/cost": "0.0.0.0/0"}}, True),
        ({"StringLikeIfExists": {"aws:PrincipalTag/cost": "x*"}}, True),
        ({"NumericLessThanIfExists": {"aws:PrincipalTag/cost": "1"}}, True),
        ({"ArnLikeIfExists": {"aws:PrincipalTag/cost": "arn:x:*:*:*:*"}}, True),
        ({"BoolIfExists": {"aws:PrincipalTag/cost": "true"}}, True),
        # IfExists changes nothing when the key is present.
        ({"StringLikeIfExists": {"aws:PrincipalTag/team": "r*"}}, False),
        ({"NumericLessThanIfExists": {"ecr:ResourceTag/size": "5"}}, False),
        ({"ArnLikeIfExists": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, False),
        ({"BoolIfExists": {"aws:SecureTransport": "false"}}, False),
        # Multivalued keys: ForAnyValue needs one match, ForAllValues needs every value to match.
        ({"ForAnyValue:StringLike": {"aws:TagKeys": ["e*"]}}, True),
        ({"ForAnyValue:StringLike": {"aws:TagKeys": ["E*"]}}, False),
        ({"ForAllValues:StringLike": {"aws:TagKeys": ["t*", "e*"]}}, True),
        ({"ForAllValues:StringLike": {"aws:TagKeys": ["t*"]}}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["TEAM", "ENV"]}}, False),
        ({"ForAllValues:StringEqualsIgnoreCase": {"aws:TagKeys": ["TEAM", "ENV"]}}, True),
        ({"ForAnyValue:StringNotLike": {"aws:TagKeys": ["*"]}}, False),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["owner"]}}, True),
        # A single-valued key under ForAnyValue is a one-element set.
        ({"ForAnyValue:StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}, True),
        ({"ForAnyValue:StringEquals": {"aws:PrincipalTag/team": ["red"]}}, False),
    ],
)
def test_operator_refusals(condition, expected):
    assert conditions_match(condition, CTX) is expected


def test_arn_like_compares_the_six_parts_with_wildcards_inside_each():
    # From the IAM reference: "Each of the six colon-delimited components of the ARN is checked
    # separately and each can include multi-character match wildcards (*) or single-character (?)".
    arn = {"aws:sourcearn": "arn:aws:ecr:us-east-1:123456789012:repository/team/app"}
    assert conditions_match({"ArnLike": {"aws:SourceArn": "arn:aws:ecr:*:123456789012:repository/team/*"}}, arn)
    assert conditions_match({"ArnLike": {"aws:SourceArn": "arn:aws:ecr:us-east-?:*:repository/*"}}, arn)
    assert not conditions_match({"ArnLike": {"aws:SourceArn": "arn:aws:ecr:*:repository/team/app"}}, arn)
    assert not conditions_match({"ArnLike": {"aws:SourceArn": "arn:aws:ecr:us-east-1:*"}}, arn)
    assert not conditions_match({"ArnLike": {"aws:SourceArn": "arn:aws:ecr:us-east-1:123456789012:REPOSITORY/*"}}, arn)
    # A colon inside the resource part (the sixth) is the resource's own and still compared.
    inner = {"aws:sourcearn": "arn:aws:logs:us-east-1:123456789012:log-group:/ecr/app:*"}
    assert conditions_match({"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:log-group:/ecr/*"}}, inner)
    assert not conditions_match({"ArnLike": {"aws:SourceArn": "arn:aws:logs:*:*:log-stream:*"}}, inner)

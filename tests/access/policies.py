"""Policy documents the access tests build again and again."""

from __future__ import annotations

import json


def trust_policy(*principals: str, service: str | None = None) -> str:
    """A role trust policy letting the AWS ``principals`` (or the AWS ``service``) assume the role."""
    principal = {"Service": service} if service else {"AWS": list(principals)}
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

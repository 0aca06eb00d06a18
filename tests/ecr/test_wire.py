"""Every operation in botocore's ECR model, walked through the moto adapter in-process and through
the lab's server: each answers, or refuses with a 4xx AWS-shaped error; none answers 5xx or retries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape

from ecrlab.ecr.params import service_model
from ecrlab.lab import ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY
from ecrlab.safety import sandbox_botocore_session

OPERATIONS = sorted(service_model().operation_names)

# Values for members whose constraints a generic generator can't meet.
KNOWN = {
    "repositoryName": "walk/repo",
    "registryId": "123456789012",
    "imageDigest": "sha256:" + "0" * 64,
    "layerDigest": "sha256:" + "0" * 64,
    "resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/walk/repo",
    "ecrRepositoryPrefix": "walk",
    "prefix": "walk",
    "upstreamRegistryUrl": "public.ecr.aws",
    "principalArn": "arn:aws:iam::123456789012:role/walker",
    "uploadId": "00000000-0000-4000-8000-000000000000",
}


def example(shape: Shape, name: str = "") -> Any:
    if name in KNOWN and shape.type_name == "string":
        return KNOWN[name]
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        return {m: example(shape.members[m], m) for m in meta.get("required", [])}
    if kind == "list":
        return [example(shape.member, name)]
    if kind == "map":
        return {}
    if kind == "string":
        if "enum" in meta:
            return meta["enum"][0]
        return "x" * max(1, meta.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, meta.get("min", 1))
    if kind == "boolean":
        return False
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return dt.datetime(2026, 1, 1)
    return None


def call_all(client) -> dict[str, str]:
    outcomes = {}
    model = service_model()
    for name in OPERATIONS:
        op = model.operation_model(name)
        params = example(op.input_shape) if op.input_shape else {}
        method = getattr(client, _snake(client, name))
        try:
            response = method(**params)
            assert response["ResponseMetadata"]["RetryAttempts"] == 0
            outcomes[name] = "ok"
        except ClientError as exc:
            meta = exc.response["ResponseMetadata"]
            assert 400 <= meta["HTTPStatusCode"] < 500, f"{name}: {exc}"
            assert meta.get("RetryAttempts", 0) == 0, name
            assert exc.response["Error"]["Message"], name
            outcomes[name] = exc.response["Error"]["Code"]
    return outcomes


def _snake(client, name: str) -> str:
    return {v: k for k, v in client.meta.method_to_api_mapping.items()}[name]


def test_every_operation_answers_in_process(lab):
    lab.client("ecr").create_repository(repositoryName="walk/repo")
    outcomes = call_all(lab.client("ecr"))
    assert set(outcomes) == set(OPERATIONS)
    assert "ServerException" not in outcomes.values()


def test_every_operation_answers_through_the_server(lab):
    session = boto3.Session(
        botocore_session=sandbox_botocore_session(),
        aws_access_key_id=ADMIN_ACCESS_KEY,
        aws_secret_access_key=ADMIN_SECRET_KEY,
        region_name=lab.region,
    )
    client = session.client("ecr", endpoint_url=lab.endpoint_url, config=Config(retries={"total_max_attempts": 1}))
    client.create_repository(repositoryName="walk/repo")
    in_server = call_all(client)
    assert "ServerException" not in in_server.values()


def test_unemulated_operation_names_itself(lab, monkeypatch):
    """An operation botocore's model has and the engine does not (as when botocore grows) answers a clear
    client error; with every operation emulated today, one is taken out of the engine's table for the test."""
    from ecrlab.ecr import OPERATIONS as EMULATED

    missing = [n for n in OPERATIONS if n not in EMULATED]
    name = missing[0] if missing else "DescribeImageSigningStatus"
    if not missing:
        monkeypatch.delitem(EMULATED, name)
    client = lab.client("ecr")
    op = service_model().operation_model(name)
    with pytest.raises(ClientError) as exc:
        getattr(client, _snake(client, name))(**(example(op.input_shape) if op.input_shape else {}))
    assert exc.value.response["Error"]["Code"] == "NotEmulatedException"
    assert name in exc.value.response["Error"]["Message"]
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_aws_cli_sees_the_state_boto3_made(lab):
    lab.client("ecr").create_repository(repositoryName="shared/state")
    out = lab.aws("ecr describe-repositories --repository-names shared/state")
    assert out.ok, out.stderr
    assert '"repositoryName": "shared/state"' in out.stdout
    made = lab.aws("ecr create-repository --repository-name from-cli --image-tag-mutability IMMUTABLE")
    assert made.ok, made.stderr
    (repo,) = lab.client("ecr").describe_repositories(repositoryNames=["from-cli"])["repositories"]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    bad = lab.aws("ecr create-repository --repository-name MyRepository")
    assert not bad.ok and "InvalidParameterException" in bad.stderr

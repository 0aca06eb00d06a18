"""Property-based: every operation of botocore's ECR model, fed valid and invalid inputs generated from
its shapes, through the raw wire and through boto3 in-process. Whatever comes in, the answer is never a
5xx, carries no Python error text, is AWS-shaped (``__type`` + ``message``), and a refused request
changes nothing. Bounded (a few examples per operation) so the suite runs in about a minute."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError, ParamValidationError
from botocore.model import Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecrlab
from ecrlab.ecr.params import service_model

OPERATIONS = sorted(service_model().operation_names)
TARGET = "AmazonEC2ContainerRegistry_V20150921."
REPO = "walk/repo"
# Members whose patterns a generic generator would rarely meet; mixed with generated values.
KNOWN = {
    "repositoryName": REPO,
    "registryId": "123456789012",
    "imageDigest": "sha256:" + "0" * 64,
    "layerDigest": "sha256:" + "0" * 64,
    "resourceArn": f"arn:aws:ecr:us-east-1:123456789012:repository/{REPO}",
    "uploadId": "00000000-0000-4000-8000-000000000000",
}
PYTHON_TEXT = re.compile(r"Traceback|File \"|(Key|Type|Value|Attribute|Index|Recursion|Overflow)Error")
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def valid(shape: Shape, name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of ``shape`` within its constraints (or near them: patterns are tried, not guaranteed)."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        required = {m: valid(shape.members[m], m, depth + 1) for m in meta.get("required", [])}
        optional = {m: valid(s, m, depth + 1) for m, s in shape.members.items() if m not in required and depth < 3}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        low = meta.get("min", 0)
        return st.lists(valid(shape.member, name, depth + 1), min_size=low, max_size=max(low, 2))
    if kind == "map":
        return st.dictionaries(valid(shape.key, "", depth + 1), valid(shape.value, "", depth + 1), max_size=2)
    if kind == "string":
        if "enum" in meta:
            return st.sampled_from(meta["enum"])
        low, high = meta.get("min", 0), min(meta.get("max", 40), 40)
        text = st.text(st.characters(codec="utf-8"), min_size=low, max_size=max(low, high))
        if name in KNOWN:
            return st.one_of(st.just(KNOWN[name]), text)
        if "pattern" in meta:
            return st.one_of(
                st.from_regex(meta["pattern"], fullmatch=True).filter(lambda v: low <= len(v) <= 300), text
            )
        return text
    if kind in ("integer", "long"):
        return st.integers(meta.get("min", -5), meta.get("max", 10**6))
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=16)
    if kind == "timestamp":
        return st.integers(0, 2_000_000_000)
    return st.none()


WRONG = st.one_of(
    st.integers(), st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=2), st.just({"x": 1})
)


def mangled(shape: Shape) -> st.SearchStrategy[dict[str, Any]]:
    """A valid input with one member replaced by a value of an arbitrary (often wrong) JSON type."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        body = draw(valid(shape))
        members = sorted(shape.members)
        if members:
            body[draw(st.sampled_from(members))] = draw(WRONG)
        return body

    return build()


def to_wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def snapshot(lab) -> Any:
    """Everything an erroring request must leave as it was."""
    with lab.engine.lock:
        return [
            (
                key,
                registry.policy_text,
                dict(registry.account_settings),
                sorted(
                    (
                        name,
                        repo.tag_mutability,
                        sorted(repo.tags.items()),
                        repo.policy_text,
                        repo.lifecycle_policy_text,
                        repo.scan_on_push,
                        sorted(repo.image_tags.items()),
                        sorted(repo.images),
                    )
                    for name, repo in registry.repositories.items()
                ),
            )
            for key, registry in sorted(lab.engine.registries.items())
        ]


@pytest.fixture(scope="module")
def lab():
    with ecrlab.start(deterministic=True) as running:
        yield running


@pytest.fixture
def ready(lab):
    """The lab with the repository the generated inputs name (a DeleteRepository may have removed it)."""
    ecr = lab.client("ecr")
    try:
        ecr.create_repository(repositoryName=REPO)
    except ClientError:
        pass
    # A live upload, so the layer operations reach their part and digest checks.
    KNOWN["uploadId"] = ecr.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    return lab


def post(lab, operation: str, body: Any) -> requests.Response:
    return requests.post(
        lab.endpoint_url,
        data=json.dumps(body),
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{lab.region}/ecr/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
        timeout=30,
    )


def check_wire(lab, operation: str, body: Any) -> None:
    before = snapshot(lab)
    answer = post(lab, operation, body)
    assert answer.status_code < 500, (operation, body, answer.text[:500])
    if answer.status_code >= 400:
        error = answer.json()
        assert set(error) >= {"__type", "message"}, error
        assert isinstance(error["message"], str) and error["message"], error
        assert not PYTHON_TEXT.search(error["message"]), error
        assert snapshot(lab) == before, (operation, body, error)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_valid_and_invalid_inputs_through_the_wire(ready, operation):
    shape = service_model().operation_model(operation).input_shape

    @SETTINGS
    @given(body=st.one_of(valid(shape), mangled(shape)) if shape is not None else st.just({}))
    def run(body):
        check_wire(ready, operation, to_wire(body))

    run()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_generated_inputs_through_boto3_in_process(ready, operation):
    shape = service_model().operation_model(operation).input_shape
    client = ready.client("ecr")
    method = getattr(client, {v: k for k, v in client.meta.method_to_api_mapping.items()}[operation])

    @SETTINGS
    @given(params=valid(shape) if shape is not None else st.just({}))
    def run(params):
        before = snapshot(ready)
        try:
            method(**params)
        except ParamValidationError:
            return  # botocore refused it on the client: nothing was sent
        except ClientError as exc:
            meta, error = exc.response["ResponseMetadata"], exc.response["Error"]
            assert meta["HTTPStatusCode"] < 500, (operation, params, error)
            assert error["Code"] and error["Message"] and not PYTHON_TEXT.search(error["Message"]), error
            assert snapshot(ready) == before, (operation, params, error)

    run()


def test_raw_wire_abuse(ready):
    for body in ("[" * 100000, '{"a":' * 5000, "nul\0l", "", "{}" * 3, '{"repositoryName": "' + "x" * 100000 + '"}'):
        answer = requests.post(
            ready.endpoint_url,
            data=body,
            headers={
                "X-Amz-Target": TARGET + "DescribeImages",
                "Content-Type": "application/x-amz-json-1.1",
                "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ecr/aws4_request, "
                "SignedHeaders=host, Signature=0",
            },
            timeout=30,
        )
        assert 400 <= answer.status_code < 500, (body[:40], answer.text[:200])
        assert not PYTHON_TEXT.search(answer.json()["message"])

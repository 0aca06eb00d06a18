"""Input checked against botocore's shapes before any handler runs, and answered as ECR answers it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys

import pytest
import requests
from botocore.exceptions import ClientError

from ecrlab.ecr.params import validate
from ecrlab.errors import (
    InvalidParameterException,
    RepositoryNotFoundException,
    SerializationException,
    error_class,
)

TARGET = "AmazonEC2ContainerRegistry_V20150921."
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def raw(lab, operation: str, body: bytes | str) -> requests.Response:
    """A hand-made request to the lab's API endpoint, as a careless or hostile client sends it."""
    return requests.post(
        lab.endpoint_url,
        data=body,
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
            # moto's server picks the service from the credential scope; the signature is not checked.
            "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{lab.region}/ecr/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
        timeout=30,
    )


def error_of(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["__type"], body["message"]


def push(ecr, repo: str, tag: str | None = None, content: bytes = b"layer") -> str:
    """Upload one layer and a config through the API and put a manifest naming them; its digest."""
    blobs = [content, b'{"architecture":"amd64","os":"linux"}']
    digests = []
    for data in blobs:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        digests.append(digest)
        if (
            ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest])["layers"][0][
                "layerAvailability"
            ]
            == "AVAILABLE"
        ):
            continue
        upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
        ecr.upload_layer_part(
            repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data
        )
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest])
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digests[1],
                "size": len(blobs[1]),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digests[0], "size": len(content)}
            ],
        }
    )
    args = {"repositoryName": repo, "imageManifest": manifest}
    if tag is not None:
        args["imageTag"] = tag
    return ecr.put_image(**args)["image"]["imageId"]["imageDigest"]


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="app")
    return "app"


# -- the raw wire --------------------------------------------------------------------------------


def test_upload_layer_part_with_a_non_string_blob_is_a_serialization_error(lab, ecr, repo):
    upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    for blob in (12345, ["a"], {"b": 1}, True):
        body = {
            "repositoryName": repo,
            "uploadId": upload,
            "partFirstByte": 0,
            "partLastByte": 0,
            "layerPartBlob": blob,
        }
        status, code, message = error_of(raw(lab, "UploadLayerPart", json.dumps(body)))
        assert (status, code) == (400, "SerializationException"), message
        assert "Traceback" not in message and "Error:" not in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[" * 100000, "SerializationException"),
        ('{"repositoryName": ' + "[" * 100000, "SerializationException"),
        ("[]", "SerializationException"),
        ('"text"', "SerializationException"),
        ("{not json", "SerializationException"),
        ('{"repositoryName": 7}', "SerializationException"),
        ('{"repositoryName": "app", "maxResults": "10"}', "SerializationException"),
        ('{"repositoryName": "app", "filter": []}', "SerializationException"),
        ('{"repositoryName": "app", "maxResults": 0}', "InvalidParameterException"),
        ('{"repositoryName": "app", "filter": {"tagStatus": "SOME"}}', "InvalidParameterException"),
        ("{}", "InvalidParameterException"),
    ],
)
def test_bad_bodies_are_4xx_aws_errors_never_500(lab, repo, body, expected):
    status, code, message = error_of(raw(lab, "ListImages", body))
    assert (status, code) == (400, expected), message
    assert "Traceback" not in message and "RecursionError" not in message


def test_a_wrong_type_anywhere_wins_over_a_broken_constraint(lab, repo):
    body = {"repositoryName": "Not-Valid", "maxResults": "ten"}
    assert error_of(raw(lab, "ListImages", json.dumps(body)))[1] == "SerializationException"


def test_an_ordinary_request_still_works_on_the_raw_wire(lab, repo):
    answer = raw(lab, "ListImages", json.dumps({"repositoryName": repo}))
    assert answer.status_code == 200 and answer.json() == {"imageIds": []}


# -- validate() directly -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error", "wording"),
    [
        ({"repositoryName": "MyRepository"}, InvalidParameterException, "must satisfy regular expression"),
        ({"repositoryName": "a"}, InvalidParameterException, "length greater than or equal to 2"),
        ({"repositoryName": "app", "imageTagMutability": "SOMETIMES"}, InvalidParameterException, "enum value set"),
        ({"repositoryName": "app", "tags": [{"Key": "k"}]}, InvalidParameterException, "'tags.1.Value'"),
        ({"repositoryName": "app", "tags": [{"Key": 1, "Value": "v"}]}, SerializationException, "NUMBER_VALUE"),
        (
            {"repositoryName": "app", "imageScanningConfiguration": {"scanOnPush": "yes"}},
            SerializationException,
            "Boolean",
        ),
        ({"repositoryName": ["app"]}, SerializationException, "Start of list"),
        ({"repositoryName": {"n": "app"}}, SerializationException, "Start of structure"),
    ],
)
def test_validate_reports_the_first_fault_with_aws_wording(params, error, wording):
    with pytest.raises(error) as exc:
        validate("CreateRepository", params)
    assert wording in exc.value.message


def test_nested_list_lengths_and_ranges_are_checked():
    with pytest.raises(InvalidParameterException, match="length less than or equal to 100"):
        validate("BatchGetImage", {"repositoryName": "app", "imageIds": [{"imageTag": "a"}] * 101})
    with pytest.raises(InvalidParameterException, match="value less than or equal to 1000"):
        validate("DescribeRepositories", {"maxResults": 1001})


def test_a_layer_part_blob_beyond_20_mib_is_refused():
    blob = base64.b64encode(b"\0" * (20 * 1024 * 1024 + 1)).decode()
    params = {
        "repositoryName": "app",
        "uploadId": "00000000-0000-4000-8000-000000000000",
        "partFirstByte": 0,
        "partLastByte": 1,
        "layerPartBlob": blob,
    }
    with pytest.raises(InvalidParameterException, match="layerPartBlob"):
        validate("UploadLayerPart", params)


# -- image tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["café", "a/b", "v1\0", "has space", "sha256:abc", "x" * 301])
def test_put_image_refuses_tags_ecr_refuses(ecr, repo, tag):
    with pytest.raises(ClientError) as exc:
        push(ecr, repo, tag)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "imageTag" in exc.value.response["Error"]["Message"]
    assert ecr.list_images(repositoryName=repo)["imageIds"] == []  # nothing was stored


def test_put_image_message_is_ecrs(lab, repo):
    body = {"repositoryName": repo, "imageManifest": "{}", "imageTag": "café"}
    _, _code, message = error_of(raw(lab, "PutImage", json.dumps(body)))
    assert message == (
        "Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '[a-zA-Z0-9-_.]+''"
    )


@pytest.mark.parametrize("tag", ["x" * 200, "x" * 300, ".hidden", "-dash", "UPPER_case.1-2"])
def test_put_image_accepts_what_ecrs_api_accepts(ecr, repo, tag):
    digest = push(ecr, repo, tag)
    assert ecr.list_images(repositoryName=repo)["imageIds"] == [{"imageDigest": digest, "imageTag": tag}]


def test_batch_apis_report_a_bad_tag_per_image_id(ecr, repo):
    push(ecr, repo, "v1")
    for call in (ecr.batch_get_image, ecr.batch_delete_image):
        answer = call(repositoryName=repo, imageIds=[{"imageTag": "café"}, {"imageTag": "v1"}])
        assert [f["failureCode"] for f in answer["failures"]] == ["InvalidImageTag"]


# -- documents and settings ----------------------------------------------------------------------


def test_account_settings_are_the_documented_ones(ecr):
    defaults = {"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "REGISTRY_POLICY_SCOPE": "V2", "BLOB_MOUNTING": "DISABLED"}
    for name, value in defaults.items():
        assert ecr.get_account_setting(name=name) == {"name": name, "value": value, **_meta(ecr, name)}
    assert ecr.put_account_setting(name="BLOB_MOUNTING", value="ENABLED")["value"] == "ENABLED"
    assert ecr.get_account_setting(name="BLOB_MOUNTING")["value"] == "ENABLED"
    for name, value in (("BLOB_MOUNTING", "ON"), ("SCAN_EVERYTHING", "V2"), ("REGISTRY_POLICY_SCOPE", "v2")):
        with pytest.raises(ClientError) as exc:
            ecr.put_account_setting(name=name, value=value)
        assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
        assert "Invalid parameter at '" in exc.value.response["Error"]["Message"]


def _meta(ecr, name):
    return {"ResponseMetadata": ecr.get_account_setting(name=name)["ResponseMetadata"]}


# -- messages defined once -----------------------------------------------------------------------


def test_templated_errors_write_ecrs_wording(ecr):
    exc = RepositoryNotFoundException("team/app", "123456789012")
    assert exc.message == "The repository with name 'team/app' does not exist in the registry with id '123456789012'"
    assert exc.code == "RepositoryNotFoundException" and error_class(exc.code) is RepositoryNotFoundException
    with pytest.raises(ClientError) as got:
        ecr.describe_images(repositoryName="team/app")
    assert got.value.response["Error"]["Message"] == exc.message
    assert InvalidParameterException.at("maxResults", "why").message == (
        "Invalid parameter at 'maxResults' failed to satisfy constraint: 'why'"
    )


# -- the model is read without the learner's AWS configuration -----------------------------------


def test_the_model_loads_whatever_profile_the_environment_names(tmp_path):
    # The model is read on first use, so the hostile variables are set after import (whether
    # ``import ecrlab`` itself survives them is the sandbox-guard suite's concern).
    hostile = {
        "AWS_PROFILE": "nonexistent",
        "AWS_DEFAULT_PROFILE": "nonexistent",
        "AWS_CONFIG_FILE": str(tmp_path / "missing-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "missing-credentials"),
    }
    code = (
        "import os; from ecrlab.ecr import params; "
        f"os.environ.update({hostile!r}); params.service_model.cache_clear(); "
        "params.validate('CreateRepository', {'repositoryName': 'ok'}); "
        "assert 'ListImages' in params.service_model().operation_names"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr

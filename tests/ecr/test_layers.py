"""The layer-upload API, layer availability and download URLs, through boto3."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="layers")
    return "layers"


def test_multipart_upload_in_order(ecr, repo, lab):
    data = os.urandom(5 * MIB) + os.urandom(1000)
    start = ecr.initiate_layer_upload(repositoryName=repo)
    assert start["partSize"] == 10 * MIB
    upload = start["uploadId"]
    first = ecr.upload_layer_part(
        repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=5 * MIB - 1, layerPartBlob=data[: 5 * MIB]
    )
    assert first["lastByteReceived"] == 5 * MIB - 1
    with pytest.raises(ClientError) as exc:  # a part that does not follow the last byte received
        ecr.upload_layer_part(
            repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=999, layerPartBlob=data[:1000]
        )
    assert code(exc) == "InvalidLayerPartException"
    ecr.upload_layer_part(
        repositoryName=repo,
        uploadId=upload,
        partFirstByte=5 * MIB,
        partLastByte=len(data) - 1,
        layerPartBlob=data[5 * MIB :],
    )
    done = ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest(data)])
    assert done["layerDigest"] == digest(data)
    check = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest(data), digest(b"no"), "bad"])
    assert check["layers"] == [
        {"layerDigest": digest(data), "layerAvailability": "AVAILABLE", "layerSize": len(data)},
        {"layerDigest": digest(b"no"), "layerAvailability": "UNAVAILABLE"},
    ]
    assert check["failures"][0]["failureCode"] == "InvalidLayerDigest"
    url = ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=digest(data))["downloadUrl"]
    assert httpx.get(url).content == data


def test_small_parts_empty_uploads_and_wrong_digests(ecr, repo):
    upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=9, layerPartBlob=b"a" * 10
    )
    ecr.upload_layer_part(
        repositoryName=repo, uploadId=upload, partFirstByte=10, partLastByte=19, layerPartBlob=b"b" * 10
    )
    with pytest.raises(ClientError) as exc:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest(b"a" * 10 + b"b" * 10)])
    assert code(exc) == "LayerPartTooSmallException"
    empty = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    with pytest.raises(ClientError) as exc:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=empty, layerDigests=[digest(b"")])
    assert code(exc) == "EmptyUploadException"
    wrong = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=wrong, partFirstByte=0, partLastByte=2, layerPartBlob=b"abc")
    with pytest.raises(ClientError) as exc:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=wrong, layerDigests=[digest(b"xyz")])
    assert code(exc) == "InvalidLayerException"
    for layer in (b"abc", b"xyz"):
        check = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest(layer)])
        assert check["layers"][0]["layerAvailability"] == "UNAVAILABLE"
    with pytest.raises(ClientError) as exc:  # the failed upload is gone
        ecr.upload_layer_part(repositoryName=repo, uploadId=wrong, partFirstByte=3, partLastByte=3, layerPartBlob=b"d")
    assert code(exc) == "UploadNotFoundException"


def test_part_range_must_match_the_bytes(ecr, repo):
    upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    with pytest.raises(ClientError) as exc:
        ecr.upload_layer_part(
            repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=99, layerPartBlob=b"short"
        )
    assert code(exc) == "InvalidLayerPartException"


def test_layer_already_exists(ecr, repo):
    for attempt in range(2):
        upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
        ecr.upload_layer_part(
            repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=3, layerPartBlob=b"same"
        )
        if attempt == 0:
            ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest(b"same")])
        else:
            with pytest.raises(ClientError) as exc:
                ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest(b"same")])
            assert code(exc) == "LayerAlreadyExistsException"


def test_unknown_upload_and_missing_layer(ecr, repo):
    with pytest.raises(ClientError) as exc:
        ecr.upload_layer_part(
            repositoryName=repo,
            uploadId="00000000-0000-4000-8000-000000000000",
            partFirstByte=0,
            partLastByte=0,
            layerPartBlob=b"x",
        )
    assert code(exc) == "UploadNotFoundException"
    with pytest.raises(ClientError) as exc:
        ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=digest(b"never"))
    assert code(exc) == "LayersNotFoundException"
    with pytest.raises(ClientError) as exc:
        ecr.initiate_layer_upload(repositoryName="missing")
    assert code(exc) == "RepositoryNotFoundException"


def test_layer_uploaded_through_the_api_is_a_registry_blob(ecr, repo, lab):
    from ecrlab.images import RegistryClient

    upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=4, layerPartBlob=b"hello")
    ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest(b"hello")])
    assert RegistryClient.for_lab(lab).get_blob(repo, digest(b"hello")) == b"hello"


def test_push_events_are_recorded(ecr, repo, lab):
    upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=4, layerPartBlob=b"hello")
    ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest(b"hello")])
    names = [e["eventName"] for e in lab.trail.records]
    assert names[-3:] == ["InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload"]
    assert "layerPartBlob" not in lab.trail.records[-2]["requestParameters"]


def test_copy_layer_between_registries(ecr, repo, lab):
    from ecrlab.ecr.layers import copy_layer, layer_links
    from ecrlab.images import RegistryClient

    upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=4, layerPartBlob=b"hello")
    ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest(b"hello")])
    other = lab.account("210987654321")  # its administrator: the lab's is a stranger there
    other.client("ecr").create_repository(repositoryName="copy")
    engine = lab.engine
    with engine.lock:
        source = engine.repository(lab.account_id, lab.region, repo)
        target = engine.repository("210987654321", lab.region, "copy")
        copy_layer(engine, source, target, digest(b"hello"))
        assert layer_links(target) == {digest(b"hello"): 5}
    registry = RegistryClient.for_lab(lab, session=other.session(), account_id="210987654321")
    assert registry.get_blob("copy", digest(b"hello")) == b"hello"

"""The archive storage class through boto3, the AWS CLI, the registry and a real client (skopeo)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

import ecrlab
from ecrlab.errors import RegistryClientError
from ecrlab.images import RegistryClient
from tests.conftest import require_tool
from tests.images.random_images import random_image


@pytest.fixture(scope="module")
def lab():
    with ecrlab.start(deterministic=True) as running:
        yield running


@pytest.fixture(scope="module")
def ecr(lab):
    return lab.client("ecr")


def push(lab, repository: str, name: str, tag: str | None = "v1", **kwargs) -> tuple[str, object]:
    image = random_image(layers=1, shared=[name.encode()], **kwargs)
    client = RegistryClient.for_lab(lab)
    try:
        return client.push(image, repository, tag).digest, image
    finally:
        client.close()


def pull_manifest(lab, repository: str, reference: str) -> bytes:
    client = RegistryClient.for_lab(lab)
    try:
        return client.get_manifest(repository, reference)[0]
    finally:
        client.close()


def error_code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def status(ecr, repository: str, digest: str) -> dict:
    return ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])["imageDetails"][0]


def test_archived_image_is_listed_only_on_request_and_cannot_be_pulled(lab, ecr):
    ecr.create_repository(repositoryName="archive/app", imageScanningConfiguration={"scanOnPush": True})
    digest, image = push(lab, "archive/app", "old")
    kept, _ = push(lab, "archive/app", "kept", tag="v2")
    answer = ecr.update_image_storage_class(
        repositoryName="archive/app", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )
    assert answer["imageStatus"] == "ARCHIVED"
    assert answer["imageId"] == {"imageDigest": digest, "imageTag": "v1"}

    # Only ACTIVE images unless the filter asks
    listed = ecr.describe_images(repositoryName="archive/app")["imageDetails"]
    assert [d["imageDigest"] for d in listed] == [kept]
    assert ecr.list_images(repositoryName="archive/app")["imageIds"] == [{"imageDigest": kept, "imageTag": "v2"}]
    (archived,) = ecr.describe_images(repositoryName="archive/app", filter={"imageStatus": "ARCHIVED"})["imageDetails"]
    assert archived["imageStatus"] == "ARCHIVED" and archived["lastArchivedAt"] and "lastActivatedAt" not in archived
    assert archived["imageScanStatus"]["status"] == "IMAGE_ARCHIVED"
    assert len(ecr.list_images(repositoryName="archive/app", filter={"imageStatus": "ANY"})["imageIds"]) == 2

    # No pull on either plane
    failures = ecr.batch_get_image(repositoryName="archive/app", imageIds=[{"imageTag": "v1"}])["failures"]
    assert [(f["failureCode"], "archived" in f["failureReason"]) for f in failures] == [("ImageNotFound", True)]
    with pytest.raises(RegistryClientError) as refused:
        pull_manifest(lab, "archive/app", "v1")
    assert (refused.value.status, refused.value.code) == (404, "MANIFEST_UNKNOWN")

    # Its layer is ARCHIVED (only archived images use it); no download URL for it
    layer = image.layers[0].digest
    (checked,) = ecr.batch_check_layer_availability(repositoryName="archive/app", layerDigests=[layer])["layers"]
    assert checked["layerAvailability"] == "ARCHIVED"
    with pytest.raises(ClientError) as inaccessible:
        ecr.get_download_url_for_layer(repositoryName="archive/app", layerDigest=layer)
    assert error_code(inaccessible) == "LayerInaccessibleException"
    with pytest.raises(ClientError) as not_scanned:
        ecr.start_image_scan(repositoryName="archive/app", imageId={"imageDigest": digest})
    assert error_code(not_scanned) == "ImageArchivedException"


def test_restore_takes_twenty_minutes_of_lab_time_then_scans_again(lab, ecr):
    digest = ecr.describe_images(repositoryName="archive/app", filter={"imageStatus": "ARCHIVED"})["imageDetails"][0][
        "imageDigest"
    ]
    answer = ecr.update_image_storage_class(
        repositoryName="archive/app", imageId={"imageDigest": digest}, targetStorageClass="STANDARD"
    )
    assert answer["imageStatus"] == "ACTIVATING"
    activating = ecr.describe_images(repositoryName="archive/app", filter={"imageStatus": "ACTIVATING"})
    assert [d["imageDigest"] for d in activating["imageDetails"]] == [digest]
    with pytest.raises(ClientError) as busy:  # a restore under way cannot be archived again or restored twice
        ecr.update_image_storage_class(
            repositoryName="archive/app", imageId={"imageDigest": digest}, targetStorageClass="STANDARD"
        )
    assert error_code(busy) == "ImageStorageClassUpdateNotSupportedException"
    lab.clock.advance(minutes=19)
    assert status(ecr, "archive/app", digest)["imageStatus"] == "ACTIVATING"
    with pytest.raises(RegistryClientError):
        pull_manifest(lab, "archive/app", digest)
    lab.clock.advance(minutes=1)
    restored = status(ecr, "archive/app", digest)
    assert restored["imageStatus"] == "ACTIVE"
    assert restored["lastActivatedAt"] - restored["lastArchivedAt"] >= timedelta(minutes=20)
    # scan on push runs again for the restored image (the scan from before the archive is gone)
    assert restored["imageScanStatus"]["status"] in ("IN_PROGRESS", "COMPLETE")
    assert json.loads(pull_manifest(lab, "archive/app", "v1"))["layers"]


def test_a_re_push_restores_at_once(lab, ecr):
    ecr.create_repository(repositoryName="archive/repush")
    digest, image = push(lab, "archive/repush", "again")
    ecr.update_image_storage_class(
        repositoryName="archive/repush", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )
    client = RegistryClient.for_lab(lab)
    try:
        assert client.push(image, "archive/repush", "v1").digest == digest
    finally:
        client.close()
    detail = status(ecr, "archive/repush", digest)
    assert detail["imageStatus"] == "ACTIVE" and detail["lastActivatedAt"] >= detail["lastArchivedAt"]
    assert pull_manifest(lab, "archive/repush", "v1") == image.manifest


def test_moves_ecr_cannot_make_are_refused(lab, ecr):
    ecr.create_repository(repositoryName="archive/refused")
    digest, _ = push(lab, "archive/refused", "refused")
    with pytest.raises(ClientError) as active:
        ecr.update_image_storage_class(
            repositoryName="archive/refused", imageId={"imageDigest": digest}, targetStorageClass="STANDARD"
        )
    assert error_code(active) == "ImageStorageClassUpdateNotSupportedException"
    ecr.update_image_storage_class(
        repositoryName="archive/refused", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )
    with pytest.raises(ClientError) as twice:
        ecr.update_image_storage_class(
            repositoryName="archive/refused", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
        )
    assert error_code(twice) == "ImageStorageClassUpdateNotSupportedException"
    with pytest.raises(ClientError) as missing:
        ecr.update_image_storage_class(
            repositoryName="archive/refused", imageId={"imageTag": "nope"}, targetStorageClass="ARCHIVE"
        )
    assert error_code(missing) == "ImageNotFoundException"
    # an archived image can still be deleted (the 90-day minimum binds lifecycle rules, not BatchDeleteImage)
    deleted = ecr.batch_delete_image(repositoryName="archive/refused", imageIds=[{"imageDigest": digest}])
    assert deleted["failures"] == [] and {"imageDigest": digest, "imageTag": "v1"} in deleted["imageIds"]


def test_aws_cli_archives_and_filters(lab, ecr):
    ecr.create_repository(repositoryName="archive/cli")
    digest, _ = push(lab, "archive/cli", "cli")
    out = lab.aws(
        "ecr update-image-storage-class --repository-name archive/cli --image-id imageTag=v1 "
        "--target-storage-class ARCHIVE"
    )
    assert out.ok and json.loads(out.stdout)["imageStatus"] == "ARCHIVED"
    listed = lab.aws("ecr describe-images --repository-name archive/cli --filter imageStatus=ARCHIVED")
    assert [d["imageDigest"] for d in json.loads(listed.stdout)["imageDetails"]] == [digest]
    assert json.loads(lab.aws("ecr describe-images --repository-name archive/cli").stdout)["imageDetails"] == []
    again = lab.aws(
        "ecr update-image-storage-class --repository-name archive/cli --image-id imageTag=v1 "
        "--target-storage-class ARCHIVE"
    )
    assert not again.ok and "ImageStorageClassUpdateNotSupportedException" in again.stderr


@pytest.mark.realclient
def test_skopeo_cannot_pull_an_archived_image(lab, ecr, tmp_path):
    skopeo = require_tool("skopeo")
    ecr.create_repository(repositoryName="archive/skopeo")
    push(lab, "archive/skopeo", "skopeo")
    ecr.update_image_storage_class(
        repositoryName="archive/skopeo", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    creds = base64.b64decode(token).decode()
    result = subprocess.run(
        [
            skopeo,
            "--insecure-policy",
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            creds,
            f"docker://{lab.registry}/archive/skopeo:v1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")},
        check=False,
    )
    assert result.returncode != 0
    assert "manifest unknown" in result.stderr


def test_a_restored_image_is_replicated_again(lab, ecr):
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [
                {
                    "destinations": [{"region": "us-west-2", "registryId": lab.account_id}],
                    "repositoryFilters": [{"filter": "archive/replicated", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    ecr.create_repository(repositoryName="archive/replicated")
    digest, _ = push(lab, "archive/replicated", "replicated")
    lab.clock.advance(minutes=1)
    west = lab.client("ecr", region_name="us-west-2")
    assert [d["imageDigest"] for d in west.describe_images(repositoryName="archive/replicated")["imageDetails"]] == [
        digest
    ]
    west.batch_delete_image(repositoryName="archive/replicated", imageIds=[{"imageDigest": digest}])
    ecr.update_image_storage_class(
        repositoryName="archive/replicated", imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )
    ecr.update_image_storage_class(
        repositoryName="archive/replicated", imageId={"imageDigest": digest}, targetStorageClass="STANDARD"
    )
    lab.clock.advance(minutes=19)
    assert west.describe_images(repositoryName="archive/replicated")["imageDetails"] == []
    lab.clock.advance(minutes=2)  # the restore completes at 20 minutes, the replica arrives 30 seconds later
    assert [d["imageDigest"] for d in west.describe_images(repositoryName="archive/replicated")["imageDetails"]] == [
        digest
    ]
    ecr.put_replication_configuration(replicationConfiguration={"rules": []})

"""Image operations through boto3, checked against how real ECR behaves (ecr-facts.md)."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from botocore.exceptions import ClientError

from ecrlab.images import Image, RegistryClient
from tests.images.random_images import random_image

DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def upload_blobs(ecr, repo: str, image: Image) -> None:
    for digest, data in ((blob.digest, blob.data) for blob in image.blobs()):
        upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
        ecr.upload_layer_part(
            repositoryName=repo, uploadId=upload, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data
        )
        ecr.complete_layer_upload(repositoryName=repo, uploadId=upload, layerDigests=[digest])


def put(ecr, repo: str, image: Image, tag: str | None = None, **extra) -> dict:
    args = {"repositoryName": repo, "imageManifest": image.manifest.decode(), **extra}
    if tag:
        args["imageTag"] = tag
    return ecr.put_image(**args)["image"]


@pytest.fixture
def repo(ecr):
    ecr.create_repository(repositoryName="app")
    return "app"


def pushed(ecr, repo, tag=None, **kwargs) -> Image:
    image = random_image(**kwargs)
    upload_blobs(ecr, repo, image)
    put(ecr, repo, image, tag)
    return image


def test_put_image_digest_is_sha256_of_the_manifest_bytes(ecr, repo):
    image = random_image(layers=2, layer_size=100)
    upload_blobs(ecr, repo, image)
    result = put(ecr, repo, image, "v1")
    assert result["imageId"] == {
        "imageDigest": "sha256:" + hashlib.sha256(image.manifest).hexdigest(),
        "imageTag": "v1",
    }
    assert result["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert result["registryId"] == "123456789012" and result["repositoryName"] == repo


def test_put_image_errors(ecr, repo):
    image = random_image()
    with pytest.raises(ClientError) as exc:
        put(ecr, repo, image, "v1")
    assert code(exc) == "LayersNotFoundException"
    upload_blobs(ecr, repo, image)
    with pytest.raises(ClientError) as exc:
        put(ecr, repo, image, "v1", imageDigest="sha256:" + "0" * 64)
    assert code(exc) == "ImageDigestDoesNotMatchException"
    put(ecr, repo, image, "v1")
    with pytest.raises(ClientError) as exc:
        put(ecr, repo, image, "v1")
    assert code(exc) == "ImageAlreadyExistsException"
    with pytest.raises(ClientError) as exc:
        ecr.put_image(repositoryName=repo, imageManifest="{not json")
    assert code(exc) == "InvalidParameterException" and "Invalid JSON syntax" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        ecr.put_image(repositoryName="missing", imageManifest=image.manifest.decode())
    assert code(exc) == "RepositoryNotFoundException"


def test_manifest_without_media_type_needs_the_parameter(ecr, repo):
    image = random_image()
    upload_blobs(ecr, repo, image)
    doc = json.loads(image.manifest)
    del doc["mediaType"]
    bare = json.dumps(doc)
    with pytest.raises(ClientError) as exc:
        ecr.put_image(repositoryName=repo, imageManifest=bare)
    assert code(exc) == "InvalidParameterException"
    out = ecr.put_image(
        repositoryName=repo, imageManifest=bare, imageManifestMediaType="application/vnd.oci.image.manifest.v1+json"
    )
    assert out["image"]["imageId"]["imageDigest"] == "sha256:" + hashlib.sha256(bare.encode()).hexdigest()


def test_docker_schema2_media_type_detected(ecr, repo):
    image = random_image()
    doc = json.loads(image.manifest)
    doc["mediaType"] = DOCKER_V2
    doc["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
    docker = dataclasses.replace(image, manifest=json.dumps(doc).encode(), media_type=DOCKER_V2)
    upload_blobs(ecr, repo, docker)
    put(ecr, repo, docker, "v1")
    (detail,) = ecr.describe_images(repositoryName=repo)["imageDetails"]
    assert detail["imageManifestMediaType"] == DOCKER_V2
    assert detail["artifactMediaType"] == "application/vnd.docker.container.image.v1+json"


def test_retag_keeps_push_time_and_moves_tags(ecr, repo, lab):
    first = pushed(ecr, repo, "latest")
    pushed_at = ecr.describe_images(repositoryName=repo)["imageDetails"][0]["imagePushedAt"]
    lab.clock.advance(days=1)
    put(ecr, repo, first, "v1")  # re-tag: BatchGetImage then PutImage with a new tag
    (detail,) = ecr.describe_images(repositoryName=repo)["imageDetails"]
    assert detail["imagePushedAt"] == pushed_at and sorted(detail["imageTags"]) == ["latest", "v1"]
    second = pushed(ecr, repo, "latest")
    details = {d["imageDigest"]: d for d in ecr.describe_images(repositoryName=repo)["imageDetails"]}
    assert details[first.digest]["imageTags"] == ["v1"] and details[second.digest]["imageTags"] == ["latest"]


def test_immutable_tags_and_exclusions(ecr, repo):
    ecr.put_image_tag_mutability(
        repositoryName=repo,
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[
            {"filterType": "WILDCARD", "filter": "latest"},
            {"filterType": "WILDCARD", "filter": "dev-*"},
        ],
    )
    pushed(ecr, repo, "v1")
    pushed(ecr, repo, "latest")
    pushed(ecr, repo, "dev-42")
    pushed(ecr, repo, "latest")  # excluded: stays mutable
    pushed(ecr, repo, "dev-42")
    with pytest.raises(ClientError) as exc:
        pushed(ecr, repo, "v1")
    assert code(exc) == "ImageTagAlreadyExistsException"
    assert "cannot be overwritten because the tag is immutable" in str(exc.value)
    ecr.put_image_tag_mutability(
        repositoryName=repo,
        imageTagMutability="MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "release-*"}],
    )
    pushed(ecr, repo, "release-1")
    pushed(ecr, repo, "v1")  # now mutable
    with pytest.raises(ClientError) as exc:
        pushed(ecr, repo, "release-1")
    assert code(exc) == "ImageTagAlreadyExistsException"


def test_index_needs_its_manifests(ecr, repo):
    child = random_image()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": child.media_type, "digest": child.digest, "size": len(child.manifest)}],
        }
    )
    with pytest.raises(ClientError) as exc:
        ecr.put_image(repositoryName=repo, imageManifest=index, imageTag="multi")
    assert code(exc) == "ReferencedImagesNotFoundException"
    upload_blobs(ecr, repo, child)
    put(ecr, repo, child)
    ecr.put_image(repositoryName=repo, imageManifest=index, imageTag="multi")
    out = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": child.digest}])
    assert out["failures"][0]["failureCode"] == "ImageReferencedByManifestList"


def test_batch_get_image_and_failures(ecr, repo, lab):
    image = pushed(ecr, repo, "v1")
    lab.clock.advance(hours=1)
    out = ecr.batch_get_image(
        repositoryName=repo,
        imageIds=[
            {"imageTag": "v1"},
            {"imageTag": "nope"},
            {"imageDigest": "sha256:" + "1" * 64, "imageTag": "v1"},
            {"imageDigest": "bad"},
            {},
        ],
        acceptedMediaTypes=["application/vnd.oci.image.manifest.v1+json"],
    )
    assert [i["imageId"] for i in out["images"]] == [{"imageDigest": image.digest, "imageTag": "v1"}]
    assert out["images"][0]["imageManifest"].encode() == image.manifest
    assert [f["failureCode"] for f in out["failures"]] == [
        "ImageNotFound",
        "ImageTagDoesNotMatchDigest",
        "InvalidImageDigest",
        "MissingDigestAndTag",
    ]
    detail = ecr.describe_images(repositoryName=repo)["imageDetails"][0]
    assert detail["lastRecordedPullTime"] == lab.clock.now()


def test_describe_images_newest_first_paginated_and_filtered(ecr, repo):
    tagged = [pushed(ecr, repo, f"v{i}") for i in range(5)]
    untagged = [pushed(ecr, repo) for _ in range(2)]
    all_digests = [i.digest for i in reversed(tagged + untagged)]
    first = ecr.describe_images(repositoryName=repo, maxResults=3)
    assert [d["imageDigest"] for d in first["imageDetails"]] == all_digests[:3]
    pages = ecr.get_paginator("describe_images").paginate(repositoryName=repo, PaginationConfig={"PageSize": 2})
    assert [d["imageDigest"] for page in pages for d in page["imageDetails"]] == all_digests
    only = ecr.describe_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageDetails"]
    assert [d["imageDigest"] for d in only] == [i.digest for i in reversed(untagged)]
    assert all(d["imageSizeInBytes"] == 1024 for d in only)
    with pytest.raises(ClientError) as exc:
        ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "missing"}])
    assert code(exc) == "ImageNotFoundException"


def test_list_images_one_entry_per_tag(ecr, repo):
    image = pushed(ecr, repo, "a")
    put(ecr, repo, image, "b")
    bare = pushed(ecr, repo)
    ids = ecr.list_images(repositoryName=repo)["imageIds"]
    assert sorted(map(str, ids)) == sorted(
        map(
            str,
            [
                {"imageDigest": image.digest, "imageTag": "a"},
                {"imageDigest": image.digest, "imageTag": "b"},
                {"imageDigest": bare.digest},
            ],
        )
    )
    assert ecr.list_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})["imageIds"] == [
        {"imageDigest": bare.digest}
    ]
    pages = list(ecr.get_paginator("list_images").paginate(repositoryName=repo, PaginationConfig={"PageSize": 1}))
    assert len(pages) == 3


def test_batch_delete_image(ecr, repo):
    image = pushed(ecr, repo, "a")
    put(ecr, repo, image, "b")
    out = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "a"}, {"imageTag": "zzz"}])
    assert out["imageIds"] == [{"imageDigest": image.digest, "imageTag": "a"}]
    assert out["failures"] == [
        {"imageId": {"imageTag": "zzz"}, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"}
    ]
    assert ecr.describe_images(repositoryName=repo)["imageDetails"][0]["imageTags"] == ["b"]
    # Removing the last tag removes the image.
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "b"}])
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []
    other = pushed(ecr, repo, "c")
    out = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": other.digest}])
    assert out["imageIds"] == [{"imageDigest": other.digest, "imageTag": "c"}] and out["failures"] == []


def test_list_image_referrers_agrees_with_the_registry(ecr, repo, lab):
    """ListImageReferrers (authorized as ecr:BatchGetImage) lists what the data plane's referrers API lists."""
    subject = pushed(ecr, repo, "v1")
    descriptor = {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.manifest)}
    kinds = ["application/vnd.example.signature", "application/vnd.example.sbom", "application/vnd.example.signature"]
    artifacts = [pushed(ecr, repo, subject=descriptor, artifact_type=kind) for kind in kinds]
    pushed(ecr, repo, "unrelated")

    listed = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject.digest})["referrers"]
    assert [r["digest"] for r in listed] == [a.digest for a in artifacts]
    assert listed[0] == {
        "digest": artifacts[0].digest,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.signature",
        "size": len(artifacts[0].manifest),
        "artifactStatus": "ACTIVE",
    }
    registry = RegistryClient.for_lab(lab)
    over_http = registry.http.get(f"/v2/{repo}/referrers/{subject.digest}").json()["manifests"]
    registry.close()
    assert [m["digest"] for m in over_http] == [r["digest"] for r in listed]

    sboms = ecr.list_image_referrers(
        repositoryName=repo,
        subjectId={"imageDigest": subject.digest},
        filter={"artifactTypes": ["application/vnd.example.sbom"]},
    )["referrers"]
    assert [r["digest"] for r in sboms] == [artifacts[1].digest]
    archived = ecr.list_image_referrers(
        repositoryName=repo, subjectId={"imageDigest": subject.digest}, filter={"artifactStatus": "ARCHIVED"}
    )
    assert archived["referrers"] == []

    first = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject.digest}, maxResults=2)
    rest = ecr.list_image_referrers(
        repositoryName=repo, subjectId={"imageDigest": subject.digest}, maxResults=2, nextToken=first["nextToken"]
    )
    assert [r["digest"] for r in first["referrers"] + rest["referrers"]] == [a.digest for a in artifacts]
    assert "nextToken" not in rest
    nothing = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": artifacts[0].digest})
    assert nothing["referrers"] == []

"""Pushing and pulling through /v2/ shares one state with the ECR API."""

from __future__ import annotations

import base64
import hashlib
import json

from ecrlab.images import RegistryClient
from tests.images.random_images import random_image


def test_push_is_an_image_in_describe_images(registry, repo, ecr, lab):
    image = random_image(layers=2, layer_size=3000)
    digest = registry.push(image, repo, "v1").digest
    assert digest == "sha256:" + hashlib.sha256(image.manifest).hexdigest()
    (detail,) = ecr.describe_images(repositoryName=repo)["imageDetails"]
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == 6000
    assert detail["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert detail["artifactMediaType"] == "application/vnd.oci.image.config.v1+json"
    got = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])["images"][0]
    assert got["imageManifest"].encode() == image.manifest


def test_put_image_can_be_pulled(registry, repo, ecr):
    image = random_image()
    for data in (blob.data for blob in image.blobs()):
        upload = ecr.initiate_layer_upload(repositoryName=repo)
        ecr.upload_layer_part(
            repositoryName=repo,
            uploadId=upload["uploadId"],
            partFirstByte=0,
            partLastByte=len(data) - 1,
            layerPartBlob=data,
        )
        ecr.complete_layer_upload(
            repositoryName=repo,
            uploadId=upload["uploadId"],
            layerDigests=["sha256:" + hashlib.sha256(data).hexdigest()],
        )
    ecr.put_image(repositoryName=repo, imageManifest=image.manifest.decode(), imageTag="api")
    body, media_type = registry.get_manifest(repo, "api")
    assert body == image.manifest and media_type == "application/vnd.oci.image.manifest.v1+json"
    for blob in image.blobs():
        assert registry.get_blob(repo, blob.digest) == blob.data


def test_pull_records_last_pull_time(registry, repo, ecr, lab):
    registry.push(random_image(), repo, "v1")
    assert "lastRecordedPullTime" not in ecr.describe_images(repositoryName=repo)["imageDetails"][0]
    registry.http.head(f"/v2/{repo}/manifests/v1")
    assert "lastRecordedPullTime" not in ecr.describe_images(repositoryName=repo)["imageDetails"][0]
    lab.clock.advance(hours=3)  # within the token's 12 hours
    registry.get_manifest(repo, "v1")
    assert ecr.describe_images(repositoryName=repo)["imageDetails"][0]["lastRecordedPullTime"] == lab.clock.now()


def test_chunked_upload_and_transfer_encoding_chunked(registry, repo):
    data = b"".join(bytes([i]) * 1000 for i in range(10))
    digest = registry.push_blob(repo, data, chunk_size=4000)
    assert registry.get_blob(repo, digest) == data
    # A body with no Content-Length, sent chunked as skopeo sends it.
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")

    def body():
        yield data[:5000]
        yield data[5000:]

    patch = registry.http.patch(start.headers["Location"], content=body())
    assert patch.status_code == 202 and patch.headers["Range"] == f"0-{len(data) - 1}"
    done = registry.http.put(patch.headers["Location"], params={"digest": digest})
    assert done.status_code == 201


def test_get_download_url_for_layer_really_downloads(registry, repo, ecr, lab):
    image = random_image(layer_size=5000)
    registry.push(image, repo, "v1")
    layer = image.layers[0].digest
    url = ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=layer)["downloadUrl"]
    import httpx

    assert httpx.get(url).content == image.layers[0].data
    lab.clock.advance(hours=2)
    assert httpx.get(url).status_code == 403


def test_authorization_token_shape(ecr, lab):
    data = ecr.get_authorization_token()["authorizationData"]
    assert len(data) == 1
    user, password = base64.b64decode(data[0]["authorizationToken"]).decode().split(":", 1)
    assert user == "AWS" and password
    assert data[0]["proxyEndpoint"] == f"http://{lab.registry}"
    assert (data[0]["expiresAt"] - lab.clock.now()).total_seconds() == 12 * 3600


def test_second_account_registry(lab, ecr):
    other = lab.registry_endpoint("210987654321")
    assert other != lab.registry and lab.registry_endpoint("210987654321") == other
    data = ecr.get_authorization_token(registryIds=["210987654321"])["authorizationData"]
    assert data[0]["proxyEndpoint"] == f"http://{other}"


def test_registry_actions_are_recorded_as_ecr_events(registry, repo, lab):
    image = random_image()
    registry.push(image, repo, "v1")
    registry.get_manifest(repo, "v1")
    registry.get_blob(repo, image.layers[0].digest)
    events = [e for e in lab.trail.records if e["eventName"] != "GetAuthorizationToken"]
    names = [e["eventName"] for e in events]
    assert names[names.index("InitiateLayerUpload") :][:3] == [
        "InitiateLayerUpload",
        "UploadLayerPart",
        "CompleteLayerUpload",
    ]
    assert names[-3:] == ["PutImage", "BatchGetImage", "GetDownloadUrlForLayer"]
    assert all(e["userIdentity"]["arn"] == "arn:aws:iam::123456789012:root" for e in events)


def test_token_carries_the_principal_that_asked(lab, repo):
    iam = lab.client("iam")
    user = iam.create_user(UserName="alice")["User"]
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    alice_ecr = lab.session(user="alice").client("ecr")
    token = alice_ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    RegistryClient(lab.registry, token).http.get(f"/v2/{repo}/tags/list")
    assert lab.trail.records[-1]["eventName"] == "ListImages"
    assert lab.trail.records[-1]["userIdentity"]["arn"] == user["Arn"]


def test_one_token_opens_another_accounts_registry(lab, ecr):
    other = "210987654321"
    # The other account creates the repository and lets the lab's account push, pull and list there.
    owner = lab.account(other).client("ecr")
    owner.create_repository(repositoryName="shared/app")
    grant = {"Effect": "Allow", "Principal": {"AWS": lab.account_id}, "Action": ["ecr:*"]}
    owner.set_repository_policy(
        repositoryName="shared/app", policyText=json.dumps({"Version": "2012-10-17", "Statement": [grant]})
    )
    client = RegistryClient.for_lab(lab, account_id=other)
    assert client.base_url == f"http://{lab.registry_endpoint(other)}"
    image = random_image()
    client.push(image, "shared/app", "v1")
    (detail,) = ecr.describe_images(registryId=other, repositoryName="shared/app")["imageDetails"]
    assert detail["registryId"] == other and detail["imageDigest"] == image.digest
    # The lab account's registry is another registry: the repository is not there.
    mine = RegistryClient.for_lab(lab)
    assert mine.http.get("/v2/shared/app/tags/list").status_code == 404

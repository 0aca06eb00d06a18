"""The OCI Distribution spec v1.1 points the conformance suite checks, each with its own test here
(pull, push, content discovery, content management)."""

from __future__ import annotations

import json

import httpx

from ecrlab.oci import OCI_MANIFEST, sha256_digest
from tests.images.random_images import random_image

EMPTY = b"{}"
EMPTY_DIGEST = sha256_digest(EMPTY)


def oci_error(response: httpx.Response) -> str:
    body = response.json()
    assert isinstance(body["errors"], list) and body["errors"][0]["message"]
    return body["errors"][0]["code"]


# -- auth and ping ------------------------------------------------------------------------------
def test_ping_requires_basic_credentials(registry, lab):
    assert registry.http.get("/v2/").status_code == 200
    bare = httpx.get(f"http://{lab.registry}/v2/")
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"].startswith(
        'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"'
    )
    assert oci_error(bare) == "UNAUTHORIZED"


# -- pull ---------------------------------------------------------------------------------------
def test_blob_head_and_get(registry, repo):
    image = random_image(layer_size=777)
    registry.push(image, repo, "v1")
    for blob in image.blobs():
        digest, data = blob.digest, blob.data
        head = registry.http.head(f"/v2/{repo}/blobs/{digest}")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Length"] == str(len(data)) and head.headers["Docker-Content-Digest"] == digest
        assert registry.http.get(f"/v2/{repo}/blobs/{digest}").content == data
    missing = sha256_digest(b"never pushed")
    assert registry.http.head(f"/v2/{repo}/blobs/{missing}").status_code == 404
    assert oci_error(registry.http.get(f"/v2/{repo}/blobs/{missing}")) == "BLOB_UNKNOWN"


def test_blob_range_get(registry, repo):
    digest = registry.push_blob(repo, bytes(range(256)) * 4)
    partial = registry.http.get(f"/v2/{repo}/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206 and partial.content == bytes(range(10, 20))


def test_manifest_get_and_head_by_tag_and_digest(registry, repo):
    image = random_image()
    registry.push(image, repo, "v1")
    for reference in ("v1", image.digest):
        got = registry.http.get(f"/v2/{repo}/manifests/{reference}")
        assert got.status_code == 200 and got.content == image.manifest
        assert got.headers["Content-Type"] == image.media_type
        assert got.headers["Docker-Content-Digest"] == image.digest
        head = registry.http.head(f"/v2/{repo}/manifests/{reference}")
        assert head.status_code == 200 and head.headers["Content-Length"] == str(len(image.manifest))
    for reference in ("nope", ".INVALID_MANIFEST_NAME"):
        unknown = registry.http.get(f"/v2/{repo}/manifests/{reference}")
        assert unknown.status_code == 404 and oci_error(unknown) == "MANIFEST_UNKNOWN"
        assert registry.http.head(f"/v2/{repo}/manifests/{reference}").status_code == 404
    assert registry.http.head(f"/v2/{repo}/manifests/{sha256_digest(b'x')}").status_code == 404


# -- push ---------------------------------------------------------------------------------------
def test_invalid_manifest_put_is_a_400_with_an_oci_error_body(registry, repo):
    put = registry.http.put(
        f"/v2/{repo}/manifests/sha256:totallywrong",
        content=b"blablabla",
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert put.status_code == 400 and oci_error(put) in ("DIGEST_INVALID", "MANIFEST_INVALID")


def test_streamed_patch_without_content_range(registry, repo):
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    patch = registry.http.patch(
        start.headers["Location"], content=b"streamed blob", headers={"Content-Type": "application/octet-stream"}
    )
    assert patch.status_code == 202 and patch.headers["Range"] == "0-12"
    put = registry.http.put(patch.headers["Location"], params={"digest": sha256_digest(b"streamed blob")})
    assert put.status_code == 201 and put.headers["Location"]


def test_monolithic_post_and_post_then_put(registry, repo):
    data = b"monolithic"
    post = registry.http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": sha256_digest(data)}, content=data)
    assert post.status_code == 201 and post.headers["Location"] == f"/v2/{repo}/blobs/{sha256_digest(data)}"
    assert registry.http.get(post.headers["Location"]).content == data
    other = b"post then put"
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    assert start.status_code == 202 and start.headers["Location"]
    put = registry.http.put(start.headers["Location"], params={"digest": sha256_digest(other)}, content=other)
    assert put.status_code == 201 and registry.get_blob(repo, sha256_digest(other)) == other


def test_upload_status_is_204_with_range_and_location(registry, repo):
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    status = registry.http.get(start.headers["Location"])
    assert status.status_code == 204 and status.headers["Range"] == "0-0" and status.headers["Location"]
    patch = registry.http.patch(start.headers["Location"], content=b"a" * 10, headers={"Content-Range": "0-9"})
    status = registry.http.get(patch.headers["Location"])
    assert status.status_code == 204 and status.headers["Range"] == "0-9"
    assert status.headers["Location"] == patch.headers["Location"]


def test_out_of_order_and_repeated_chunks_get_416(registry, repo):
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    location = start.headers["Location"]
    first = registry.http.patch(location, content=b"a" * 10, headers={"Content-Range": "0-9", "Content-Length": "10"})
    assert first.status_code == 202
    repeated = registry.http.patch(location, content=b"a" * 10, headers={"Content-Range": "0-9"})
    skipped = registry.http.patch(location, content=b"b" * 10, headers={"Content-Range": "20-29"})
    assert repeated.status_code == 416 and skipped.status_code == 416
    assert oci_error(repeated) == "BLOB_UPLOAD_INVALID"
    # The upload survives: the client can resume where GET says it stands.
    assert registry.http.get(location).headers["Range"] == "0-9"
    registry.http.patch(location, content=b"b" * 5, headers={"Content-Range": "10-14"})
    done = registry.http.put(location, params={"digest": sha256_digest(b"a" * 10 + b"b" * 5)})
    assert done.status_code == 201


def test_cancel_upload(registry, repo):
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    location = start.headers["Location"]
    registry.http.patch(location, content=b"partial")
    assert registry.http.delete(location).status_code == 204
    gone = registry.http.get(location)
    assert gone.status_code == 404 and oci_error(gone) == "BLOB_UPLOAD_UNKNOWN"
    assert registry.http.head(f"/v2/{repo}/blobs/{sha256_digest(b'partial')}").status_code == 404


def set_blob_mounting(lab, value: str) -> None:
    # The account setting PutAccountSetting(name="BLOB_MOUNTING") stores; set on the engine directly so
    # this test depends on the data plane only.
    lab.engine.registry(lab.account_id, lab.region).account_settings["BLOB_MOUNTING"] = value


def test_cross_repository_mount_only_with_blob_mounting_enabled(lab, registry, repo, ecr):
    ecr.create_repository(repositoryName="team/other")
    digest = registry.push_blob(repo, b"shared layer")
    # ECR's default: layers are per repository and a mount request starts a plain upload (202).
    declined = registry.http.post("/v2/team/other/blobs/uploads/", params={"mount": digest, "from": repo})
    assert declined.status_code == 202 and "/blobs/uploads/" in declined.headers["Location"]
    assert registry.http.head(f"/v2/team/other/blobs/{digest}").status_code == 404
    set_blob_mounting(lab, "ENABLED")
    mounted = registry.http.post("/v2/team/other/blobs/uploads/", params={"mount": digest, "from": repo})
    assert mounted.status_code == 201 and mounted.headers["Location"] == f"/v2/team/other/blobs/{digest}"
    assert registry.get_blob("team/other", digest) == b"shared layer"
    # A blob the source does not hold cannot be mounted: a plain upload session starts instead.
    absent = registry.http.post("/v2/team/other/blobs/uploads/", params={"mount": sha256_digest(b"no"), "from": repo})
    assert absent.status_code == 202 and "/blobs/uploads/" in absent.headers["Location"]
    # Disabling it again keeps what was mounted (as ECR documents) and mounts nothing new.
    set_blob_mounting(lab, "DISABLED")
    ecr.create_repository(repositoryName="team/third")
    again = registry.http.post("/v2/team/third/blobs/uploads/", params={"mount": digest, "from": repo})
    assert again.status_code == 202 and registry.get_blob("team/other", digest) == b"shared layer"


def test_mount_needs_the_same_encryption(lab, registry, repo, ecr):
    ecr.create_repository(repositoryName="team/kms", encryptionConfiguration={"encryptionType": "KMS"})
    digest = registry.push_blob(repo, b"aes256 layer")
    set_blob_mounting(lab, "ENABLED")
    response = registry.http.post("/v2/team/kms/blobs/uploads/", params={"mount": digest, "from": repo})
    assert response.status_code == 202


def test_blobs_are_per_repository(registry, repo, ecr):
    ecr.create_repository(repositoryName="team/other")
    digest = registry.push_blob(repo, b"only in team/app")
    assert registry.http.head(f"/v2/team/other/blobs/{digest}").status_code == 404


def test_manifest_referencing_an_unknown_blob_is_refused(registry, repo, ecr):
    image = random_image()
    response = registry.http.put(
        f"/v2/{repo}/manifests/v1", content=image.manifest, headers={"Content-Type": image.media_type}
    )
    assert response.status_code == 400 and oci_error(response) == "MANIFEST_BLOB_UNKNOWN"
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []


def test_manifest_with_no_layers_and_the_empty_config(registry, repo):
    registry.push_blob(repo, EMPTY)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2},
            "layers": [],
        }
    ).encode()
    put = registry.http.put(f"/v2/{repo}/manifests/empty", content=manifest, headers={"Content-Type": OCI_MANIFEST})
    assert put.status_code == 201 and put.headers["Docker-Content-Digest"] == sha256_digest(manifest)
    assert put.headers["Location"] == f"/v2/{repo}/manifests/{sha256_digest(manifest)}"


def test_push_by_digest_and_index(registry, repo, ecr):
    image = random_image()
    registry.push(image, repo)  # by digest: an untagged image
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": image.media_type,
                    "digest": image.digest,
                    "size": len(image.manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    ).encode()
    registry.push_manifest(repo, "multi", index, "application/vnd.oci.image.index.v1+json")
    details = {d["imageDigest"]: d for d in ecr.describe_images(repositoryName=repo)["imageDetails"]}
    assert details[sha256_digest(index)]["imageManifestMediaType"] == "application/vnd.oci.image.index.v1+json"
    assert details[sha256_digest(index)]["imageSizeInBytes"] == details[image.digest]["imageSizeInBytes"]
    assert "imageTags" not in details[image.digest]


# -- content discovery --------------------------------------------------------------------------
def test_tags_list_sorted_and_paginated(registry, repo):
    image = random_image()
    registry.push(image, repo, "v1")
    tags = ["v10", "latest", "b", "v2", "a", "Z"]
    for tag in tags:
        registry.push_manifest(repo, tag, image.manifest)
    everything = sorted(tags + ["v1"])
    full = registry.http.get(f"/v2/{repo}/tags/list")
    assert full.json() == {"name": repo, "tags": everything}
    page = registry.http.get(f"/v2/{repo}/tags/list", params={"n": 3})
    assert page.json()["tags"] == everything[:3]
    assert page.headers["Link"] == f'</v2/{repo}/tags/list?n=3&last={everything[2]}>; rel="next"'
    rest = registry.http.get(f"/v2/{repo}/tags/list", params={"n": 3, "last": everything[2]})
    assert rest.json()["tags"] == everything[3:6]
    after = registry.http.get(f"/v2/{repo}/tags/list", params={"last": everything[-2]})
    assert after.json()["tags"] == everything[-1:] and "Link" not in after.headers
    assert registry.http.get(f"/v2/{repo}/tags/list", params={"n": 0}).json()["tags"] == []


def test_referrers_and_oci_subject(registry, repo):
    subject = random_image()
    registry.push(subject, repo, "v1")
    descriptor = {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.manifest)}
    empty = registry.http.get(f"/v2/{repo}/referrers/{subject.digest}")
    assert empty.status_code == 200 and empty.json()["manifests"] == []
    assert empty.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
    signature = random_image(subject=descriptor, artifact_type="application/vnd.example.signature")
    sbom = random_image(subject=descriptor, artifact_type="application/vnd.example.sbom")
    for artifact in (signature, sbom):
        for blob in artifact.blobs():
            registry.push_blob(repo, blob.data)
        put = registry.http.put(
            f"/v2/{repo}/manifests/{artifact.digest}", content=artifact.manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        assert put.headers["OCI-Subject"] == subject.digest
    listed = registry.http.get(f"/v2/{repo}/referrers/{subject.digest}").json()["manifests"]
    assert {(m["digest"], m["artifactType"]) for m in listed} == {
        (signature.digest, "application/vnd.example.signature"),
        (sbom.digest, "application/vnd.example.sbom"),
    }
    assert all(m["size"] > 0 and m["mediaType"] == subject.media_type for m in listed)
    filtered = registry.http.get(
        f"/v2/{repo}/referrers/{subject.digest}", params={"artifactType": "application/vnd.example.sbom"}
    )
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [sbom.digest]
    assert registry.http.get(f"/v2/{repo}/referrers/not-a-digest").status_code == 400


def test_referrers_of_a_subject_not_pushed_yet(registry, repo):
    ghost = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256_digest(b"ghost"), "size": 5}
    artifact = random_image(subject=ghost, artifact_type="application/vnd.example.note")
    registry.push(artifact, repo)
    listed = registry.http.get(f"/v2/{repo}/referrers/{ghost['digest']}").json()["manifests"]
    assert [m["digest"] for m in listed] == [artifact.digest]


# -- content management -------------------------------------------------------------------------
def test_tag_and_manifest_deletion(registry, repo, ecr):
    image = random_image()
    registry.push(image, repo, "v1")
    registry.push_manifest(repo, "v2", image.manifest)
    assert registry.http.delete(f"/v2/{repo}/manifests/v1").status_code == 202
    assert registry.http.get(f"/v2/{repo}/tags/list").json()["tags"] == ["v2"]
    assert registry.http.get(f"/v2/{repo}/manifests/{image.digest}").status_code == 200
    assert registry.http.delete(f"/v2/{repo}/manifests/{image.digest}").status_code == 202
    assert registry.http.get(f"/v2/{repo}/manifests/{image.digest}").status_code == 404
    assert registry.http.get(f"/v2/{repo}/tags/list").json()["tags"] == []
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []
    again = registry.http.delete(f"/v2/{repo}/manifests/{image.digest}")
    assert again.status_code == 404 and oci_error(again) == "MANIFEST_UNKNOWN"


def test_blob_deletion_is_refused(registry, repo):
    """ECR has no blob deletion; deleting a layer of a live image would strand it."""
    image = random_image()
    registry.push(image, repo, "v1")
    layer = image.layers[0].digest
    refused = registry.http.delete(f"/v2/{repo}/blobs/{layer}")
    assert refused.status_code == 405 and oci_error(refused) == "UNSUPPORTED"
    assert refused.headers["Allow"] == "GET, HEAD"
    assert registry.get_blob(repo, layer) == image.layers[0].data
    body, _ = registry.get_manifest(repo, "v1")
    assert body == image.manifest

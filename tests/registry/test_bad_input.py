"""Bad input gets the spec's error, never a 5xx, and leaves nothing half-written visible."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading

import httpx

from ecrlab.errors import AccessDeniedException
from ecrlab.images import RegistryClient
from ecrlab.oci import sha256_digest
from tests.images.random_images import random_image


def code_of(response: httpx.Response) -> str:
    assert response.status_code < 500
    return response.json()["errors"][0]["code"]


def test_wrong_digest_on_monolithic_and_chunked_upload(registry, repo):
    bad = sha256_digest(b"something else")
    post = registry.http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": bad}, content=b"payload")
    assert post.status_code == 400 and code_of(post) == "DIGEST_INVALID"
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    registry.http.patch(start.headers["Location"], content=b"payload")
    put = registry.http.put(start.headers["Location"], params={"digest": bad})
    assert put.status_code == 400 and code_of(put) == "DIGEST_INVALID"
    for digest in (bad, sha256_digest(b"payload")):
        assert registry.http.head(f"/v2/{repo}/blobs/{digest}").status_code == 404


# One lab per test is the slow part, so each of these walks its list of bad inputs in one test.
def test_malformed_digests(registry, repo):
    for digest in ["sha256:xyz", "md5:abcd", "nonsense", "sha256:" + "A" * 64]:
        assert code_of(registry.http.get(f"/v2/{repo}/blobs/{digest}")) == "DIGEST_INVALID", digest
        post = registry.http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=b"x")
        assert code_of(post) == "DIGEST_INVALID", digest


def test_missing_digest_when_closing_an_upload(registry, repo):
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    assert code_of(registry.http.put(start.headers["Location"], content=b"x")) == "DIGEST_INVALID"


def test_wrong_size(registry, repo):
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    patch = registry.http.patch(start.headers["Location"], content=b"0123456789", headers={"Content-Range": "0-4"})
    # A chunk longer than its range is refused as out of range, and nothing of it is kept.
    assert patch.status_code == 416 and code_of(patch) == "BLOB_UPLOAD_INVALID"
    assert patch.headers["Range"] == "0-0" and registry.http.get(start.headers["Location"]).status_code == 204
    # A manifest whose descriptor size differs from the uploaded blob's.
    image = random_image(layer_size=100)
    for blob in image.blobs():
        registry.push_blob(repo, blob.data)
    doc = json.loads(image.manifest)
    doc["layers"][0]["size"] = 99
    lying = json.dumps(doc).encode()
    put = registry.http.put(f"/v2/{repo}/manifests/v1", content=lying, headers={"Content-Type": image.media_type})
    assert put.status_code == 400 and code_of(put) == "MANIFEST_INVALID"


def _raw(host_port: str, request: bytes) -> None:
    host, port = host_port.split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(4096)


def test_truncated_upload_leaves_nothing(registry, repo, lab):
    data = b"z" * 10_000
    auth = registry.http.headers["Authorization"]
    head = (
        f"POST /v2/{repo}/blobs/uploads/?digest={sha256_digest(data)} HTTP/1.1\r\nHost: {lab.registry}\r\n"
        f"Authorization: {auth}\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    _raw(lab.registry, head + data[:4000])  # the client dies part way through
    assert registry.http.head(f"/v2/{repo}/blobs/{sha256_digest(data)}").status_code == 404
    store = lab.engine.blobs.store(lab.account_id, lab.region)
    # The server notices the disconnect on its own thread; wait (bounded) for it to drop the upload.
    for _ in range(500):
        if not store.uploads:
            break
        threading.Event().wait(0.01)
    assert store.uploads == {}
    assert os.listdir(os.path.join(store.root, "uploads")) == []
    assert registry.http.get("/v2/").status_code == 200  # the server carries on


def test_abandoned_upload_is_invisible(registry, repo, lab):
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    registry.http.patch(start.headers["Location"], content=b"half of a layer")
    assert registry.http.head(f"/v2/{repo}/blobs/{sha256_digest(b'half of a layer')}").status_code == 404
    other = registry.http.get("/v2/team/app/blobs/uploads/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12)
    assert other.status_code == 404 and code_of(other) == "BLOB_UPLOAD_UNKNOWN"


def test_upload_id_of_another_repository(registry, repo, ecr):
    ecr.create_repository(repositoryName="team/other")
    start = registry.http.post(f"/v2/{repo}/blobs/uploads/")
    upload_id = start.headers["Location"].rsplit("/", 1)[1]
    assert (
        code_of(registry.http.patch(f"/v2/team/other/blobs/uploads/{upload_id}", content=b"x")) == "BLOB_UPLOAD_UNKNOWN"
    )


def test_malformed_manifests(registry, repo, ecr):
    for body in [
        b"not json",
        b"[]",
        b'{"schemaVersion": 1}',
        b'{"schemaVersion": 2, "mediaType": "text/plain"}',
        b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}',
        b"\xff\xfe",
        b"",
        b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {}, "layers": []}',
    ]:
        put = registry.http.put(
            f"/v2/{repo}/manifests/v1",
            content=body,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert put.status_code == 400 and code_of(put) == "MANIFEST_INVALID", body
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []


def test_oversized_manifest(registry, repo, ecr):
    big = b'{"schemaVersion": 2, "pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    put = registry.http.put(
        f"/v2/{repo}/manifests/v1", content=big, headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    )
    assert put.status_code == 413 and code_of(put) == "MANIFEST_INVALID"
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []


def test_media_type_mismatch(registry, repo):
    image = random_image()
    for blob in image.blobs():
        registry.push_blob(repo, blob.data)
    put = registry.http.put(
        f"/v2/{repo}/manifests/v1",
        content=image.manifest,
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert code_of(put) == "MANIFEST_INVALID"


def test_bad_repository_names(registry):
    for name in ["MyRepo", "a", "app-", "x" * 257, "a..b", "team//app"]:
        response = registry.http.get(f"/v2/{name}/tags/list")
        assert response.status_code == 400 and code_of(response) == "NAME_INVALID", name


def test_push_to_a_missing_repository_is_name_unknown(registry, ecr):
    post = registry.http.post("/v2/not/created/blobs/uploads/")
    assert post.status_code == 404 and code_of(post) == "NAME_UNKNOWN"
    assert code_of(registry.http.get("/v2/not/created/tags/list")) == "NAME_UNKNOWN"
    assert ecr.describe_repositories()["repositories"] == []


def test_bad_tag(registry, repo):
    image = random_image()
    put = registry.http.put(
        f"/v2/{repo}/manifests/-bad", content=image.manifest, headers={"Content-Type": image.media_type}
    )
    assert code_of(put) == "TAG_INVALID"


def test_missing_and_forged_credentials(lab, repo):
    for header in [
        None,
        "Bearer abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"AWS:forged").decode(),
        "Basic " + base64.b64encode(b"admin:x").decode(),
        "Basic " + base64.b64encode(b"\xff").decode(),
    ]:
        headers = {"Authorization": header} if header else {}
        response = httpx.get(f"http://{lab.registry}/v2/{repo}/tags/list", headers=headers)
        assert response.status_code == 401 and code_of(response) == "UNAUTHORIZED", header
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_expired_token(lab, repo, registry):
    assert registry.http.get(f"/v2/{repo}/tags/list").status_code == 200
    lab.clock.advance(hours=12)
    expired = registry.http.get(f"/v2/{repo}/tags/list")
    # ECR's answer (docker shows it as "denied: Your authorization token has expired. ..."): no challenge.
    assert expired.status_code == 403 and expired.json()["errors"][0] == {
        "code": "DENIED",
        "message": "Your authorization token has expired. Reauthenticate and try again.",
    }
    assert RegistryClient.for_lab(lab).http.get(f"/v2/{repo}/tags/list").status_code == 200


def test_immutable_tag_cannot_be_overwritten(registry, repo, ecr):
    ecr.put_image_tag_mutability(repositoryName=repo, imageTagMutability="IMMUTABLE")
    registry.push(random_image(), repo, "v1")
    second = random_image()
    for blob in second.blobs():
        registry.push_blob(repo, blob.data)
    put = registry.http.put(
        f"/v2/{repo}/manifests/v1", content=second.manifest, headers={"Content-Type": second.media_type}
    )
    assert put.status_code == 400 and code_of(put) == "TAG_INVALID"
    assert "immutable" in put.json()["errors"][0]["message"]


def test_denied_actions_are_403(registry, repo, lab):
    image = random_image()
    registry.push(image, repo, "v1")

    def deny_pulls(call, action, resource):
        if action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
            raise AccessDeniedException(
                f"User: {call.principal.arn} is not authorized to perform: {action} on resource: {resource}"
            )

    lab.engine.authorizer = deny_pulls
    manifest = registry.http.get(f"/v2/{repo}/manifests/v1")
    assert manifest.status_code == 403 and code_of(manifest) == "DENIED"
    assert "ecr:BatchGetImage" in manifest.json()["errors"][0]["message"]
    layer = image.layers[0].digest
    assert code_of(registry.http.get(f"/v2/{repo}/blobs/{layer}")) == "DENIED"
    events = [e for e in lab.trail.records if e.get("errorCode") == "AccessDeniedException"]
    assert {e["eventName"] for e in events} == {"BatchGetImage", "GetDownloadUrlForLayer"}


def test_unknown_endpoints_and_methods(registry, repo):
    assert registry.http.get("/v3/").status_code == 404
    wrong = registry.http.post(f"/v2/{repo}/tags/list")
    assert wrong.status_code == 405 and code_of(wrong) == "UNSUPPORTED"

"""Regressions from attacking the data plane: each input here once got a 5xx, a silent rewrite, a
misleading message or a predictable secret."""

from __future__ import annotations

import base64
import os
import threading

import pytest

import ecrlab
from ecrlab.ecr.dataplane import DataPlane
from ecrlab.ecr.events import LayerUploaded
from ecrlab.ecr.model import Principal
from ecrlab.errors import UploadNotFoundException, UploadUnknown
from tests.registry.wire import (
    LAYER_TYPE,
    MANIFEST_TYPE,
    connect,
    error_code,
    image_manifest,
    push_blob,
    push_image,
    sha,
)

REPO = "team/app"
ADMIN = Principal(arn="arn:aws:iam::123456789012:root", account="123456789012", is_lab_admin=True)


@pytest.fixture
def http(lab, ecr):
    ecr.create_repository(repositoryName=REPO)
    with connect(lab, ecr) as client:
        yield client


def tags(http) -> list[str]:
    return http.get(f"/v2/{REPO}/tags/list").json()["tags"]


# -- bounded JSON ---------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
def test_deeply_nested_manifest_is_invalid_not_a_crash(http, body):
    response = http.put(f"/v2/{REPO}/manifests/v1", content=body, headers={"Content-Type": MANIFEST_TYPE})
    assert response.status_code == 400 and error_code(response) == "MANIFEST_INVALID"
    assert "nests deeper" in response.json()["errors"][0]["message"]
    assert tags(http) == []


# -- finishing an upload while it is cancelled ------------------------------------------------------
def test_finish_and_cancel_race_over_http(http):
    data = os.urandom(4096)
    outcomes = []
    for _ in range(15):
        location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
        assert http.patch(location, content=data).status_code == 202
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def finish(location=location, barrier=barrier, results=results) -> None:
            barrier.wait()
            results["finish"] = http.put(location, params={"digest": sha(data)}).status_code

        def cancel(location=location, barrier=barrier, results=results) -> None:
            barrier.wait()
            results["cancel"] = http.delete(location).status_code

        threads = [threading.Thread(target=finish), threading.Thread(target=cancel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Exactly one of them wins; the other is told the upload is gone.
        assert sorted(results.values()) in ([201, 404], [204, 404]), results
        outcomes.append(results["finish"])
        assert http.get(location).status_code == 404
    assert all(code in (201, 404) for code in outcomes)


def test_finish_and_cancel_are_atomic_in_the_engine(lab, ecr):
    """Hammer the engine's own methods (no HTTP scheduling in between): never a KeyError, exactly
    one winner per upload."""
    ecr.create_repository(repositoryName=REPO)
    plane = DataPlane(lab.engine, lab.account_id, lab.region)
    data = b"raced bytes"
    for _ in range(60):
        upload = plane.start_upload(REPO)
        upload.append([data])
        barrier = threading.Barrier(2)
        won: list[str] = []
        errors: list[BaseException] = []

        def run(name, action, barrier=barrier, won=won, errors=errors) -> None:
            barrier.wait()
            try:
                action()
                won.append(name)
            except UploadNotFoundException:
                pass
            except Exception as exc:  # noqa: BLE001 - anything else is the bug this test guards against
                errors.append(exc)

        threads = [
            threading.Thread(
                target=run, args=("finish", lambda u=upload: plane.finish_upload(REPO, u.id, sha(data), ADMIN))
            ),
            threading.Thread(target=run, args=("cancel", lambda u=upload: plane.cancel_upload(REPO, u.id))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(won) == 1
        with pytest.raises(UploadNotFoundException):
            plane.upload(REPO, upload.id)
    store = lab.engine.blobs.store(lab.account_id, lab.region)
    with pytest.raises(UploadUnknown):
        store.commit("never-started", sha(data))


# -- blob DELETE ----------------------------------------------------------------------------------
def test_blob_delete_never_strands_an_image(http):
    layer = os.urandom(128)
    digest, manifest = push_image(http, REPO, "v1", [layer])
    refused = http.delete(f"/v2/{REPO}/blobs/{sha(layer)}")
    assert refused.status_code == 405 and error_code(refused) == "UNSUPPORTED"
    assert http.get(f"/v2/{REPO}/blobs/{sha(layer)}").content == layer
    assert http.get(f"/v2/{REPO}/manifests/{digest}").content == manifest


# -- control characters in references -------------------------------------------------------------
@pytest.mark.parametrize("encoded", ["%0A", "%0D", "%09", "%00", "%0D%0A"])
def test_encoded_control_characters_in_a_tag_are_refused(http, encoded):
    manifest, blobs = image_manifest([b"layer"])
    for data in blobs.values():
        push_blob(http, REPO, data)
    path = f"/v2/{REPO}/manifests/v1{encoded}"
    put = http.put(path, content=manifest, headers={"Content-Type": MANIFEST_TYPE})
    assert put.status_code == 400 and error_code(put) == "TAG_INVALID"
    assert tags(http) == []
    assert http.get(path).status_code == 400
    assert http.delete(path).status_code == 400


def test_encoded_control_characters_in_a_name_or_digest_are_refused(http):
    named = http.get(f"/v2/{REPO}%0A/tags/list")
    assert named.status_code == 400 and error_code(named) == "NAME_INVALID"
    digest = sha(b"x")
    blob = http.get(f"/v2/{REPO}/blobs/{digest}%0A")
    assert blob.status_code == 400 and error_code(blob) == "DIGEST_INVALID"
    by_digest = http.get(f"/v2/{REPO}/manifests/{digest}%0A")
    assert by_digest.status_code == 400 and error_code(by_digest) == "TAG_INVALID"


# -- chunk bodies against Content-Range -----------------------------------------------------------
def _streamed(data: bytes):
    # A generator body: httpx sends it with Transfer-Encoding: chunked and no Content-Length.
    yield data[: len(data) // 2]
    yield data[len(data) // 2 :]


@pytest.mark.parametrize("body", [b"0123456789", b"012"], ids=["longer", "shorter"])
def test_chunk_contradicting_its_content_range_is_416_and_undone(http, body):
    location = http.post(f"/v2/{REPO}/blobs/uploads/").headers["Location"]
    first = http.patch(location, content=b"abcde", headers={"Content-Range": "0-4"})
    assert first.status_code == 202 and first.headers["Range"] == "0-4"
    bad = http.patch(location, content=_streamed(body), headers={"Content-Range": "5-9"})
    assert "content-length" not in bad.request.headers
    assert bad.status_code == 416 and error_code(bad) == "BLOB_UPLOAD_INVALID"
    assert bad.headers["Range"] == "0-4"
    # Nothing of the refused chunk was kept: the upload resumes at byte 5 and verifies.
    assert http.get(location).headers["Range"] == "0-4"
    good = http.patch(location, content=_streamed(b"fghij"), headers={"Content-Range": "5-9"})
    assert good.status_code == 202
    done = http.put(good.headers["Location"], params={"digest": sha(b"abcdefghij")})
    assert done.status_code == 201
    assert http.get(f"/v2/{REPO}/blobs/{sha(b'abcdefghij')}").content == b"abcdefghij"


# -- messages -------------------------------------------------------------------------------------
def test_uppercase_hex_digest_is_invalid_not_unsupported(http):
    upper = "sha256:" + sha(b"x")[7:].upper()
    for response in (
        http.head(f"/v2/{REPO}/blobs/{upper}"),
        http.get(f"/v2/{REPO}/blobs/{upper}"),
        http.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": upper}, content=b"x"),
    ):
        assert response.status_code == 400
        if response.request.method != "HEAD":
            error = response.json()["errors"][0]
            assert error["code"] == "DIGEST_INVALID" and "lowercase" in error["message"]
            assert "unsupported" not in error["message"]
    other = http.get(f"/v2/{REPO}/blobs/sha512:{'a' * 128}").json()["errors"][0]
    assert other["code"] == "DIGEST_INVALID" and "unsupported digest algorithm" in other["message"]


# -- tokens are secrets ---------------------------------------------------------------------------
def _first_password() -> str:
    with ecrlab.start(deterministic=True) as lab:
        token = lab.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
        ids = lab.engine.new_id()
    user, _, password = base64.b64decode(token).decode().partition(":")
    assert user == "AWS" and len(password) >= 2000  # as long as real ECR passwords
    return password + "|" + ids


def test_deterministic_labs_hand_out_unpredictable_passwords():
    first, second = _first_password().split("|"), _first_password().split("|")
    assert first[1] == second[1]  # the ids stay seeded...
    assert first[0] != second[0]  # ...the registry password does not


# -- BatchCheckLayerAvailability ------------------------------------------------------------------
def test_layer_availability_reports_the_media_type_manifests_give(http, ecr):
    layer, loose = os.urandom(100), os.urandom(50)
    push_image(http, REPO, "v1", [layer])
    push_blob(http, REPO, loose)
    found = ecr.batch_check_layer_availability(repositoryName=REPO, layerDigests=[sha(layer), sha(loose)])
    by_digest = {entry["layerDigest"]: entry for entry in found["layers"]}
    assert by_digest[sha(layer)]["mediaType"] == LAYER_TYPE and by_digest[sha(layer)]["layerSize"] == 100
    # A blob no manifest references has no media type yet: ECR's field is optional and none is made up.
    assert by_digest[sha(loose)]["layerAvailability"] == "AVAILABLE" and "mediaType" not in by_digest[sha(loose)]


# -- the event stream -----------------------------------------------------------------------------
def test_uploads_and_mounts_publish_layer_uploaded(lab, http, ecr):
    heard: list[LayerUploaded] = []
    lab.engine.events.subscribe(heard.append, LayerUploaded)
    data = b"one layer"
    push_blob(http, REPO, data)
    ecr.create_repository(repositoryName="team/other")
    lab.engine.registry(lab.account_id, lab.region).account_settings["BLOB_MOUNTING"] = "ENABLED"
    mounted = http.post("/v2/team/other/blobs/uploads/", params={"mount": sha(data), "from": REPO})
    assert mounted.status_code == 201
    declined = http.post("/v2/team/other/blobs/uploads/", params={"mount": sha(b"absent"), "from": REPO})
    assert declined.status_code == 202
    assert [(e.repository, e.digest, e.size, e.mounted_from) for e in heard] == [
        (REPO, sha(data), len(data), None),
        ("team/other", sha(data), len(data), REPO),
    ]
    assert all(e.principal.account == lab.account_id for e in heard)

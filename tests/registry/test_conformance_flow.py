"""The official conformance suite's four workflows, replayed in its order against one repository.

The per-point tests in test_conformance.py check each rule alone; this one checks that they hold
together as the suite exercises them: one namespace shared by every workflow, blob deletions refused (ECR
has none) and blobs pushed again by the next workflow, a manifest without a ``mediaType`` field, referrers pushed
before their subject, and Basic credentials sent with every request (as the suite's client does).
"""

from __future__ import annotations

import json

from ecrlab.images import RegistryClient
from ecrlab.oci import sha256_digest

NAME, OTHER = "conformance/test", "conformance/crossmount"
OCI = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
KEY = "org.opencontainers.conformance.test"


def dumps(doc: dict) -> bytes:
    return json.dumps(doc, indent="\t").encode()


def desc(media_type: str, data: bytes, **extra) -> dict:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data), **extra}


def build() -> dict:
    layer = b"\x1f\x8b" + bytes(range(200))
    configs = [
        dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "author": f"author-{i}",
                "rootfs": {"type": "layers", "diff_ids": []},
            }
        )
        for i in range(5)
    ]
    manifests = [
        dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI,
                "config": desc("application/vnd.oci.image.config.v1+json", c, newUnspecifiedField="aGVsbG8="),
                "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", layer, newUnspecifiedField=None)],
            }
        )
        for c in configs
    ]
    empty = b"{}"
    ref_a, ref_b = b"NHL Peanut Butter on my NHL bagel", b"NBA Strawberry Jam on my NBA croissant"
    type_a, type_b = "application/vnd.nhl.peanut.butter.bagel", "application/vnd.nba.strawberry.jam.croissant"

    def subject(i: int) -> dict:
        return desc(OCI, manifests[i])

    def artifact(
        config: dict, layers: list, note: str | None, subject_index: int = 4, artifact_type: str | None = None
    ) -> bytes:
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI,
            "config": config,
            "layers": layers,
            "subject": subject(subject_index),
        }
        if artifact_type:
            doc["artifactType"] = artifact_type
        if note:
            doc["annotations"] = {KEY: note}
        return dumps(doc)

    refs = {
        "a_config": artifact(desc(type_a, ref_a), [desc("application/vnd.oci.empty.v1+json", empty)], "test config a"),
        "a_layer": artifact(
            desc("application/vnd.oci.empty.v1+json", empty),
            [desc(type_a, ref_a)],
            "test layer a",
            artifact_type=type_a,
        ),
        "b_config": artifact(desc(type_b, ref_b), [desc("application/vnd.oci.empty.v1+json", empty)], "test config b"),
        "b_layer": artifact(
            desc("application/vnd.oci.empty.v1+json", empty),
            [desc(type_b, ref_b)],
            "test layer b",
            artifact_type=type_b,
        ),
        "c_layer": artifact(desc("application/vnd.oci.empty.v1+json", empty), [desc(type_b, ref_b)], None, 3, type_b),
    }
    refs["index"] = dumps(
        {
            "schemaVersion": 2,
            "mediaType": INDEX,
            "artifactType": "application/vnd.food.stand",
            "manifests": [desc(OCI, refs["a_config"]), desc(OCI, refs["a_layer"])],
            "subject": subject(4),
            "annotations": {KEY: "test index"},
        }
    )
    # No mediaType field: the registry takes the type from Content-Type.
    empty_layers = dumps(
        {"schemaVersion": 2, "config": desc("application/vnd.oci.image.config.v1+json", configs[1]), "layers": []}
    )
    return {
        "layer": layer,
        "configs": configs,
        "manifests": manifests,
        "empty": empty,
        "ref_a": ref_a,
        "ref_b": ref_b,
        "type_a": type_a,
        "refs": refs,
        "empty_layers": empty_layers,
    }


def test_the_four_workflows_in_the_suites_order(lab, ecr):
    for name in (NAME, OTHER):  # ECR never creates repositories on push: the runner creates them
        ecr.create_repository(repositoryName=name)
    d = build()
    c = RegistryClient.for_lab(lab)
    http = c.http

    def post_put(data: bytes, name: str = NAME) -> int:
        start = http.post(f"/v2/{name}/blobs/uploads/")
        assert start.status_code == 202
        return http.put(
            start.headers["Location"],
            params={"digest": sha256_digest(data)},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        ).status_code

    def put_manifest(reference: str, body: bytes, media_type: str = OCI):
        return http.put(f"/v2/{NAME}/manifests/{reference}", content=body, headers={"Content-Type": media_type})

    def status(method: str, path: str) -> int:
        return http.request(method, f"/v2/{NAME}/{path}").status_code

    manifests, configs, layer = d["manifests"], d["configs"], d["layer"]

    # -- pull --------------------------------------------------------------------------------------
    assert post_put(configs[0]) == 201 and post_put(layer) == 201
    assert put_manifest("tagtest0", manifests[0]).status_code == 201
    assert status("HEAD", f"blobs/{sha256_digest(b'hello world')}") == 404
    assert status("HEAD", f"blobs/{sha256_digest(configs[0])}") == 200
    assert status("GET", f"blobs/{sha256_digest(layer)}") == 200
    assert status("HEAD", "manifests/.INVALID_MANIFEST_NAME") == 404
    for reference in (sha256_digest(manifests[0]), "tagtest0"):
        assert status("HEAD", f"manifests/{reference}") == 200 and status("GET", f"manifests/{reference}") == 200
    bad = put_manifest("sha256:totallywrong", b"blablabla")
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] in ("DIGEST_INVALID", "MANIFEST_INVALID")
    assert status("DELETE", f"manifests/{sha256_digest(manifests[0])}") == 202
    # ECR has no blob deletion: 405, which the suite accepts (and then skips its deleted-blob checks).
    assert status("DELETE", f"blobs/{sha256_digest(configs[0])}") == 405
    assert status("DELETE", f"blobs/{sha256_digest(layer)}") == 405

    # -- push --------------------------------------------------------------------------------------
    blob_a = bytes(range(42))
    start = http.post(f"/v2/{NAME}/blobs/uploads/")
    streamed = http.patch(
        start.headers["Location"], content=blob_a, headers={"Content-Type": "application/octet-stream"}
    )
    assert streamed.status_code == 202
    assert http.put(streamed.headers["Location"], params={"digest": sha256_digest(blob_a)}).status_code == 201
    assert status("GET", f"blobs/{sha256_digest(b'hello world')}") == 404
    mono = http.post(f"/v2/{NAME}/blobs/uploads/", params={"digest": sha256_digest(configs[1])}, content=configs[1])
    assert mono.status_code in (201, 202) and mono.headers["Location"]
    assert status("GET", f"blobs/{sha256_digest(configs[1])}") == 200
    assert post_put(configs[1]) == 201 and post_put(layer) == 201
    blob_b = bytes(range(100, 142))
    first, second = blob_b[:22], blob_b[22:]
    fresh = http.post(f"/v2/{NAME}/blobs/uploads/", headers={"Content-Length": "0"})
    assert http.patch(fresh.headers["Location"], content=second, headers={"Content-Range": "22-41"}).status_code == 416
    fresh = http.post(f"/v2/{NAME}/blobs/uploads/", headers={"Content-Length": "0"})
    chunk = http.patch(fresh.headers["Location"], content=first, headers={"Content-Range": "0-21"})
    assert chunk.status_code == 202 and chunk.headers["Range"] == "0-21"
    assert http.patch(fresh.headers["Location"], content=first, headers={"Content-Range": "0-21"}).status_code == 416
    stale = http.get(fresh.headers["Location"])
    assert stale.status_code == 204 and stale.headers["Range"] == "0-21" and stale.headers["Location"]
    chunk = http.patch(stale.headers["Location"], content=second, headers={"Content-Range": "22-41"})
    assert chunk.status_code == 202
    assert http.put(chunk.headers["Location"], params={"digest": sha256_digest(blob_b)}).status_code == 201
    no_from = http.post(f"/v2/{OTHER}/blobs/uploads/", params={"mount": sha256_digest(b"hello world")})
    assert no_from.status_code == 202 and no_from.headers["Location"]
    # BLOB_MOUNTING is disabled by default in ECR: the mount starts an upload (202, which the suite
    # accepts), and the suite checks the mounted blob only after a 201.
    mount = http.post(f"/v2/{OTHER}/blobs/uploads/", params={"mount": sha256_digest(blob_a), "from": NAME})
    assert mount.status_code == 202 and "/blobs/uploads/" in mount.headers["Location"]
    assert status("GET", "manifests/.INVALID_MANIFEST_NAME") == 404
    for i in range(4):
        assert put_manifest(f"test{i}", manifests[1]).status_code == 201
    assert put_manifest("emptylayer", d["empty_layers"]).status_code == 201
    assert status("GET", f"manifests/{sha256_digest(manifests[1])}") == 200
    assert status("DELETE", f"manifests/{sha256_digest(manifests[1])}") == 202
    assert status("DELETE", f"manifests/{sha256_digest(d['empty_layers'])}") == 202
    for blob in (configs[1], layer):
        assert status("DELETE", f"blobs/{sha256_digest(blob)}") == 405

    # -- content discovery --------------------------------------------------------------------------
    assert post_put(configs[2]) == 201 and post_put(layer) == 201
    for i in range(4):
        assert put_manifest(f"test{i}", manifests[2]).status_code == 201
    assert post_put(d["empty"]) == 201 and post_put(d["ref_a"]) == 201
    refs = d["refs"]
    for key in ("a_config", "a_layer"):
        assert put_manifest(sha256_digest(refs[key]), refs[key]).headers["OCI-Subject"] == sha256_digest(manifests[4])
    assert put_manifest(sha256_digest(refs["index"]), refs["index"], INDEX).headers["OCI-Subject"] == sha256_digest(
        manifests[4]
    )
    assert post_put(configs[4]) == 201 and post_put(layer) == 201
    assert put_manifest("tagtest0", manifests[4]).status_code == 201
    assert post_put(d["ref_b"]) == 201
    for key in ("b_config", "b_layer"):
        assert put_manifest(sha256_digest(refs[key]), refs[key]).headers["OCI-Subject"] == sha256_digest(manifests[4])
    assert put_manifest(sha256_digest(refs["c_layer"]), refs["c_layer"]).headers["OCI-Subject"] == sha256_digest(
        manifests[3]
    )
    tags = http.get(f"/v2/{NAME}/tags/list").json()["tags"]
    half = len(tags) // 2
    page = http.get(f"/v2/{NAME}/tags/list", params={"n": half}).json()["tags"]
    assert tags == sorted(tags) and len(page) == half
    after = http.get(f"/v2/{NAME}/tags/list", params={"n": half, "last": page[-1]}).json()["tags"]
    assert len(after) <= half and page[-1] not in after and after == tags[half : half * 2]
    empty = http.get(f"/v2/{NAME}/referrers/{sha256_digest(b'hello world')}")
    assert empty.status_code == 200 and empty.headers["Content-Type"] == INDEX and empty.json()["manifests"] == []
    listed = http.get(f"/v2/{NAME}/referrers/{sha256_digest(manifests[4])}").json()["manifests"]
    notes = {sha256_digest(refs[k]): json.loads(refs[k]).get("annotations", {}).get(KEY) for k in refs}
    assert len(listed) == 5 and all(m["annotations"] == {KEY: notes[m["digest"]]} for m in listed)
    filtered = http.get(f"/v2/{NAME}/referrers/{sha256_digest(manifests[4])}", params={"artifactType": d["type_a"]})
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType" and len(filtered.json()["manifests"]) == 2
    missing = http.get(f"/v2/{NAME}/referrers/{sha256_digest(manifests[3])}").json()["manifests"]
    assert [m["digest"] for m in missing] == [sha256_digest(refs["c_layer"])]

    # -- content management -------------------------------------------------------------------------
    assert post_put(configs[3]) == 201 and post_put(layer) == 201
    assert put_manifest("tagtest0", manifests[3]).status_code == 201
    before = len(http.get(f"/v2/{NAME}/tags/list").json()["tags"])
    assert status("DELETE", "manifests/tagtest0") == 202
    assert status("DELETE", f"manifests/{sha256_digest(manifests[3])}") in (202, 404)
    assert status("GET", f"manifests/{sha256_digest(manifests[3])}") == 404
    assert len(http.get(f"/v2/{NAME}/tags/list").json()["tags"]) < before
    assert status("DELETE", f"blobs/{sha256_digest(configs[3])}") == 405
    assert status("DELETE", f"blobs/{sha256_digest(layer)}") == 405
    assert status("GET", f"blobs/{sha256_digest(configs[3])}") == 200  # still there: nothing was deleted
    # Nothing above was refused by the engine: the errors came from the requests the suite makes bad.
    assert all(e.get("errorCode") is None for e in lab.trail.records)

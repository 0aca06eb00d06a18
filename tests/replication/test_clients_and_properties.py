"""Replicas through real clients and under load: skopeo pushes into the source and pulls the replica
byte-identical from the destination's own registry; concurrent pushes while copies are pending;
properties over random pushes and rules."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from ecrlab import images
from ecrlab.clock import LabClock
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.events import ImagePushed
from ecrlab.ecr.model import Principal
from ecrlab.errors import ServiceError
from ecrlab.images.layout import write_layout
from ecrlab.lab import load_operations
from ecrlab.replication import attach
from tests.conftest import require_tool
from tests.replication.helpers import allow_replication_from, client_for, image, statuses

OTHER = "210987654321"


def _skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [require_tool("skopeo"), "--insecure-policy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")},
        check=False,
    )


def _creds(ecr) -> str:
    return base64.b64decode(ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]).decode()


def _tree_digests(layout: Path) -> dict[str, bytes]:
    blobs = layout / "blobs" / "sha256"
    return {f"sha256:{p.name}": p.read_bytes() for p in blobs.iterdir()}


@pytest.mark.realclient
def test_skopeo_pulls_the_cross_account_replica_byte_identical(lab, ecr, tmp_path):
    require_tool("skopeo")
    theirs = lab.account(OTHER).client("ecr", region_name="eu-west-1")
    allow_replication_from(theirs, lab.account_id)
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [{"region": "eu-west-1", "registryId": OTHER}]}]}
    )
    ecr.create_repository(repositoryName="shop/cart")
    app = image("skopeo replica")
    write_layout(app, tmp_path / "src", "v1")
    pushed = _skopeo(
        "copy",
        "--preserve-digests",
        "--dest-creds",
        _creds(ecr),
        "--dest-tls-verify=false",
        f"oci:{tmp_path / 'src'}:v1",
        f"docker://{lab.registry}/shop/cart:v1",
    )
    assert pushed.returncode == 0, pushed.stderr
    lab.clock.advance(minutes=1)
    assert statuses(ecr, "shop/cart", app.digest)[0]["status"] == "COMPLETE"

    destination = lab.registry_endpoint(account_id=OTHER, region="eu-west-1")
    ref = f"docker://{destination}/shop/cart:v1"
    # The source account's token is not the destination registry's: refused there.
    refused = _skopeo("inspect", "--creds", _creds(ecr), "--tls-verify=false", "--raw", ref)
    assert refused.returncode != 0
    raw = _skopeo("inspect", "--creds", _creds(theirs), "--tls-verify=false", "--raw", ref)
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout.encode() == app.manifest
    pulled = _skopeo(
        "copy",
        "--preserve-digests",
        "--src-creds",
        _creds(theirs),
        "--src-tls-verify=false",
        ref,
        f"oci:{tmp_path / 'dst'}:v1",
    )
    assert pulled.returncode == 0, pulled.stderr
    got = _tree_digests(tmp_path / "dst")
    assert got[app.digest] == app.manifest
    for blob in app.blobs():
        assert got[blob.digest] == blob.data
    for digest, data in got.items():
        assert "sha256:" + hashlib.sha256(data).hexdigest() == digest


def test_concurrent_pushes_while_copies_are_pending_all_arrive_once(lab, ecr):
    west = lab.client("ecr", region_name="us-west-2")
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [{"region": "us-west-2", "registryId": lab.account_id}]}]}
    )
    ecr.create_repository(repositoryName="busy")
    arrived: list[ImagePushed] = []
    lab.engine.events.subscribe(lambda e: e.region == "us-west-2" and arrived.append(e), ImagePushed)
    digests: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pusher(n: int) -> None:
        try:
            with client_for(lab, ecr) as client:
                for i in range(4):
                    result = client.push(image(f"{n}-{i}"), "busy", f"t{n}-{i}")
                    with lock:
                        digests.append(result.digest)
                    lab.clock.advance(seconds=10)  # copies come due while others still push
        except Exception as exc:  # noqa: BLE001 (any failure is reported on the test's thread)
            errors.append(exc)

    threads = [threading.Thread(target=pusher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    lab.clock.advance(minutes=1)
    assert len(digests) == 16
    for digest in digests:
        assert [s["status"] for s in statuses(ecr, "busy", digest)] == ["COMPLETE"]
    replicas = west.describe_images(repositoryName="busy", maxResults=100)["imageDetails"]
    assert sorted(d["imageDigest"] for d in replicas) == sorted(digests)
    assert sorted(e.digest for e in arrived) == sorted(digests)  # each copied once
    assert lab.engine.events.failures == []


_names = st.sampled_from(["prod/api", "prod/web", "dev/api", "tools"])
_prefixes = st.sampled_from(["prod", "dev", "prod/w", "to"])
_regions = st.sampled_from(["us-west-2", "eu-west-1", "ap-south-1"])
_ACCOUNT = "123456789012"


def _engine_push(engine: Engine, name: str, app: images.Image, tag: str) -> str:
    """Push ``app`` through the engine's own operations (the layer API, then PutImage), as an API client
    would, without HTTP: fast enough for many examples."""
    admin = Principal(arn=f"arn:aws:iam::{_ACCOUNT}:root", account=_ACCOUNT, is_lab_admin=True)
    for blob in app.blobs():
        upload = engine.call("InitiateLayerUpload", {"repositoryName": name}, admin, "us-east-1")["uploadId"]
        engine.call(
            "UploadLayerPart",
            {
                "repositoryName": name,
                "uploadId": upload,
                "partFirstByte": 0,
                "partLastByte": blob.size - 1,
                "layerPartBlob": blob.data,
            },
            admin,
            "us-east-1",
        )
        try:
            engine.call(
                "CompleteLayerUpload",
                {"repositoryName": name, "uploadId": upload, "layerDigests": [blob.digest]},
                admin,
                "us-east-1",
            )
        except ServiceError as exc:  # the base layers are shared between the images
            assert exc.code == "LayerAlreadyExistsException"
    answer = engine.call(
        "PutImage",
        {"repositoryName": name, "imageManifest": app.manifest.decode(), "imageTag": tag},
        admin,
        "us-east-1",
    )
    return answer["image"]["imageId"]["imageDigest"]


@settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no tracing "explain" phase: slow
)
@given(
    rules=st.lists(
        st.tuples(
            st.lists(_prefixes, max_size=2, unique=True), st.lists(_regions, min_size=1, max_size=2, unique=True)
        ),
        min_size=1,
        max_size=3,
    ),
    pushes=st.lists(st.tuples(_names, st.integers(0, 3)), min_size=1, max_size=6, unique=True),
)
def test_replicas_keep_their_digest_and_only_named_destinations_receive_anything(rules, pushes):
    load_operations()
    engine = Engine(LabClock(deterministic=True), seed=1)
    attach(engine)
    try:
        admin = Principal(arn=f"arn:aws:iam::{_ACCOUNT}:root", account=_ACCOUNT, is_lab_admin=True)
        config = {
            "rules": [
                {
                    "destinations": [{"region": r, "registryId": _ACCOUNT} for r in regions],
                    **(
                        {"repositoryFilters": [{"filter": p, "filterType": "PREFIX_MATCH"} for p in prefixes]}
                        if prefixes
                        else {}
                    ),
                }
                for prefixes, regions in rules
            ]
        }
        engine.call("PutReplicationConfiguration", {"replicationConfiguration": config}, admin, "us-east-1")
        expected: dict[str, set[tuple[str, str]]] = {}  # region -> {(repository, digest)}
        for name, n in pushes:
            if name not in engine.registry(_ACCOUNT, "us-east-1").repositories:
                engine.call("CreateRepository", {"repositoryName": name}, admin, "us-east-1")
            digest = _engine_push(engine, name, _IMAGES[n], f"v{n}")
            for prefixes, regions in rules:
                if not prefixes or any(name.startswith(p) for p in prefixes):
                    for region in regions:
                        expected.setdefault(region, set()).add((name, digest))
        engine.clock.advance(minutes=1)
        for region in ["us-west-2", "eu-west-1", "ap-south-1"]:
            registry = engine.registry(_ACCOUNT, region)
            found = {(repo.name, d) for repo in registry.repositories.values() for d in repo.images}
            assert found == expected.get(region, set())
            for name, digest in found:
                replica = registry.repositories[name].images[digest]
                assert "sha256:" + hashlib.sha256(replica.manifest).hexdigest() == digest
                source = engine.registry(_ACCOUNT, "us-east-1").repositories[name].images[digest]
                assert replica.manifest == source.manifest
                store = engine.blobs.store(_ACCOUNT, region)
                for blob in _IMAGES_BY_DIGEST[digest].blobs():
                    with store.open(blob.digest) as data:
                        assert data.read() == blob.data
        assert engine.events.failures == []
    finally:
        engine.blobs.close()


_IMAGES = [image(f"property {n}") for n in range(4)]
_IMAGES_BY_DIGEST = {i.digest: i for i in _IMAGES}

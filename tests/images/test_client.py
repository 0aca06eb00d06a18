"""ecrlab's push/pull client against a real OCI registry (CNCF Distribution), and its progress displays."""

from __future__ import annotations

import base64
import http.server
import io
import random
import threading
from typing import ClassVar

import pytest

from ecrlab.errors import LabError
from ecrlab.images import (
    Blob,
    Image,
    ImageBuilder,
    ProgressEvent,
    RegistryClient,
    RegistryClientError,
    TextProgress,
    base_image,
    build_index,
    start_distribution,
)
from ecrlab.images.client import CHUNK_SIZE
from ecrlab.images.oci import canonical_json
from ecrlab.oci import OCI_LAYER, sha256_digest
from ecrlab.widgets import PushProgress
from tests.conftest import require_tool


@pytest.fixture(scope="module")
def distribution():
    require_tool("docker-registry")
    with start_distribution() as registry:
        yield registry


def test_push_then_pull_round_trips(distribution) -> None:
    big = random.Random(7).randbytes(CHUNK_SIZE + 123)  # more than one PATCH
    image = ImageBuilder(base_image("alpine:3.20.3")).copy_bytes(big, "/data/big.bin").build()
    events: list[ProgressEvent] = []
    with RegistryClient(distribution.address) as client:
        result = client.push(image, "roundtrip/app", "v1", progress=events.append)
        assert result.digest == image.digest
        pulled = client.pull("roundtrip/app", "v1")
        assert pulled == image
        assert client.pull("roundtrip/app", image.digest).digest == image.digest
    big_layer = image.layers[1]
    steps = [(e.status, e.done) for e in events if e.digest == big_layer.digest]
    assert steps == [("start", 0), ("progress", CHUNK_SIZE), ("progress", big_layer.size), ("done", big_layer.size)]
    assert events[-1].status == "digest" and events[-1].digest == image.digest


def test_second_push_skips_blobs_the_registry_has(distribution) -> None:
    base = base_image("alpine:3.18.0")
    out = io.StringIO()
    with RegistryClient(distribution.address) as client:
        client.push(ImageBuilder(base).copy_bytes(b"one", "/one").build(), "shared/one", "v1")
        client.push(
            ImageBuilder(base).copy_bytes(b"one", "/one").build(), "shared/one", "v2", progress=TextProgress(out)
        )
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        f"{b.digest[7:19]}: Layer already exists" for b in ImageBuilder(base).copy_bytes(b"one", "/one").build().blobs()
    ]
    assert lines[3].startswith("v2: digest: sha256:")


def test_index_push_and_platform_pull(distribution) -> None:
    images = [ImageBuilder(platform=p).copy_bytes(p.encode(), "/p").build() for p in ("linux/amd64", "linux/arm64")]
    index = build_index(images)
    with RegistryClient(distribution.address) as client:
        assert client.push(index, "multi", "1").digest == index.digest
        assert client.pull("multi", "1").digest == index.digest
        assert client.pull("multi", "1", platform="linux/arm64") == images[1]
        with pytest.raises(RegistryClientError, match="no image for linux/s390x"):
            client.pull("multi", "1", platform="linux/s390x")


def test_registry_errors_keep_their_code(distribution) -> None:
    with RegistryClient(distribution.address) as client, pytest.raises(RegistryClientError) as caught:
        client.pull("never/pushed", "latest")
    assert caught.value.code in ("MANIFEST_UNKNOWN", "NAME_UNKNOWN") and caught.value.status == 404


def test_unreachable_registry_is_a_clear_error() -> None:
    with RegistryClient("127.0.0.1:9") as client, pytest.raises(RegistryClientError, match="cannot reach") as caught:
        client.pull("x", "y")
    assert caught.value.code == "UNREACHABLE"


def _events(action: str = "push") -> list[ProgressEvent]:
    digest = "sha256:" + "ab" * 32
    return [
        ProgressEvent(action, "layer", digest, "start", 0, 2048),  # type: ignore[arg-type]
        ProgressEvent(action, "layer", digest, "progress", 1024, 2048),  # type: ignore[arg-type]
        ProgressEvent(action, "layer", digest, "done", 2048, 2048),  # type: ignore[arg-type]
        ProgressEvent(action, "config", "sha256:" + "cd" * 32, "exists", 10, 10),  # type: ignore[arg-type]
        ProgressEvent(action, "manifest", "sha256:" + "ef" * 32, "digest", 300, 300, "v1"),  # type: ignore[arg-type]
    ]


def test_text_progress_stable_lines_and_live_bar() -> None:
    quiet, live = io.StringIO(), io.StringIO()
    plain, bars = TextProgress(quiet), TextProgress(live, live=True)
    for event in _events():
        plain(event)
        bars(event)
    assert quiet.getvalue().splitlines() == [
        "abababababab: Pushed           2.0 KiB",
        "cdcdcdcdcdcd: Layer already exists",
        f"v1: digest: sha256:{'ef' * 32} size: 300",
    ]
    assert "[==============>               ] 1.0 KiB/2.0 KiB" in live.getvalue()
    assert plain.lines == bars.lines


def test_widget_shows_rows_and_final_lines() -> None:
    widget = PushProgress()
    for event in _events()[:2]:
        widget(event)
    row = widget.rows["sha256:" + "ab" * 32]
    assert (row.bar.value, row.bar.max, row.status.value) == (1024, 2048, "Pushing 1.0 KiB / 2.0 KiB")
    for event in _events()[2:]:
        widget(event)
    assert row.status.value == "Pushed 2.0 KiB" and row.bar.bar_style == "success"
    assert widget.rows["sha256:" + "cd" * 32].status.value == "Layer already exists"
    assert "v1: digest: sha256:efef" in widget.message.value
    text = TextProgress(io.StringIO())
    for event in _events():
        text(event)
    assert repr(widget).splitlines() == widget.lines == text.lines
    assert widget.children[-1] is widget.message and len(widget.children) == 3


def test_widget_shows_errors_as_a_message() -> None:
    widget = PushProgress()

    def fail() -> None:
        raise RegistryClientError("The image tag 'v1' already exists", status=400, code="TAG_INVALID")

    assert widget.attempt(fail) is None
    assert "TAG_INVALID" in widget.message.value and "already exists" in widget.message.value
    assert widget.lines == ["TAG_INVALID: The image tag 'v1' already exists"]


def test_push_and_pull_against_the_sandbox(lab, ecr) -> None:
    image = ImageBuilder(base_image("alpine:3.18.9")).copy_bytes(b"sandbox", "/s").build()
    ecr.create_repository(repositoryName="client/app")
    with RegistryClient.for_lab(lab) as client:
        assert client.push(image, "client/app", "v1").digest == image.digest
        assert client.pull("client/app", "v1") == image
    [detail] = ecr.describe_images(repositoryName="client/app")["imageDetails"]
    assert (detail["imageDigest"], detail["imageTags"], detail["imageSizeInBytes"]) == (
        image.digest,
        ["v1"],
        image.size,
    )


def test_sandbox_requires_the_token(lab, ecr) -> None:
    ecr.create_repository(repositoryName="client/locked")
    with (
        RegistryClient(lab.registry) as anonymous,
        pytest.raises(RegistryClientError, match="requires a login") as caught,
    ):
        anonymous.pull("client/locked", "v1")
    assert caught.value.status == 401
    with (
        RegistryClient(lab.registry, username="AWS", password="not-a-token") as wrong,
        pytest.raises(RegistryClientError) as caught,
    ):
        wrong.pull("client/locked", "v1")
    assert caught.value.status == 401


def test_immutable_tag_error_is_the_registry_s(lab, ecr) -> None:
    ecr.create_repository(repositoryName="client/immutable", imageTagMutability="IMMUTABLE")
    with RegistryClient.for_lab(lab) as client:
        client.push(ImageBuilder().copy_bytes(b"1", "/v").build(), "client/immutable", "v1")
        with pytest.raises(RegistryClientError) as caught:
            client.push(ImageBuilder().copy_bytes(b"2", "/v").build(), "client/immutable", "v1")
    assert caught.value.code == "TAG_INVALID" and "immutable" in caught.value.message
    assert len(ecr.describe_images(repositoryName="client/immutable")["imageDetails"]) == 1


PROXY = "http://10.255.255.1:9"  # unroutable: a request sent through it never arrives


def test_proxy_variables_do_not_carry_loopback_traffic(lab, ecr, monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    ecr.create_repository(repositoryName="client/proxied")
    image = ImageBuilder().copy_bytes(b"no proxy", "/p").build()
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    with RegistryClient(lab.registry, token, timeout=5) as client:
        assert client.push(image, "client/proxied", "v1").digest == image.digest
        assert client.pull("client/proxied", "v1") == image


def test_proxy_variables_do_not_stop_a_distribution_registry(monkeypatch) -> None:
    require_tool("docker-registry")
    monkeypatch.setenv("HTTP_PROXY", PROXY)
    monkeypatch.setenv("http_proxy", PROXY)
    with start_distribution(timeout=10) as registry, RegistryClient(registry.address, timeout=5) as client:
        image = ImageBuilder().copy_bytes(b"beside", "/b").build()
        assert client.push(image, "beside/app", "v1").digest == image.digest


def test_token_username_and_password_log_in_alike(lab, ecr) -> None:
    ecr.create_repository(repositoryName="client/login")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    username, password = base64.b64decode(token).decode().split(":", 1)
    image = ImageBuilder().copy_bytes(b"login", "/l").build()
    with RegistryClient(lab.registry, token) as by_token:
        by_token.push(image, "client/login", "v1")
    with RegistryClient(lab.registry, username=username, password=password) as by_password:
        assert by_password.get_manifest("client/login", "v1")[0] == image.manifest
    with pytest.raises(LabError, match="not both"):
        RegistryClient(lab.registry, token, username="AWS", password=password)
    with pytest.raises(LabError, match="go together"):
        RegistryClient(lab.registry, username="AWS")
    with pytest.raises(LabError, match="base64"):
        RegistryClient(lab.registry, "not base64 at all!")


def test_blobs_tags_referrers_and_delete(lab, ecr) -> None:
    ecr.create_repository(repositoryName="client/parts")
    data = random.Random(3).randbytes(10_000)
    with RegistryClient.for_lab(lab) as client:
        chunked = client.push_blob("client/parts", data, chunk_size=4_000)
        assert chunked == sha256_digest(data) and client.has_blob("client/parts", chunked)
        assert client.get_blob("client/parts", chunked) == data
        single = client.push_blob("client/parts", b"one request", chunk_size=None)
        assert client.get_blob("client/parts", single) == b"one request"
        assert not client.has_blob("client/parts", sha256_digest(b"never sent"))

        app = ImageBuilder().copy_bytes(b"app", "/app").build()
        client.push(app, "client/parts", "v1")
        for tag in ("v2", "latest"):
            assert client.push_manifest("client/parts", tag, app.manifest) == app.digest
        assert sorted(client.tags("client/parts")) == ["latest", "v1", "v2"]

        subject = {"mediaType": app.media_type, "digest": app.digest, "size": len(app.manifest)}
        signature = Image.assemble({"os": "linux", "architecture": "amd64"}, [Blob(OCI_LAYER, b"signed")])
        doc = {**signature.manifest_json, "artifactType": "application/vnd.example.signature", "subject": subject}
        for blob in signature.blobs():
            client.push_blob("client/parts", blob.data)
        signed = client.push_manifest("client/parts", sha256_digest(canonical_json(doc)), canonical_json(doc))
        assert [r["digest"] for r in client.referrers("client/parts", app.digest)] == [signed]
        assert client.referrers("client/parts", app.digest, artifact_type="application/vnd.example.sbom") == []

        client.delete("client/parts", app.digest)
        with pytest.raises(RegistryClientError) as caught:
            client.get_manifest("client/parts", "v1")
        assert (caught.value.status, caught.value.code) == (404, "MANIFEST_UNKNOWN")
        assert str(caught.value).startswith("MANIFEST_UNKNOWN: ")


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy that answers every request itself with an empty tag list, and remembers its target."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = b'{"name": "app", "tags": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_a_remote_registry_is_reached_through_the_learner_s_proxy(monkeypatch) -> None:
    """Only loopback skips the environment: a remote registry (real ECR behind a company proxy) uses it."""
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        with RegistryClient("registry.example.invalid", timeout=5) as client:
            assert client.tags("app") == []
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert _RecordingProxy.seen == [
        "http://registry.example.invalid/v2/",
        "http://registry.example.invalid/v2/app/tags/list",
    ]

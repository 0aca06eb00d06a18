"""Plain-HTTP helpers for the data-plane suites: they speak the wire directly (httpx, sha256), so what
they check does not depend on ecrlab's own registry client."""

from __future__ import annotations

import hashlib
import json
import os

import httpx

CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def connect(lab, ecr) -> httpx.Client:
    """A client logged in as the lab's administrator, never through a proxy."""
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return httpx.Client(
        base_url=f"http://{lab.registry}", headers={"Authorization": f"Basic {token}"}, trust_env=False, timeout=30
    )


def push_blob(http: httpx.Client, repo: str, data: bytes) -> str:
    digest = sha(data)
    response = http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
    assert response.status_code == 201, response.text
    return digest


def image_manifest(layers: list[bytes], config: bytes | None = None) -> tuple[bytes, dict[str, bytes]]:
    """An OCI image manifest over ``layers`` and its blobs (digest -> bytes)."""
    config = config if config is not None else json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    doc = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": sha(b), "size": len(b)} for b in layers],
    }
    return json.dumps(doc).encode(), {sha(b): b for b in [config, *layers]}


def push_image(http: httpx.Client, repo: str, tag: str, layers: list[bytes] | None = None) -> tuple[str, bytes]:
    """Push an image (its blobs, then its manifest under ``tag``); return (digest, manifest)."""
    manifest, blobs = image_manifest(layers if layers is not None else [os.urandom(64)])
    for data in blobs.values():
        push_blob(http, repo, data)
    response = http.put(f"/v2/{repo}/manifests/{tag}", content=manifest, headers={"Content-Type": MANIFEST_TYPE})
    assert response.status_code == 201, response.text
    return sha(manifest), manifest


def error_code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["code"]

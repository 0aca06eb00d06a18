"""A small OCI client for the sandbox's registry: log in with the ECR token, push and pull.

Meant for tests and lessons that need an image in a repository without an image builder::

    client = RegistryClient.login(lab)                  # GetAuthorizationToken as the lab admin
    image = random_image(layers=2)                       # (manifest bytes, {digest: blob})
    digest = client.push(image, "app", "v1")             # blobs, then the manifest under a tag
    manifest, media_type = client.get_manifest("app", "v1")
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ecrlab.ecr.manifests import OCI_MANIFEST

__all__ = ["Image", "RegistryClient", "digest_of", "random_image"]

OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Image:
    """An image ready to push: its manifest and every blob it names."""

    manifest: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)
    media_type: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)


def random_image(
    layers: int = 1,
    layer_size: int = 1024,
    shared: Iterable[bytes] = (),
    subject: dict[str, Any] | None = None,
    artifact_type: str | None = None,
) -> Image:
    """An OCI image of ``layers`` random layers (after the ``shared`` layers given)."""
    contents = list(shared) + [os.urandom(layer_size) for _ in range(layers)]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [digest_of(c) for c in contents]},
        }
    ).encode()
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(c), "size": len(c)} for c in contents],
    }
    if artifact_type:
        doc["artifactType"] = artifact_type
    if subject:
        doc["subject"] = subject
    blobs = {digest_of(config): config, **{digest_of(c): c for c in contents}}
    return Image(json.dumps(doc, indent=2).encode(), blobs)


class RegistryClient:
    """HTTP Basic against ``host_port`` with an ECR authorization token."""

    def __init__(self, host_port: str, authorization_token: str | None) -> None:
        headers = {"Authorization": f"Basic {authorization_token}"} if authorization_token else {}
        self.base = f"http://{host_port}"
        self.http = httpx.Client(base_url=self.base, headers=headers, timeout=120)

    @classmethod
    def login(cls, lab: Any, session: Any = None, account_id: str | None = None) -> RegistryClient:
        """A client logged in as the lab admin (or as ``session``'s principal) to a lab registry."""
        ecr = (session or lab.session()).client("ecr", region_name=lab.region)
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        return cls(lab.registry_endpoint(account_id), token)

    @staticmethod
    def password_of(authorization_token: str) -> str:
        return base64.b64decode(authorization_token).decode().split(":", 1)[1]

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        response = self.http.post(
            f"/v2/{repository}/blobs/uploads/",
            params={"digest": digest},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        response.raise_for_status()
        return digest

    def push_blob_chunked(self, repository: str, chunks: list[bytes]) -> str:
        data = b"".join(chunks)
        start = self.http.post(f"/v2/{repository}/blobs/uploads/")
        start.raise_for_status()
        location, offset = start.headers["Location"], 0
        for chunk in chunks:
            patch = self.http.patch(
                location,
                content=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                },
            )
            patch.raise_for_status()
            location, offset = patch.headers["Location"], offset + len(chunk)
        done = self.http.put(location, params={"digest": digest_of(data)})
        done.raise_for_status()
        return digest_of(data)

    def push_manifest(
        self, repository: str, reference: str, manifest: bytes, media_type: str = OCI_MANIFEST
    ) -> httpx.Response:
        response = self.http.put(
            f"/v2/{repository}/manifests/{reference}", content=manifest, headers={"Content-Type": media_type}
        )
        response.raise_for_status()
        return response

    def push(self, image: Image, repository: str, tag: str | None = None) -> str:
        """Push every blob, then the manifest (by tag, or by digest when no tag); return the digest."""
        for data in image.blobs.values():
            self.push_blob(repository, data)
        self.push_manifest(repository, tag or image.digest, image.manifest, image.media_type)
        return image.digest

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        response = self.http.get(f"/v2/{repository}/manifests/{reference}")
        response.raise_for_status()
        return response.content, response.headers["Content-Type"]

    def get_blob(self, repository: str, digest: str) -> bytes:
        response = self.http.get(f"/v2/{repository}/blobs/{digest}")
        response.raise_for_status()
        return response.content

    def close(self) -> None:
        self.http.close()

"""The lab's upstream registries: one small, read-only OCI registry on 127.0.0.1 that answers for every
public registry a pull through cache rule can name.

Real upstreams (Docker Hub, ECR Public, Quay, ...) are on the internet, which a sandbox never reaches.
The lab runs one HTTP server instead and tells the upstreams apart by the ``Host`` header a request
carries (``registry-1.docker.io``, ``public.ecr.aws``, ``<name>.azurecr.io``...), as virtual hosts of
one web server are told apart. Each host holds its own repositories, seeded with the same public-looking
ones: ``library/alpine`` (one tag per lab base image, and ``latest``) and ``library/nginx``; what
:meth:`Upstream.publish` adds or moves later (a new ``latest``) happens on that host only.

The hosts that need credentials for ECR to pull from them (Docker Hub, GitHub, GitLab, Azure,
Chainguard) answer ``401`` without a ``Basic`` login that matches one of the upstream's accounts: the
lab has one, :data:`LAB_USERNAME` / :data:`LAB_ACCESS_TOKEN`, documented so a learner can store it in
a Secrets Manager secret. The others answer anonymous pulls, as the public registries do.

An upstream can be told to misbehave (:meth:`Upstream.fail`) with the status a real one answers when
it is down (``503``) or rate limiting (``429``), so a lesson can see how ECR reports it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ecrlab.errors import LabError
from ecrlab.images.base import BASE_IMAGES, base_image
from ecrlab.images.builder import ImageBuilder
from ecrlab.images.oci import Image
from ecrlab.oci import sha256_digest
from ecrlab.registry.server import AppServer

__all__ = [
    "CREDENTIAL_REGISTRIES",
    "LAB_ACCESS_TOKEN",
    "LAB_USERNAME",
    "UPSTREAM_HOSTS",
    "Upstream",
    "upstream_registry_for",
]

#: The fixed upstream URL of each value of the model's UpstreamRegistry enum (Azure and ECR have one per
#: registry: ``<name>.azurecr.io``, ``<account>.dkr.ecr.<region>.amazonaws.com``).
UPSTREAM_HOSTS: dict[str, str] = {
    "ecr-public": "public.ecr.aws",
    "docker-hub": "registry-1.docker.io",
    "github-container-registry": "ghcr.io",
    "quay": "quay.io",
    "k8s": "registry.k8s.io",
    "gitlab-container-registry": "registry.gitlab.com",
    "chainguard": "cgr.dev",
}
_AZURE = re.compile(r"[a-z0-9]{5,50}\.azurecr\.io")
_ECR = re.compile(r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(-[a-z]+)+-\d)\.amazonaws\.com")
#: The upstreams for which ECR requires a credentialArn (User Guide, "Creating a pull through cache rule").
CREDENTIAL_REGISTRIES = frozenset(
    {"docker-hub", "github-container-registry", "gitlab-container-registry", "azure-container-registry", "chainguard"}
)
#: The lab upstream's account: store these in a secret ``ecr-pullthroughcache/...`` as
#: ``{"username": ..., "accessToken": ...}``. They open every upstream of the lab, and nothing else.
LAB_USERNAME = "ecrlab-learner"
LAB_ACCESS_TOKEN = "ecrlab-upstream-token"

_MANIFEST = re.compile(r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)")
_BLOB = re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[a-f0-9]{64})")
_TAGS = re.compile(r"/v2/(?P<name>.+)/tags/list")


def upstream_registry_for(url: str) -> tuple[str, str | None] | None:
    """(UpstreamRegistry value, ECR account or None) for an upstream URL ECR accepts, else None."""
    for kind, host in UPSTREAM_HOSTS.items():
        if url == host:
            return kind, None
    if _AZURE.fullmatch(url):
        return "azure-container-registry", None
    match = _ECR.fullmatch(url)
    if match:
        return "ecr", match["account"]
    return None


@dataclass
class _Host:
    """One upstream's repositories: name -> tag -> digest, and the manifests and blobs they need."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # digest -> (bytes, media type)
    blobs: dict[str, bytes] = field(default_factory=dict)

    def add(self, repository: str, tag: str, image: Image) -> None:
        self.manifests[image.digest] = (image.manifest, image.media_type)
        for blob in image.blobs():
            self.blobs[blob.digest] = blob.data
        self.tags.setdefault(repository, {})[tag] = image.digest


def _seed_images() -> list[tuple[str, str, Image]]:
    """(repository, tag, image) every upstream starts with: reproducible, so the digests are the same
    on every machine and in every run."""
    out: list[tuple[str, str, Image]] = []
    for name in BASE_IMAGES:
        out.append(("library/alpine", name.split(":", 1)[1], base_image(name)))
    newest = base_image(BASE_IMAGES[-1])
    out.append(("library/alpine", "latest", newest))
    nginx = (
        ImageBuilder(newest)
        .copy_bytes(b"events {}\nhttp { server { listen 80; } }\n", "/etc/nginx/nginx.conf")
        .labels({"org.opencontainers.image.title": "ecrlab upstream sample nginx (configuration only)"})
        .cmd(["nginx", "-g", "daemon off;"])
        .build()
    )
    out.append(("library/nginx", "1.27", nginx))
    out.append(("library/nginx", "latest", nginx))
    return out


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"errors": [{"code": code, "message": message}]})
    return Response(body, status, headers, media_type="application/json")


class Upstream:
    """The lab's upstream registries, served on ``host_port`` once :meth:`start` returns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seed = _seed_images()
        self._hosts: dict[str, _Host] = {}
        self.users: dict[str, str] = {LAB_USERNAME: LAB_ACCESS_TOKEN}
        self._failures: dict[str, int] = {}  # host -> the status it answers every request with
        # Loopback only (AppServer's default): nothing leaves the machine.
        self._server = AppServer(self._app, "upstream")
        self.host_port = self._server.host_port

    # -- content ----------------------------------------------------------------------------------
    def _host(self, host: str) -> _Host | None:
        """The repositories of ``host`` (created on first use), or None for a host no rule may name."""
        if upstream_registry_for(host) is None or _ECR.fullmatch(host):
            return None
        with self._lock:
            if host not in self._hosts:
                content = _Host()
                for repository, tag, image in self._seed:
                    content.add(repository, tag, image)
                self._hosts[host] = content
            return self._hosts[host]

    def publish(self, host: str, repository: str, tag: str, image: Image) -> None:
        """Put ``image`` in ``repository`` of upstream ``host`` under ``tag`` (moving the tag if it exists)."""
        content = self._host(host)
        if content is None:
            raise LabError(f"{host!r} is not an upstream the lab serves")
        with self._lock:
            content.add(repository, tag, image)

    def fail(self, host: str, status: int | None) -> None:
        """Make upstream ``host`` answer every request with ``status`` (503 down, 429 rate limited), or
        behave again with None."""
        with self._lock:
            if status is None:
                self._failures.pop(host, None)
            else:
                self._failures[host] = status

    def requires_login(self, host: str) -> bool:
        kind = upstream_registry_for(host)
        return kind is not None and kind[0] in CREDENTIAL_REGISTRIES

    # -- HTTP -------------------------------------------------------------------------------------
    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = self._answer(request)
        await response(scope, receive, send)

    def _answer(self, request: Request) -> Response:
        host = request.headers.get("host", "").split(":")[0]
        content = self._host(host)
        if content is None:
            return _error(404, "NAME_UNKNOWN", f"no upstream registry is served for host {host!r}")
        with self._lock:
            failure = self._failures.get(host)
        if failure == 429:
            return _error(429, "TOOMANYREQUESTS", "You have reached your pull rate limit.")
        if failure is not None:
            return _error(failure, "UNAVAILABLE", "service unavailable")
        if self.requires_login(host) and not self._logged_in(request):
            challenge = {"WWW-Authenticate": f'Basic realm="https://{host}/"'}
            return _error(401, "UNAUTHORIZED", "incorrect username or password", challenge)
        if request.method not in ("GET", "HEAD"):
            return _error(405, "UNSUPPORTED", "this upstream registry is read-only")
        path: str = request.scope["path"]
        if path in ("/v2", "/v2/"):
            return Response(b"{}", 200, media_type="application/json")
        with self._lock:
            body, media_type = self._lookup(content, path)
        if body is None:
            return _error(404, media_type, f"{path} is unknown to {host}")
        headers = {"Content-Length": str(len(body))}
        if "/manifests/" in path or "/blobs/" in path:
            headers["Docker-Content-Digest"] = sha256_digest(body)
        return Response(b"" if request.method == "HEAD" else body, 200, headers, media_type=media_type)

    def _lookup(self, content: _Host, path: str) -> tuple[bytes | None, str]:
        """(body, media type), or (None, the OCI error code) for what the path names."""
        match = _MANIFEST.fullmatch(path)
        if match:
            tags = content.tags.get(match["name"])
            if tags is None:
                return None, "NAME_UNKNOWN"
            reference = match["reference"]
            digest = reference if reference.startswith("sha256:") else tags.get(reference)
            if digest is None or digest not in content.manifests:
                return None, "MANIFEST_UNKNOWN"
            return content.manifests[digest]
        match = _BLOB.fullmatch(path)
        if match:
            if match["name"] not in content.tags or match["digest"] not in content.blobs:
                return None, "BLOB_UNKNOWN"
            return content.blobs[match["digest"]], "application/octet-stream"
        match = _TAGS.fullmatch(path)
        if match:
            tags = content.tags.get(match["name"])
            if tags is None:
                return None, "NAME_UNKNOWN"
            return json.dumps({"name": match["name"], "tags": sorted(tags)}).encode(), "application/json"
        return None, "UNSUPPORTED"

    def _logged_in(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user in self.users and self.users[user] == password

    # -- the server -------------------------------------------------------------------------------
    def start(self) -> Upstream:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

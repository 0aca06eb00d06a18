"""ecrlab's own push/pull client for OCI Distribution registries (the sandbox, CNCF Distribution, ECR).

It speaks the same HTTP a ``docker push`` does: ``GET /v2/`` to learn how to authenticate (ECR answers
``401`` with ``WWW-Authenticate: Basic``, then takes ``Basic base64(AWS:<token>)``), ``HEAD`` each blob to
skip what the registry has, a chunked upload (``POST`` → ``PATCH``… → ``PUT ?digest=``) for the rest,
and finally ``PUT`` the manifest. Every blob read back on a pull is checked against its digest.

>>> client = RegistryClient.for_lab(lab)
>>> client.push(image, "hello", tag="v1")
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urljoin

import httpx

from ecrlab.images.errors import RegistryClientError
from ecrlab.images.oci import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Blob, Image, ImageIndex, Platform, sha256_digest
from ecrlab.images.progress import ProgressCallback, ProgressEvent

__all__ = ["CHUNK_SIZE", "PushResult", "RegistryClient"]

# ECR's UploadLayerPart takes parts of 5 MiB or more (except the last); the same size here keeps a
# chunked upload valid for a registry that enforces it, and gives the progress bar steps to show.
CHUNK_SIZE = 5 * 1024 * 1024

ACCEPT = (
    f"{INDEX_MEDIA_TYPE}, {MANIFEST_MEDIA_TYPE}, "
    "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json"
)


@dataclass(frozen=True)
class PushResult:
    repository: str
    reference: str
    digest: str
    size: int

    def __str__(self) -> str:
        return f"{self.repository}:{self.reference} {self.digest}"


def _quiet(event: ProgressEvent) -> None:
    return None


class RegistryClient:
    """Pushes and pulls images to ``registry`` (``host:port``); ``password`` is an ECR token's password."""

    def __init__(
        self,
        registry: str,
        *,
        username: str | None = None,
        password: str | None = None,
        secure: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self.registry = registry
        self.base_url = f"{'https' if secure else 'http'}://{registry}"
        self._credentials = (username, password) if username is not None and password is not None else None
        self._http = httpx.Client(timeout=timeout, follow_redirects=True)
        self._auth_header: str | None = None
        self._checked = False

    @classmethod
    def for_lab(cls, lab: Any, session: Any = None) -> RegistryClient:
        """A client for the lab's registry, logged in with a token from ``GetAuthorizationToken``
        (as the lab administrator, or as ``session``'s identity)."""
        ecr = (session or lab.session()).client("ecr")
        data = ecr.get_authorization_token()["authorizationData"][0]
        username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
        # The sandbox speaks plain HTTP on the loopback; anything else (real ECR) is HTTPS.
        loopback = lab.registry.rpartition(":")[0] in ("127.0.0.1", "localhost")
        return cls(lab.registry, username=username, password=password, secure=not loopback)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- push ----------------------------------------------------------------------------------------
    def push(
        self,
        image: Image | ImageIndex,
        repository: str,
        tag: str | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> PushResult:
        """Upload ``image``'s blobs and manifest(s); tag it ``tag`` (or push by digest only)."""
        report = progress or _quiet
        self._login()
        for blob in image.blobs():
            self._push_blob(repository, blob, "config" if blob in _configs(image) else "layer", report)
        if isinstance(image, ImageIndex):
            for child in image.images:
                self._put_manifest(repository, child.digest, child.manifest, child.media_type)
        reference = tag or image.digest
        digest = self._put_manifest(repository, reference, image.manifest, image.media_type)
        if digest != image.digest:
            raise RegistryClientError(
                f"the registry stored {digest}, not {image.digest}",
                status=0,
                code="DIGEST_INVALID",
                registry=self.registry,
            )
        report(ProgressEvent("push", "manifest", digest, "digest", len(image.manifest), len(image.manifest), reference))
        return PushResult(repository, reference, digest, len(image.manifest))

    def _push_blob(self, repository: str, blob: Blob, kind: str, report: ProgressCallback) -> None:
        head = self._request("HEAD", f"/v2/{repository}/blobs/{blob.digest}", ok=(200, 404))
        if head.status_code == 200:
            report(ProgressEvent("push", kind, blob.digest, "exists", blob.size, blob.size))  # type: ignore[arg-type]
            return
        report(ProgressEvent("push", kind, blob.digest, "start", 0, blob.size))  # type: ignore[arg-type]
        location = self._request("POST", f"/v2/{repository}/blobs/uploads/", ok=(202,)).headers["Location"]
        offset = 0
        while offset < blob.size:
            chunk = blob.data[offset : offset + CHUNK_SIZE]
            response = self._request(
                "PATCH",
                location,
                ok=(202,),
                content=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                    "Content-Length": str(len(chunk)),
                },
            )
            location = response.headers["Location"]
            offset += len(chunk)
            report(ProgressEvent("push", kind, blob.digest, "progress", offset, blob.size))  # type: ignore[arg-type]
        separator = "&" if "?" in location else "?"
        self._request("PUT", f"{location}{separator}digest={blob.digest}", ok=(201,), headers={"Content-Length": "0"})
        report(ProgressEvent("push", kind, blob.digest, "done", blob.size, blob.size))  # type: ignore[arg-type]

    def _put_manifest(self, repository: str, reference: str, manifest: bytes, media_type: str) -> str:
        response = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            ok=(201,),
            content=manifest,
            headers={"Content-Type": media_type},
        )
        return response.headers.get("Docker-Content-Digest") or sha256_digest(manifest)

    # -- pull ----------------------------------------------------------------------------------------
    def pull(
        self, repository: str, reference: str, *, platform: str | None = None, progress: ProgressCallback | None = None
    ) -> Image | ImageIndex:
        """Download ``repository:reference`` (a tag or ``sha256:…``) and check every digest.
        For an index, ``platform`` pulls just that platform's image; without it, all of them."""
        report = progress or _quiet
        self._login()
        manifest, media_type = self._get_manifest(repository, reference)
        result: Image | ImageIndex
        if media_type in (INDEX_MEDIA_TYPE, "application/vnd.docker.distribution.manifest.list.v2+json"):
            entries = json.loads(manifest)["manifests"]
            images = []
            for entry in entries:
                entry_platform = Platform(
                    **{k: v for k, v in entry.get("platform", {}).items() if k in ("os", "architecture", "variant")}
                )
                if platform is not None and str(entry_platform) != str(Platform.parse(platform)):
                    continue
                child, child_type = self._get_manifest(repository, entry["digest"])
                images.append(self._pull_image(repository, child, child_type, report, entry_platform))
            if platform is not None:
                if not images:
                    raise RegistryClientError(
                        f"{repository}:{reference} has no image for {platform}",
                        status=404,
                        code="MANIFEST_UNKNOWN",
                        registry=self.registry,
                    )
                result = images[0]
            else:
                result = ImageIndex(manifest, tuple(images), media_type)
        else:
            result = self._pull_image(repository, manifest, media_type, report, None)
        report(
            ProgressEvent(
                "pull", "manifest", sha256_digest(manifest), "digest", len(manifest), len(manifest), reference
            )
        )
        return result

    def _get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        response = self._request(
            "GET", f"/v2/{repository}/manifests/{reference}", ok=(200,), headers={"Accept": ACCEPT}
        )
        body = response.content
        if reference.startswith("sha256:") and sha256_digest(body) != reference:
            raise RegistryClientError(
                f"manifest {reference} arrived with digest {sha256_digest(body)}",
                status=200,
                code="DIGEST_INVALID",
                registry=self.registry,
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0] or json.loads(body).get("mediaType", "")
        return body, media_type

    def _pull_image(
        self, repository: str, manifest: bytes, media_type: str, report: ProgressCallback, platform: Platform | None
    ) -> Image:
        body = json.loads(manifest)
        layers = tuple(self._pull_blob(repository, d, "layer", report) for d in body["layers"])
        config = self._pull_blob(repository, body["config"], "config", report)
        if platform is None:
            cfg = json.loads(config.data)
            platform = Platform(cfg.get("os", "linux"), cfg.get("architecture", "amd64"), cfg.get("variant"))
        return Image(manifest, config, layers, platform, media_type)

    def _pull_blob(self, repository: str, descriptor: dict[str, Any], kind: str, report: ProgressCallback) -> Blob:
        digest, size = descriptor["digest"], descriptor["size"]
        report(ProgressEvent("pull", kind, digest, "start", 0, size))  # type: ignore[arg-type]
        data = self._request("GET", f"/v2/{repository}/blobs/{digest}", ok=(200,)).content
        if sha256_digest(data) != digest:
            raise RegistryClientError(
                f"blob {digest} arrived with digest {sha256_digest(data)}",
                status=200,
                code="DIGEST_INVALID",
                registry=self.registry,
            )
        report(ProgressEvent("pull", kind, digest, "done", len(data), size))  # type: ignore[arg-type]
        return Blob(descriptor["mediaType"], data)

    # -- HTTP ------------------------------------------------------------------------------------------
    def _login(self) -> None:
        """Ask ``/v2/`` how to authenticate, as Docker does before its first request."""
        if self._checked:
            return
        response = self._send("GET", "/v2/")
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            if not challenge.lower().startswith("basic"):
                raise RegistryClientError(
                    f"the registry asks for {challenge.split(' ')[0] or 'an unknown'} "
                    "authentication, which this client does not speak",
                    status=401,
                    code="UNAUTHORIZED",
                    registry=self.registry,
                )
            if self._credentials is None:
                raise RegistryClientError(
                    "the registry requires a login: pass username='AWS' and the password "
                    "from `aws ecr get-login-password`",
                    status=401,
                    code="UNAUTHORIZED",
                    registry=self.registry,
                )
            self._auth_header = "Basic " + base64.b64encode(":".join(self._credentials).encode()).decode()  # type: ignore[arg-type]
            response = self._send("GET", "/v2/")
        if response.status_code != 200:
            raise _error(response, self.registry)
        self._checked = True

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self._auth_header:
            headers["Authorization"] = self._auth_header
        url = urljoin(self.base_url + "/", path) if not path.startswith("http") else path
        try:
            return self._http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise RegistryClientError(
                f"cannot reach the registry at {self.registry}: {exc}",
                status=0,
                code="UNREACHABLE",
                registry=self.registry,
            ) from None

    def _request(self, method: str, path: str, *, ok: tuple[int, ...], **kwargs: Any) -> httpx.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code not in ok:
            raise _error(response, self.registry)
        return response


def _configs(image: Image | ImageIndex) -> list[Blob]:
    return [image.config] if isinstance(image, Image) else [child.config for child in image.images]


def _error(response: httpx.Response, registry: str) -> RegistryClientError:
    """The registry's own error (the OCI catalogue's code and message), as a Docker client shows it."""
    code, message = f"HTTP_{response.status_code}", response.reason_phrase or "no error body"
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    if errors:
        code = errors[0].get("code")
        message = errors[0].get("message") or message
    return RegistryClientError(message, status=response.status_code, code=code, registry=registry)

"""ecrlab's own client for OCI Distribution registries (the sandbox, CNCF Distribution, ECR).

It speaks the same HTTP a ``docker push`` does, over the wire like any other client: ``GET /v2/`` to
check the login (ECR answers ``401`` with ``WWW-Authenticate: Basic`` and takes
``Basic base64(AWS:<token password>)``), ``HEAD`` each blob to skip what the registry has, a chunked
upload (``POST`` → ``PATCH``… → ``PUT ?digest=``) for the rest, and finally ``PUT`` the manifest. Every
blob and manifest read back is checked against its digest. A registry's refusal is a
:class:`~ecrlab.errors.RegistryClientError` carrying the registry's OCI error code and words.

>>> client = RegistryClient.for_lab(lab)
>>> client.push(image, "hello", tag="v1")

``http`` is the underlying ``httpx.Client`` (base URL and login set) for requests the methods here do
not make, as the registry tests and the access lesson show.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin

import httpx

from ecrlab.errors import LabError, RegistryClientError
from ecrlab.images.oci import Blob, Image, ImageIndex, Platform
from ecrlab.images.progress import Kind, ProgressCallback, ProgressEvent
from ecrlab.net import is_loopback_host
from ecrlab.oci import DOCKER_LIST, DOCKER_MANIFEST, INDEX_TYPES, OCI_INDEX, OCI_MANIFEST, sha256_digest

if TYPE_CHECKING:  # typing.Self is Python 3.11+; annotations are never evaluated at run time
    from typing_extensions import Self

__all__ = ["CHUNK_SIZE", "PushResult", "RegistryClient"]

# ECR's UploadLayerPart takes parts of 5 MiB or more (except the last); the same size here keeps a
# chunked upload valid for a registry that enforces it, and gives the progress bar steps to show.
CHUNK_SIZE = 5 * 1024 * 1024

ACCEPT = f"{OCI_INDEX}, {OCI_MANIFEST}, {DOCKER_LIST}, {DOCKER_MANIFEST}"


class _Session(Protocol):
    """What :meth:`RegistryClient.for_lab` needs of a boto3 session."""

    def client(self, service_name: str, *, region_name: str | None = ...) -> Any: ...


class _Lab(Protocol):
    """What :meth:`RegistryClient.for_lab` needs of :class:`ecrlab.Lab`; a protocol, because images sit
    below the lab and never import it."""

    region: str

    def session(self) -> Any: ...

    def registry_endpoint(self, account_id: str | None = None, region: str | None = None) -> str: ...


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
    """Pushes and pulls images, blobs and manifests to ``registry`` (``host:port``).

    Log in with ``token`` (an ``authorizationToken`` from ECR's ``GetAuthorizationToken``, which is
    ``base64(AWS:<password>)``) or with ``username`` and ``password`` (``AWS`` and
    ``aws ecr get-login-password``); without either, only a registry that asks for no login answers.
    """

    def __init__(
        self,
        registry: str,
        token: str | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        secure: bool = False,
        timeout: float = 60.0,
    ) -> None:
        if token is not None and (username is not None or password is not None):
            raise LabError("log in with token= or with username= and password=, not both")
        if (username is None) != (password is None):
            raise LabError("username= and password= go together")
        if token is not None:
            username, password = _split_token(token)
        self.registry = registry
        self.base_url = f"{'https' if secure else 'http'}://{registry}"
        self._has_login = username is not None
        headers = {"Authorization": _basic(username, password)} if username is not None and password is not None else {}
        # Loopback traffic (the sandbox, a Distribution registry beside it) never goes through a proxy, and
        # a learner's .netrc adds nothing to it; a remote registry (real ECR) is reached as the shell says.
        self.http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, trust_env=not _is_loopback(registry)
        )
        self._checked = False

    @classmethod
    def for_lab(cls, lab: _Lab, session: _Session | None = None, *, account_id: str | None = None) -> RegistryClient:
        """A client for a lab registry, logged in with a token from ``GetAuthorizationToken`` (asked as the
        lab administrator, or as ``session``'s identity). ``account_id`` picks another account's registry:
        one token opens every registry the identity may use, as in ECR."""
        ecr = (session or lab.session()).client("ecr", region_name=lab.region)
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        registry = lab.registry_endpoint(account_id)
        # The sandbox speaks plain HTTP on the loopback; anything else (real ECR) is HTTPS.
        return cls(registry, token, secure=not _is_loopback(registry))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RegistryClient {self.base_url}>"

    # -- login -----------------------------------------------------------------------------------------
    def login(self) -> None:
        """Check the login with ``GET /v2/``, as Docker does before its first request; done once, by the
        first method that needs it. A registry that refuses says why in a :class:`RegistryClientError`."""
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
            if not self._has_login:
                raise RegistryClientError(
                    "the registry requires a login: pass the token from GetAuthorizationToken, or "
                    "username='AWS' and the password from `aws ecr get-login-password`",
                    status=401,
                    code="UNAUTHORIZED",
                    registry=self.registry,
                )
        if response.status_code != 200:
            raise _error(response, self.registry)
        self._checked = True

    # -- images ----------------------------------------------------------------------------------------
    def push(
        self,
        image: Image | ImageIndex,
        repository: str,
        tag: str | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> PushResult:
        """Upload ``image``'s blobs (those the registry lacks) and manifest(s); tag it ``tag``, or push it by
        digest only."""
        report = progress or _quiet
        configs = {blob.digest for blob in _configs(image)}
        for blob in image.blobs():
            kind: Kind = "config" if blob.digest in configs else "layer"
            if self.has_blob(repository, blob.digest):
                report(ProgressEvent("push", kind, blob.digest, "exists", blob.size, blob.size))
            else:
                self._upload(repository, blob.data, blob.digest, CHUNK_SIZE, kind, report)
        if isinstance(image, ImageIndex):
            for child in image.images:
                self.push_manifest(repository, child.digest, child.manifest, child.media_type)
        reference = tag or image.digest
        digest = self.push_manifest(repository, reference, image.manifest, image.media_type)
        if digest != image.digest:
            raise RegistryClientError(
                f"the registry stored {digest}, not {image.digest}",
                status=0,
                code="DIGEST_INVALID",
                registry=self.registry,
            )
        report(ProgressEvent("push", "manifest", digest, "digest", len(image.manifest), len(image.manifest), reference))
        return PushResult(repository, reference, digest, len(image.manifest))

    def pull(
        self, repository: str, reference: str, *, platform: str | None = None, progress: ProgressCallback | None = None
    ) -> Image | ImageIndex:
        """Download ``repository:reference`` (a tag or ``sha256:…``) and check every digest.
        For an index, ``platform`` pulls just that platform's image; without it, all of them."""
        report = progress or _quiet
        manifest, media_type = self.get_manifest(repository, reference)
        result: Image | ImageIndex
        if media_type in INDEX_TYPES:
            images = []
            for entry in json.loads(manifest)["manifests"]:
                entry_platform = Platform(
                    **{k: v for k, v in entry.get("platform", {}).items() if k in ("os", "architecture", "variant")}
                )
                if platform is not None and entry_platform != Platform.parse(platform):
                    continue
                child, child_type = self.get_manifest(repository, entry["digest"])
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
        digest = sha256_digest(manifest)
        report(ProgressEvent("pull", "manifest", digest, "digest", len(manifest), len(manifest), reference))
        return result

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

    def _pull_blob(self, repository: str, descriptor: dict[str, Any], kind: Kind, report: ProgressCallback) -> Blob:
        digest, size = descriptor["digest"], descriptor["size"]
        report(ProgressEvent("pull", kind, digest, "start", 0, size))
        data = self.get_blob(repository, digest)
        report(ProgressEvent("pull", kind, digest, "done", len(data), size))
        return Blob(descriptor["mediaType"], data)

    # -- blobs -----------------------------------------------------------------------------------------
    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether the registry has the blob ``digest`` in ``repository`` (``HEAD``, as a push asks)."""
        return self._request("HEAD", f"/v2/{repository}/blobs/{digest}", ok=(200, 404)).status_code == 200

    def push_blob(self, repository: str, data: bytes, *, chunk_size: int | None = CHUNK_SIZE) -> str:
        """Upload ``data`` as a blob and return its digest: in ``chunk_size`` parts (``POST``, ``PATCH``…,
        ``PUT ?digest=``), or with ``chunk_size=None`` in one ``POST ?digest=`` (a monolithic upload)."""
        digest = sha256_digest(data)
        self._upload(repository, data, digest, chunk_size, "layer", _quiet)
        return digest

    def _upload(
        self, repository: str, data: bytes, digest: str, chunk_size: int | None, kind: Kind, report: ProgressCallback
    ) -> None:
        size = len(data)
        report(ProgressEvent("push", kind, digest, "start", 0, size))
        if chunk_size is None:
            self._request(
                "POST",
                f"/v2/{repository}/blobs/uploads/",
                ok=(201,),
                params={"digest": digest},
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        else:
            if chunk_size <= 0:
                raise LabError(f"chunk_size must be a positive number of bytes (or None), not {chunk_size}")
            location = self._request("POST", f"/v2/{repository}/blobs/uploads/", ok=(202,)).headers["Location"]
            offset = 0
            while offset < size:
                chunk = data[offset : offset + chunk_size]
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
                report(ProgressEvent("push", kind, digest, "progress", offset, size))
            separator = "&" if "?" in location else "?"
            self._request("PUT", f"{location}{separator}digest={digest}", ok=(201,), headers={"Content-Length": "0"})
        report(ProgressEvent("push", kind, digest, "done", size, size))

    def get_blob(self, repository: str, digest: str) -> bytes:
        """The blob ``digest``, checked against its digest (following the registry's redirect, if any)."""
        data = self._request("GET", f"/v2/{repository}/blobs/{digest}", ok=(200,), follow_redirects=True).content
        if sha256_digest(data) != digest:
            raise RegistryClientError(
                f"blob {digest} arrived with digest {sha256_digest(data)}",
                status=200,
                code="DIGEST_INVALID",
                registry=self.registry,
            )
        return data

    # -- manifests and tags ----------------------------------------------------------------------------
    def push_manifest(self, repository: str, reference: str, manifest: bytes, media_type: str | None = None) -> str:
        """``PUT`` ``manifest`` under ``reference`` (a tag or its digest) and return the digest the registry
        gives it. ``media_type`` defaults to the manifest's own ``mediaType``."""
        if media_type is None:
            media_type = _declared_media_type(manifest) or OCI_MANIFEST
        response = self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            ok=(201,),
            content=manifest,
            headers={"Content-Type": media_type},
        )
        return response.headers.get("Docker-Content-Digest") or sha256_digest(manifest)

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        """The manifest bytes of ``repository:reference`` and their media type; by digest, checked."""
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
        media_type = response.headers.get("Content-Type", "").split(";")[0] or _declared_media_type(body)
        return body, media_type

    def delete(self, repository: str, digest: str) -> None:
        """Delete the manifest ``digest`` (and so every tag on it), as ``DELETE /v2/<name>/manifests/<digest>``."""
        self._request("DELETE", f"/v2/{repository}/manifests/{digest}", ok=(202,))

    def tags(self, repository: str) -> list[str]:
        """Every tag in ``repository``, following the registry's ``Link`` pages."""
        tags: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list"
        while path:
            response = self._request("GET", path, ok=(200,))
            tags.extend(response.json().get("tags") or [])
            path = response.links.get("next", {}).get("url")
        return tags

    def referrers(self, repository: str, digest: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        """The descriptors of the manifests whose ``subject`` is ``digest`` (signatures, SBOMs...),
        only those of ``artifact_type`` when given."""
        params = {"artifactType": artifact_type} if artifact_type else None
        response = self._request("GET", f"/v2/{repository}/referrers/{digest}", ok=(200,), params=params)
        return list(response.json().get("manifests") or [])

    # -- HTTP ------------------------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else urljoin(self.base_url + "/", path.lstrip("/"))
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise RegistryClientError(
                f"cannot reach the registry at {self.registry}: {exc}",
                status=0,
                code="UNREACHABLE",
                registry=self.registry,
            ) from None

    def _request(self, method: str, path: str, *, ok: tuple[int, ...], **kwargs: Any) -> httpx.Response:
        self.login()
        response = self._send(method, path, **kwargs)
        if response.status_code not in ok:
            raise _error(response, self.registry)
        return response


def _is_loopback(registry: str) -> bool:
    """Whether ``host:port`` names this machine (``127.0.0.1``, ``localhost``, ``[::1]``...)."""
    if registry.startswith("["):  # [IPv6]:port
        host = registry[1:].partition("]")[0]
    elif registry.count(":") == 1:  # host:port
        host = registry.partition(":")[0]
    else:  # a bare host or IPv6 address
        host = registry
    return is_loopback_host(host)


def _split_token(token: str) -> tuple[str, str]:
    """``(user, password)`` from an ECR authorization token, ``base64(user:password)``."""
    try:
        username, password = base64.b64decode(token, validate=True).decode().split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise LabError(
            "token= takes the authorizationToken of GetAuthorizationToken: base64 of 'AWS:<password>'"
        ) from None
    return username, password


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _declared_media_type(manifest: bytes) -> str:
    try:
        doc = json.loads(manifest)
    except ValueError:
        return ""
    return doc.get("mediaType", "") if isinstance(doc, dict) else ""


def _configs(image: Image | ImageIndex) -> list[Blob]:
    return [image.config] if isinstance(image, Image) else [child.config for child in image.images]


def _error(response: httpx.Response, registry: str) -> RegistryClientError:
    """The registry's own error (the OCI catalogue's code and message), as a Docker client shows it."""
    code, message = f"HTTP_{response.status_code}", response.reason_phrase or "no error body"
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    if errors and isinstance(errors[0], dict):
        code = str(errors[0].get("code") or code)
        message = str(errors[0].get("message") or message)
    return RegistryClientError(message, status=response.status_code, code=code, registry=registry)

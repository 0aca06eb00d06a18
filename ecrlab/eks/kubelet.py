"""A node's image pulls, as the kubelet and containerd make them on an EKS node.

- **Where:** an image reference's registry host of the form ``<account>.dkr.ecr.<region>.amazonaws.com``
  resolves to the lab's registry for that account and region; any other host does not resolve (the sandbox
  has no network path out), as a node without a route to it.
- **Credentials:** the kubelet's ECR credential provider calls ``GetAuthorizationToken`` with the node
  role's credentials; if that is refused, the pull goes out without credentials (anonymous), which ECR
  answers 401 and containerd reports as ``no basic auth credentials``.
- **The pull:** the manifest is fetched over the data plane with the token, decided by the lab's policy
  engine like any pull (identity policies of the node role, the repository policy, cross-account), then its
  config and layers. Outcomes carry containerd's and the kubelet's wording.
- **imagePullPolicy:** ``Always`` for ``:latest`` or no tag, ``IfNotPresent`` otherwise (and for digests);
  with ``IfNotPresent`` a node that already has the reference uses its copy: a tag moved in the registry
  since is **not** re-pulled. ``Never`` uses only what the node has.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["ImageRef", "Node", "PullFailed", "default_pull_policy", "parse_image"]

_ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$")
_INDEXES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
_IMAGES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
_ACCEPT = ", ".join(_INDEXES + _IMAGES)


@dataclass(frozen=True)
class ImageRef:
    """``host/repository[:tag][@digest]`` split as containerd reads it (Docker Hub for a bare name)."""

    text: str
    host: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        """What the manifest request names: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def canonical(self) -> str:
        """The fully qualified reference containerd pulls (``docker.io/library/nginx:latest``)."""
        suffix = f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}"
        return f"{self.host}/{self.repository}{suffix}"


def parse_image(text: str) -> ImageRef:
    rest, _, digest = text.partition("@")
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        host, path = first, remainder
    else:
        host, path = "docker.io", rest if "/" in rest else f"library/{rest}"
    name, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
    return ImageRef(text, host, name, tag or None, digest or None)


def default_pull_policy(image: ImageRef) -> str:
    """Kubernetes' default: ``Always`` for ``:latest`` or no tag (and no digest), else ``IfNotPresent``."""
    if image.digest:
        return "IfNotPresent"
    return "Always" if image.tag in (None, "latest") else "IfNotPresent"


class PullFailed(Exception):
    """The pull failed; ``reason`` is the kubelet's (ErrImagePull, ErrImageNeverPull), ``message`` containerd's."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Node:
    """One worker node: its name, the credentials of its instance role, and the images it holds."""

    def __init__(self, lab: Lab, name: str, account: str, role_name: str, region: str) -> None:
        self.lab = lab
        self.name = name
        self.account = account
        self.role_name = role_name
        self.region = region
        #: reference as written in the pod spec -> the digest the node holds for it (containerd's image store).
        self.images: dict[str, str] = {}

    def _session(self) -> Any:
        # The instance profile's credentials: a session of the node role, as EC2 hands them to the node.
        if self.account == self.lab.account_id:
            return self.lab.session(role=self.role_name)
        return self.lab.account(self.account).session(role=self.role_name)

    def _token(self, registry: str) -> str | None:
        """The password from GetAuthorizationToken as the node role, or None when it is refused."""
        try:
            data = self._session().client("ecr").get_authorization_token(registryIds=[registry])["authorizationData"]
        except ClientError:
            return None
        return base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")[2]

    def ensure_image(self, text: str, policy: str | None) -> str:
        """The digest the container runs: pulled or already held, per ``policy``; raises :class:`PullFailed`."""
        image = parse_image(text)
        policy = policy or default_pull_policy(image)
        held = self.images.get(text)
        if policy == "Never":
            if held is None:
                raise PullFailed(
                    "ErrImageNeverPull", f'Container image "{text}" is not present with pull policy of Never'
                )
            return held
        if policy == "IfNotPresent" and held is not None:
            return held
        digest = self._pull(image)
        self.images[text] = digest
        return digest

    def _pull(self, image: ImageRef) -> str:
        ref = image.canonical
        prefix = f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}"'
        match = _ECR_HOST.match(image.host)
        if match is None:
            raise PullFailed(
                "ErrImagePull",
                f"{prefix}: dial tcp: lookup {image.host}: no such host (the sandbox has no network path out)",
            )
        account, region = match.groups()
        endpoint = self.lab.registry_endpoint(account, region)
        password = self._token(account)
        auth = ("AWS", password) if password is not None else None
        url = f"https://{image.host}/v2/{image.repository}/manifests/{image.reference}"
        with httpx.Client(base_url=f"http://{endpoint}", auth=auth, timeout=30) as http:
            manifest = http.get(f"/v2/{image.repository}/manifests/{image.reference}", headers={"Accept": _ACCEPT})
            if manifest.status_code == 401:
                raise PullFailed(
                    "ErrImagePull",
                    f"{prefix}: pull access denied, repository does not exist or may require authorization: "
                    "authorization failed: no basic auth credentials",
                )
            if manifest.status_code == 403:
                raise PullFailed(
                    "ErrImagePull", f"{prefix}: unexpected status from GET request to {url}: 403 Forbidden"
                )
            if manifest.status_code == 404:
                raise PullFailed("ErrImagePull", f"{prefix}: {ref}: not found")
            if manifest.status_code != 200:
                raise PullFailed(
                    "ErrImagePull", f"{prefix}: unexpected status from GET request to {url}: {manifest.status_code}"
                )
            digest = manifest.headers["Docker-Content-Digest"]
            document = json.loads(manifest.content)
            if manifest.headers.get("Content-Type", "").split(";")[0] in _INDEXES:
                # The node's platform: linux/amd64 (EKS's default AMI family), the first such entry.
                chosen = next(
                    (
                        m
                        for m in document.get("manifests", [])
                        if m.get("platform", {}).get("os") == "linux"
                        and m.get("platform", {}).get("architecture") == "amd64"
                    ),
                    None,
                )
                if chosen is None:
                    raise PullFailed("ErrImagePull", f"{prefix}: no match for platform in manifest: not found")
                response = http.get(f"/v2/{image.repository}/manifests/{chosen['digest']}", headers={"Accept": _ACCEPT})
                document = json.loads(response.content)
            for blob in [document.get("config"), *document.get("layers", [])]:
                if blob:  # containerd fetches the config and every layer (GetDownloadUrlForLayer each)
                    http.get(f"/v2/{image.repository}/blobs/{blob['digest']}").raise_for_status()
        return digest

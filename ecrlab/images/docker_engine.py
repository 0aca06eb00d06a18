"""The learner's path with a real engine: the ``docker`` SDK builds, tags, logs in and pushes.

This is what ``docker build``, ``docker tag``, ``docker login`` and ``docker push`` do against ECR with
Docker Desktop, driven through the Python ``docker`` SDK so a lesson can show and check each step. Any
Docker-compatible engine works (Docker, or Podman's ``podman system service``). Without one,
:func:`find_engine` returns ``None`` and the lessons use :mod:`ecrlab.images.builder` instead.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ecrlab.errors import RegistryClientError
from ecrlab.images.errors import ImageBuildError

__all__ = ["DockerEngine", "EnginePush", "engine_registry", "find_engine"]

_DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")

# Where engines listen by default: Docker's socket, then Podman's (rootful, then rootless).
_DEFAULT_SOCKETS = ("/var/run/docker.sock", "/run/podman/podman.sock")


def _candidates() -> list[str]:
    urls = [os.environ["DOCKER_HOST"]] if os.environ.get("DOCKER_HOST") else []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    sockets = [*_DEFAULT_SOCKETS, *([f"{runtime}/podman/podman.sock"] if runtime else [])]
    urls += [f"unix://{path}" for path in sockets if os.path.exists(path)]
    return urls


def find_engine(base_url: str | None = None, timeout: float = 3.0) -> DockerEngine | None:
    """A reachable Docker-compatible engine (``base_url``, ``DOCKER_HOST`` or a default socket), or None."""
    try:
        import docker
        import requests
    except ImportError:
        return None
    for url in [base_url] if base_url else _candidates():
        try:
            client = docker.DockerClient(base_url=url, timeout=timeout)
        except docker.errors.DockerException:
            continue
        try:
            client.ping()
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
            client.close()  # no engine answers there: an expected state, not an error
            continue
        return DockerEngine(client)
    return None


@dataclass
class EnginePush:
    """What the engine reported for a push: the digest and the status lines it streamed."""

    reference: str
    digest: str
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.reference}: digest: {self.digest}"


def engine_registry(registry: str) -> str:
    """The name an engine should use for a loopback registry: ``127.0.0.1:5000`` → ``localhost:5000``."""
    host, _, port = registry.rpartition(":")
    return f"localhost:{port}" if host == "127.0.0.1" else registry


class DockerEngine:
    """A Docker-compatible engine seen through the ``docker`` SDK."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def name(self) -> str:
        version = self.client.version()
        components = {c.get("Name", "") for c in version.get("Components", [])}
        return "Podman" if any("podman" in c.lower() for c in components) else "Docker"

    def build(self, context: str | os.PathLike[str], tag: str, **options: Any) -> str:
        """``docker build -t tag context``; returns the image id."""
        import docker

        try:
            image, _ = self.client.images.build(path=os.fspath(context), tag=tag, rm=True, **options)
        except docker.errors.BuildError as exc:
            raise ImageBuildError(f"the engine could not build {tag}: {exc.msg}") from None
        return image.id

    def tag(self, source: str, repository_uri: str, tag: str) -> None:
        """``docker tag source repository_uri:tag``."""
        if not self.client.images.get(source).tag(repository_uri, tag=tag):
            raise ImageBuildError(f"the engine refused to tag {source} as {repository_uri}:{tag}")

    def login_ecr(self, ecr: Any, registry: str) -> str:
        """``aws ecr get-login-password | docker login --username AWS --password-stdin registry``.

        For a registry on this machine, name it ``localhost:<port>`` (see :func:`engine_registry`):
        Podman's Docker API only lets a login skip TLS for ``localhost``, and Docker treats it as insecure too."""
        data = ecr.get_authorization_token()["authorizationData"][0]
        username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
        result = self.client.login(username=username, password=password, registry=registry, reauth=True)
        return str(result.get("Status", "Login Succeeded"))

    def push(self, repository_uri: str, tag: str) -> EnginePush:
        """``docker push repository_uri:tag``; a registry error raises :class:`RegistryClientError`."""
        push = EnginePush(f"{repository_uri}:{tag}", "")
        for event in self.client.images.push(repository_uri, tag=tag, stream=True, decode=True):
            if "error" in event:
                detail = event.get("errorDetail", {}).get("message") or event["error"]
                raise RegistryClientError(
                    detail.strip(), status=0, code="PUSH_FAILED", registry=repository_uri.split("/")[0]
                )
            # Docker sends the digest as ``aux``; Podman only in the status line both print.
            status = event.get("status") or ""
            found = (event.get("aux") or {}).get("Digest") or _DIGEST_LINE.search(status)
            if found:
                push.digest = found if isinstance(found, str) else found.group(1)
            if status and "id" not in event:
                push.lines.append(status)
        if not push.digest:
            raise RegistryClientError(
                f"the engine pushed {push.reference} but reported no digest",
                status=0,
                code="PUSH_FAILED",
                registry=repository_uri.split("/")[0],
            )
        return push

    def close(self) -> None:
        self.client.close()

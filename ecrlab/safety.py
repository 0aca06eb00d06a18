"""Sandbox safety: nothing the lab does may reach real AWS, whatever the environment holds.

The lab's boto3 sessions are built from an empty configuration (no profile, config file, credential
file or endpoint variables from the learner's environment are read) and carry a last-chance
``before-send`` hook: a request that moto did not answer in-process and that is not addressed to
this machine's loopback interface is refused before a socket is opened.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from typing import Any
from urllib.parse import urlsplit

import botocore.loaders
import botocore.session

from ecrlab.errors import LabError

__all__ = ["SandboxEnvironment", "SandboxEscapeError", "guard", "is_loopback_url", "sandbox_botocore_session"]


class SandboxEscapeError(LabError):
    """A request would have left the machine; the sandbox refused to send it."""


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _answered_in_process(url: str) -> bool:
    """Whether moto's in-process stubber will answer ``url`` (it answers every AWS host, with a
    404 for a service it lacks) instead of letting botocore open a connection."""
    from moto.core.models import botocore_stubber

    host = urlsplit(url).hostname or ""
    return botocore_stubber.enabled and host.endswith(("amazonaws.com", "amazonaws.com.cn", "api.aws"))


def _refuse_outside(request: Any, **_: Any) -> None:
    if not (is_loopback_url(request.url) or _answered_in_process(request.url)):
        raise SandboxEscapeError(
            f"ecrlab sandbox refused to send a request to {urlsplit(request.url).hostname}: in sandbox "
            "mode nothing leaves this machine. Is this service emulated? See docs/ecr-coverage.md."
        )


def guard(events: Any) -> None:
    """Register the loopback-only hook on a botocore event system (a session's or a client's)."""
    events.register_last("before-send", _refuse_outside, unique_id="ecrlab-sandbox-guard")


# Configuration the lab's sessions must never take from the learner's environment.
_IGNORED = {
    "ignore_configured_endpoint_urls": True,
    "sso_session": None,
    "retry_mode": "standard",
    "max_attempts": 2,
}


@functools.lru_cache(maxsize=1)
def shared_loader() -> botocore.loaders.Loader:
    """One botocore data loader for every session the lab makes. It caches the service models it has
    read, so the second session (and the engine's own look at the ECR model) does not parse them again."""
    return botocore.loaders.create_loader()


def sandbox_botocore_session() -> botocore.session.Session:
    """A botocore session that reads nothing from the environment's AWS configuration."""
    # No environment variable names for these: AWS_PROFILE, AWS_CONFIG_FILE and
    # AWS_SHARED_CREDENTIALS_FILE are not consulted, and the files read are empty.
    session = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    # Instance variables beat environment variables and files in botocore's lookup order.
    for name, value in _IGNORED.items():
        session.set_config_variable(name, value)
    session.register_component("data_loader", shared_loader())
    guard(session.get_component("event_emitter"))
    return session


# Environment variables that would send a learner's own ``boto3.client(...)`` somewhere else, or make
# it fail (a profile that only exists on their laptop). moto's mock already replaces the credentials.
_REDIRECTING = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE")


class SandboxEnvironment:
    """While the lab runs: hide the variables above and any ``AWS_ENDPOINT_URL*`` from this process,
    and make boto3's default session a guarded sandbox session; put everything back on exit."""

    def __init__(self, default_session: Any) -> None:
        self._default_session = default_session
        self._hidden: dict[str, str] = {}
        self._previous_session: Any = None

    def __enter__(self) -> SandboxEnvironment:
        import boto3

        for key in list(os.environ):
            if key in _REDIRECTING or key.startswith("AWS_ENDPOINT_URL"):
                self._hidden[key] = os.environ.pop(key)
        self._previous_session = boto3.DEFAULT_SESSION
        boto3.DEFAULT_SESSION = self._default_session
        return self

    def __exit__(self, *exc: object) -> None:
        import boto3

        boto3.DEFAULT_SESSION = self._previous_session
        os.environ.update(self._hidden)
        self._hidden.clear()

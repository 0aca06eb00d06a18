"""Sandbox safety: nothing the lab does may reach real AWS, whatever the environment holds.

The lab's boto3 sessions are built from an empty configuration (no profile, config file, credential
file or endpoint variables from the learner's environment are read) and carry a last-chance
``before-send`` hook: a request that moto did not answer in-process and that is not addressed to
this machine's loopback interface is refused before a socket is opened. While a lab runs the same
hook is in every botocore session created in the process (``boto3.Session(endpoint_url=...)`` made
by the learner included), loopback addresses bypass any proxy, and the AWS CLI the lab runs gets an
environment with no AWS or proxy variable of the learner's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import botocore.session

from ecrlab.ecr.params import model_loader
from ecrlab.errors import LabError
from ecrlab.net import is_loopback_host

__all__ = [
    "LOOPBACK_HOSTS",
    "SandboxEnvironment",
    "SandboxEscapeError",
    "child_environment",
    "guard",
    "is_loopback_url",
    "sandbox_botocore_session",
]

#: Names of this machine's loopback interface, which no proxy may stand in front of.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Proxy variables as curl, urllib, requests, httpx and botocore read them (either case).
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class SandboxEscapeError(LabError):
    """A request would have left the machine; the sandbox refused to send it."""


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def _refuse_outside(request: Any, **_: Any) -> None:
    from ecrlab.wire.mock import answers_in_process

    if not (is_loopback_url(request.url) or answers_in_process(request.url)):
        raise SandboxEscapeError(
            f"ecrlab sandbox refused to send a request to {urlsplit(request.url).hostname}: in sandbox "
            "mode nothing leaves this machine. Is this service emulated? See docs/ecr-coverage.md."
        )


def guard(events: Any) -> None:
    """Register the loopback-only hook on a botocore event system (a session's or a client's)."""
    events.register_last("before-send", _refuse_outside, unique_id="ecrlab-sandbox-guard")


# How many labs are running in this process: the process-wide hook refuses only while one is.
_armed = 0


def _refuse_outside_while_armed(request: Any, **kwargs: Any) -> None:
    if _armed:
        _refuse_outside(request, **kwargs)


def _guard_every_new_session() -> None:
    """Put the hook into every botocore session created from now on. botocore registers its
    BUILTIN_HANDLERS in each new session, after moto's stubber (which moto appends on import), so a
    request moto answers in-process never reaches the hook (idempotent)."""
    import botocore.handlers

    entry = ("before-send", _refuse_outside_while_armed)
    if entry not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(entry)


# Configuration the lab's sessions must never take from the learner's environment.
_IGNORED = {
    "ignore_configured_endpoint_urls": True,
    "sso_session": None,
    "retry_mode": "standard",
    "max_attempts": 2,
}


def sandbox_botocore_session() -> botocore.session.Session:
    """A new botocore session that reads nothing from the environment's AWS configuration.

    New on every call: a boto3 session given keys stores them on its botocore session, so one shared
    botocore session would make every ``lab.session(...)`` act as whoever was logged in last. The
    service models are read once all the same, through the one shared data loader."""
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
    session.register_component("data_loader", model_loader())
    guard(session.get_component("event_emitter"))
    return session


# Environment variables that would send a learner's own ``boto3.client(...)`` somewhere else, or make
# it fail (a profile that only exists on their laptop). moto's mock already replaces the credentials.
_REDIRECTING = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE")


def _no_proxy_for_loopback(value: str | None) -> str:
    """``value`` (a NO_PROXY list) with the loopback names added."""
    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    return ",".join(names + [h for h in LOOPBACK_HOSTS if h not in names])


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` for a process the lab starts (the AWS CLI): no AWS variable (credentials, profile,
    config and credential files, endpoints, CA bundle) and no proxy of the learner's, and loopback
    exempt from proxies; the caller adds the sandbox's own AWS variables."""
    proxies = {name for var in _PROXY_VARIABLES for name in (var, var.lower())}
    env = {k: v for k, v in environ.items() if not k.startswith("AWS_") and k not in proxies}
    env["NO_PROXY"] = env["no_proxy"] = _no_proxy_for_loopback(env.get("NO_PROXY") or env.get("no_proxy"))
    return env


class SandboxEnvironment:
    """While the lab runs: hide the variables above and any ``AWS_ENDPOINT_URL*`` from this process,
    exempt loopback from proxies (``NO_PROXY``), make boto3's default session a guarded sandbox
    session and guard every botocore session made meanwhile; put everything back on exit."""

    def __init__(self, default_session: Any) -> None:
        self._default_session = default_session
        self._hidden: dict[str, str] = {}
        self._no_proxy: dict[str, str | None] = {}
        self._previous_session: Any = None

    def __enter__(self) -> SandboxEnvironment:  # noqa: PYI034 (typing.Self needs Python 3.11)
        global _armed
        import boto3

        for key in list(os.environ):
            if key in _REDIRECTING or key.startswith("AWS_ENDPOINT_URL"):
                self._hidden[key] = os.environ.pop(key)
        for key in ("NO_PROXY", "no_proxy"):
            self._no_proxy[key] = os.environ.get(key)
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy_for_loopback(
            self._no_proxy["NO_PROXY"] or self._no_proxy["no_proxy"]
        )
        self._previous_session = boto3.DEFAULT_SESSION
        boto3.DEFAULT_SESSION = self._default_session
        _guard_every_new_session()
        _armed += 1
        return self

    def __exit__(self, *exc: object) -> None:
        global _armed
        import boto3

        _armed -= 1
        boto3.DEFAULT_SESSION = self._previous_session
        for key, value in self._no_proxy.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(self._hidden)
        self._hidden.clear()

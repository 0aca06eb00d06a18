"""Runs ``ecrlab serve`` as a CI job would: a separate process, waited on through its health endpoint."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

HEALTH = "/_ecrlab/health"


def free_port(count: int = 1) -> int:
    """A port with ``count - 1`` free ports after it (for --registry-port-base), free when asked."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65536:
            continue
        held = []
        try:
            for port in range(base, base + count):
                held.append(socket.socket())
                held[-1].bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()


def clean_env() -> dict[str, str]:
    """This process's environment without AWS settings, as on a fresh CI runner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, PYTHONUNBUFFERED="1")
    return env


def podman_settings(directory: Any, own_storage: bool) -> dict[str, str]:
    """Environment for podman as tests/clients/podman_service.sh sets it up for any CI container: runc with
    cgroupfs (crun refuses hybrid cgroups; no systemd here), a private login file, and with ``own_storage``
    a vfs store of its own instead of the machine's."""
    env = {"CONTAINERS_CONF": str(directory / "containers.conf"), "REGISTRY_AUTH_FILE": str(directory / "auth.json")}
    # Limits below the machine's: podman's defaults raise them, which fails where CAP_SYS_RESOURCE is dropped.
    (directory / "containers.conf").write_text(
        '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
        f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        f'events_logfile_path = "{directory}/events.log"\nruntime = "runc"\n'
    )
    (directory / "auth.json").write_text('{"auths": {}}\n')  # podman refuses a REGISTRY_AUTH_FILE that is missing
    if own_storage:
        (directory / "storage.conf").write_text(
            f'[storage]\ndriver = "vfs"\nrunroot = "{directory}/run"\ngraphroot = "{directory}/graph"\n'
        )
        env["CONTAINERS_STORAGE_CONF"] = str(directory / "storage.conf")
    return env


@dataclass
class Served:
    process: subprocess.Popen[str]
    env: dict[str, str]  # the --print-env exports
    health: dict[str, Any]
    stderr_path: str

    def aws(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "awscli", *args],
            env={**clean_env(), **self.env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"ecrlab serve exited with {process.returncode} before it was healthy")
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling a server in another process: there is no lab clock to drive
    raise AssertionError(f"{url} was not healthy within {timeout}s")


@contextmanager
def served(tmp_path: Any, *args: str) -> Iterator[Served]:
    """``ecrlab serve --port P --print-env ARGS`` until the block ends, then SIGTERM and a clean exit."""
    port = free_port()
    out_path, err_path = tmp_path / "serve.env", tmp_path / "serve.log"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "ecrlab.cli", "serve", "--port", str(port), "--print-env", *args],
            stdout=out,
            stderr=err,
            text=True,
            env=clean_env(),
        )
    try:
        try:
            health = wait_healthy(f"http://127.0.0.1:{port}{HEALTH}", process)
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n{err_path.read_text()}") from None
        exports = {}
        for line in out_path.read_text().splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            exports[name] = shlex.split(value)[0]
        yield Served(process, exports, health, str(err_path))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, err_path.read_text()

"""A CNCF Distribution registry beside the sandbox, for "same image, same digest" lessons.

Uses the ``docker-registry`` program of Debian's ``docker-registry`` package (CNCF Distribution 2.8),
started as ``docker-registry serve config.yml`` with ``http.addr: 127.0.0.1:<port>``, storage in a
temporary folder and no authentication. It is stopped with the lab, or by :meth:`Distribution.stop`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ecrlab.errors import LabError

if TYPE_CHECKING:  # typing.Self is Python 3.11+; annotations are never evaluated at run time
    from typing_extensions import Self

__all__ = ["Distribution", "StopsWith", "start_distribution"]

CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


class Distribution:
    """A running ``docker-registry``; ``address`` is its ``host:port`` (plain HTTP, no auth)."""

    def __init__(
        self, process: subprocess.Popen[bytes], address: str, workdir: tempfile.TemporaryDirectory[str]
    ) -> None:
        self.process = process
        self.address = address
        self._workdir = workdir

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._workdir.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Distribution registry {'running' if self.process.poll() is None else 'stopped'}>"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StopsWith(Protocol):
    """Anything that runs hooks when it stops (an ``ecrlab.Lab``): images sit below the lab's layer."""

    def on_stop(self, hook: Callable[[], None]) -> None: ...


def start_distribution(
    lab: StopsWith | None = None, *, executable: str | None = None, timeout: float = 20.0
) -> Distribution:
    """Start a CNCF Distribution registry on 127.0.0.1; with ``lab``, it stops when the lab stops."""
    program = executable or shutil.which("docker-registry")
    if program is None:
        raise LabError(
            "the CNCF Distribution registry is not installed here (Debian/Ubuntu: apt-get install docker-registry)"
        )
    workdir = tempfile.TemporaryDirectory(prefix="ecrlab-distribution-")
    root = Path(workdir.name)
    port = _free_port()
    config = root / "config.yml"
    config.write_text(CONFIG.format(root=root / "storage", port=port))
    # A log file, not a pipe: a pipe nobody reads would block the registry once it fills.
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen([program, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    registry = Distribution(process, f"127.0.0.1:{port}", workdir)
    # No proxy for the loopback, whatever HTTP_PROXY the learner's shell holds.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            message = (root / "registry.log").read_text(errors="replace").strip()
            workdir.cleanup()
            raise LabError(f"docker-registry exited at start: {message[-500:]}")
        try:
            with opener.open(f"{registry.url}/v2/", timeout=1) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            registry.stop()
            raise LabError(f"docker-registry did not answer on {registry.address} within {timeout:.0f}s")
        time.sleep(0.05)
    if lab is not None:
        lab.on_stop(registry.stop)
    return registry

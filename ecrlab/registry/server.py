"""Runs a registry app with uvicorn in a background thread, on 127.0.0.1 and a free port unless told otherwise."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from ecrlab.ecr.engine import Engine
from ecrlab.errors import LabError
from ecrlab.registry.app import RegistryApp

__all__ = ["AppServer", "RegistryServer", "advertised_host"]

LOOPBACK = "127.0.0.1"
_Server = TypeVar("_Server", bound="AppServer")


def advertised_host(host: str) -> str:
    """The host a client on this machine dials for a server bound to ``host``: a wildcard bind
    (``ecrlab serve --host 0.0.0.0`` in a container) is reached on loopback."""
    return LOOPBACK if host in ("0.0.0.0", "::", "") else host


class AppServer:
    """An ASGI app under uvicorn in a daemon thread: ``host_port`` once :meth:`start` returns.

    ``tls`` is ``(certfile, keyfile)`` for HTTPS (``ecrlab serve --aws-hostnames``); plain HTTP otherwise."""

    def __init__(
        self, app: Any, name: str, *, host: str = LOOPBACK, port: int = 0, tls: tuple[Path, Path] | None = None
    ) -> None:
        self.app = app
        self._name = name
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say they are TCP, and
        # without it every response waits ~40 ms on the client's delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))  # loopback unless `ecrlab serve` was explicitly told otherwise
        except OSError as exc:
            self._socket.close()
            raise LabError(f"cannot listen on {host}:{port} for {name}: {exc.strerror}") from None
        self.host_port = f"{advertised_host(host)}:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            app,
            interface="asgi3",  # every app here is ASGI 3; uvicorn's guess takes a bound method for ASGI 2
            # "error": clients such as skopeo first probe HTTPS on a plain-HTTP port, which uvicorn
            # reports as a warning per connection; that noise would land in learners' notebooks.
            log_level="error",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            h11_max_incomplete_event_size=64 * 1024,
            ssl_certfile=str(tls[0]) if tls else None,
            ssl_keyfile=str(tls[1]) if tls else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"ecrlab-{name}", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start(self: _Server) -> _Server:  # noqa: PYI019 (typing.Self needs Python 3.11)
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            self._thread.join(0.01)
        raise LabError(f"the {self._name} server on {self.host_port} did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


class RegistryServer(AppServer):
    """The data plane of one registry (account, region)."""

    def __init__(self, engine: Engine, account: str, region: str, *, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__(RegistryApp(engine, account, region), f"registry-{account}-{region}", host=host, port=port)


# Clients such as skopeo first try TLS on the plain-HTTP port; uvicorn warns about each attempt,
# which would only be noise under a learner's notebook cell.
logging.getLogger("uvicorn.error").setLevel(logging.ERROR)

"""Runs a registry app with uvicorn in a background thread on 127.0.0.1 and a free port."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

from ecrlab.ecr.engine import Engine
from ecrlab.errors import LabError
from ecrlab.registry.app import RegistryApp

__all__ = ["RegistryServer"]


class RegistryServer:
    """The data plane of one registry (account, region): ``host_port`` once :meth:`start` returns."""

    def __init__(self, engine: Engine, account: str, region: str) -> None:
        self.app = RegistryApp(engine, account, region)
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say they are TCP, and
        # without it every response waits ~40 ms on the client's delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))  # loopback only: nothing leaves the machine
        self.host_port = f"127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            self.app,
            # "error": clients such as skopeo first probe HTTPS on a plain-HTTP port, which uvicorn
            # reports as a warning per connection; that noise would land in learners' notebooks.
            log_level="error",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            h11_max_incomplete_event_size=64 * 1024,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"ecrlab-registry-{account}-{region}", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start(self) -> RegistryServer:
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            self._thread.join(0.01)
        raise LabError(f"the registry on {self.host_port} did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


# Clients such as skopeo first try TLS on the plain-HTTP port; uvicorn warns about each attempt,
# which would only be noise under a learner's notebook cell.
logging.getLogger("uvicorn.error").setLevel(logging.ERROR)

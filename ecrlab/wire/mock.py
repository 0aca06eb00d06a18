"""moto's transport: the in-process mock (botocore stubber) and the threaded server on 127.0.0.1."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MotoServices", "answers_in_process"]


class MotoServices:
    """moto's mock for this process and, once :meth:`serve` is called, its HTTP server on loopback."""

    def __init__(self) -> None:
        self._mock: Any = None
        self._server: Any = None

    def start(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()

    def serve(self) -> None:
        """Start the threaded server (every service, ECR routed to the engine) on 127.0.0.1."""
        from moto.server import ThreadedMotoServer

        # The server logs every request through werkzeug; a learner's notebook should not show them.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()

    @property
    def host_port(self) -> tuple[str, int] | None:
        """``(host, port)`` of the server, or None before :meth:`serve`."""
        if self._server is None:
            return None
        host, port = self._server.get_host_and_port()
        return host, port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None


def answers_in_process(url: str) -> bool:
    """Whether moto's in-process stubber will answer ``url`` (it answers every AWS host, with a
    404 for a service it lacks) instead of letting botocore open a connection."""
    from moto.core.models import botocore_stubber

    host = urlsplit(url).hostname or ""
    return botocore_stubber.enabled and host.endswith(("amazonaws.com", "amazonaws.com.cn", "api.aws"))

"""moto's transport: the in-process mock (botocore stubber) and the threaded server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

__all__ = ["MotoServices", "answers_in_process"]


class MotoServices:
    """moto's mock for this process and, once :meth:`serve` is called, its HTTP server on loopback."""

    def __init__(self) -> None:
        self._mock: Any = None
        self._server: Any = None
        #: Paths the sandbox answers itself on the API endpoint (``/_ecrlab/health``), before moto
        #: sees the request: path -> a function giving the status and a JSON document.
        self.local_routes: dict[str, Callable[[], tuple[int, dict[str, Any]]]] = {}

    def start(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start the threaded server (every service, ECR routed to the engine) on 127.0.0.1 and a free
        port unless told otherwise (``ecrlab serve --host/--port``)."""
        from moto.server import ThreadedMotoServer

        # The server logs every request through werkzeug; a learner's notebook should not show them.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if port:
            # moto's server would fail in its own thread and never report ready: an OSError here instead.
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        # werkzeug's server reads .app per request: ecrlab's own paths go first, everything else to moto.
        self._server._server.app = self._local_routes_first(self._server._server.app)

    def _local_routes_first(self, moto_app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            route = self.local_routes.get(environ.get("PATH_INFO", ""))
            if route is None:
                return moto_app(environ, start_response)
            headers = [("Content-Type", "application/json")]
            if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
                status, document = route()
            else:  # left to moto, it would be an S3 object path and a 500
                status, document = 405, {"message": "only GET and HEAD are allowed here"}
                headers.append(("Allow", "GET, HEAD"))
            body = json.dumps(document, indent=2).encode() + b"\n"
            headers.append(("Content-Length", str(len(body))))
            start_response(f"{status} {HTTPStatus(status).phrase}", headers)
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

        return app

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

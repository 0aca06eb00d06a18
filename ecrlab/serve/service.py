"""``ecrlab serve``: a lab for other processes (the AWS CLI, docker/podman/skopeo, CI jobs) until a signal.

Every account × region gets its registry at start, so the health endpoint's 200 means each endpoint a
client was told about answers. Credentials are the lab's fixed administrator keys: fine for a sandbox
on loopback, which is why another interface needs an explicit opt-in.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

import ecrlab
from ecrlab.ecr.model import registry_host
from ecrlab.errors import LabError
from ecrlab.lab import ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY, Lab
from ecrlab.net import is_loopback_host
from ecrlab.registry.app import RegistryApp
from ecrlab.registry.server import AppServer
from ecrlab.serve import tls
from ecrlab.serve.options import Options

__all__ = ["HEALTH_PATH", "Service", "run"]

#: On the API endpoint: 200 with what is served once every server is up, 503 before and while stopping.
HEALTH_PATH = "/_ecrlab/health"


class Service:
    """The servers of one ``ecrlab serve`` run: :meth:`start`, then :meth:`stop`."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.lab: Lab | None = None
        self.tls_files: tls.TlsFiles | None = None
        self._tls_server: AppServer | None = None
        self._state = "starting"

    # -- start and stop -----------------------------------------------------------------------------
    def start(self, announce: Callable[[Service], None] | None = None) -> Service:
        """Start every server; ``announce(self)`` runs once they are up, before health says 200, so whatever
        it prints (the exports) is there when a CI step that waited on health reads it."""
        options = self.options
        kwargs: dict[str, Any] = {
            "deterministic": options.deterministic,
            "region": options.regions[0],
            "host": options.host,
            "api_port": options.port or 0,
            "registry_ports": options.registry_ports,
        }
        if options.data_dir is not None:
            kwargs["data_dir"] = options.data_dir
        self.lab = lab = ecrlab.start(**kwargs)
        try:
            lab.answer(HEALTH_PATH, self.health)
            for account in options.accounts:
                if account != lab.account_id:
                    lab.account(account)
            for account, region in options.registries:
                lab.registry_endpoint(account, region)
            if options.aws_hostnames:
                self._serve_aws_hostnames(lab)
            if announce is not None:
                announce(self)
        except BaseException:
            lab.stop()
            raise
        self._state = "ok"
        return self

    def _serve_aws_hostnames(self, lab: Lab) -> None:
        options = self.options
        apps = {registry_host(a, r): RegistryApp(lab.engine, a, r) for a, r in options.registries}
        self.tls_files = tls.issue(options.ca_dir, apps)
        files = (self.tls_files.cert, self.tls_files.key)
        self._tls_server = AppServer(
            tls.HostRouter(apps), "registry-tls", host=options.host, port=options.tls_port, tls=files
        )
        self._tls_server.start()
        lab.on_stop(self._tls_server.stop)
        served = set(options.registries)
        http_endpoint = lab.engine.registry_endpoint

        def proxy_endpoint(account: str, region: str) -> str:
            # What `docker login` should be given: the AWS host for a served registry, as in real ECR.
            if (account, region) in served:
                return f"https://{self.registry_address(account, region)}"
            assert http_endpoint is not None  # set by the running lab
            return f"http://{http_endpoint(account, region)}"

        lab.engine.proxy_endpoint = proxy_endpoint

    def stop(self) -> None:
        self._state = "stopping"
        if self.lab is not None:
            self.lab.stop()

    # -- what is served ----------------------------------------------------------------------------------
    def registry_address(self, account: str, region: str) -> str:
        """``host[:port]`` a client pushes to for (account, region): the AWS name with --aws-hostnames."""
        assert self.lab is not None
        if self.options.aws_hostnames:
            host = registry_host(account, region)
            return host if self.options.tls_port == 443 else f"{host}:{self.options.tls_port}"
        return self.lab.registry_endpoint(account, region)

    def health(self) -> tuple[int, dict[str, Any]]:
        if self._state != "ok" or self.lab is None:
            return 503, {"status": self._state}
        options = self.options
        return 200, {
            "status": "ok",
            "version": ecrlab.__version__,
            "endpoint": self.lab.endpoint_url,
            "accounts": list(options.accounts),
            "regions": list(options.regions),
            "awsHostnames": options.aws_hostnames,
            "registries": [
                {
                    "accountId": account,
                    "region": region,
                    "registry": self.registry_address(account, region),
                    "endpoint": self.lab.registry_endpoint(account, region),
                    "repositoryUriPrefix": registry_host(account, region),
                }
                for account, region in options.registries
            ],
        }

    def environment(self) -> dict[str, str]:
        """The variables a shell or CI step needs: the AWS CLI and SDKs as the first account's
        administrator in the first region, and where its registry is."""
        assert self.lab is not None
        account, region = self.options.accounts[0], self.options.regions[0]
        if account == self.lab.account_id:
            keys = {"AWS_ACCESS_KEY_ID": ADMIN_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": ADMIN_SECRET_KEY}
        else:
            keys = self.lab.account(account).cli_env()
        env = {
            **keys,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": self.lab.endpoint_url,
            "ECRLAB_ACCOUNT_ID": account,
            "ECRLAB_REGISTRY": self.registry_address(account, region),
        }
        if self.tls_files is not None:
            env["ECRLAB_CA_CERT"] = str(self.tls_files.ca_cert)
        return env

    def describe(self, out: TextIO) -> None:
        """What a person reading the terminal needs: the exports, the registries, how to log in."""
        assert self.lab is not None
        env = self.environment()
        print("ecrlab serve: a local ECR is running. In another terminal:", file=out)
        for line in export_lines(env):
            print(f"  {line}", file=out)
        tls_flag = "" if self.options.aws_hostnames else "--tls-verify=false "
        print(
            f"  aws ecr get-login-password | podman login {tls_flag}-u AWS --password-stdin {env['ECRLAB_REGISTRY']}",
            file=out,
        )
        for account in self.options.accounts[1:]:
            if account != self.lab.account_id:
                keys = " ".join(export_lines(self.lab.account(account).cli_env())).replace(" export ", " ")
                print(f"  # as account {account}'s administrator: {keys}", file=out)
        print("Registries (repositoryUri host -> where to push):", file=out)
        for account, region in self.options.registries:
            print(f"  {registry_host(account, region)} -> {self.registry_address(account, region)}", file=out)
        print(f"Health: {env['AWS_ENDPOINT_URL']}{HEALTH_PATH}", file=out)
        if self.tls_files is not None:
            hosts = [registry_host(a, r) for a, r in self.options.registries]
            print(tls.trust_instructions(self.tls_files.ca_cert, hosts, self.options.tls_port), file=out)
        kept = f"its ECR state stays in {self.options.data_dir}" if self.options.data_dir else "its state is gone"
        print(f"Ctrl-C or SIGTERM stops it ({kept}).", file=out, flush=True)


def export_lines(env: dict[str, str]) -> list[str]:
    return [f"export {name}={shlex.quote(value)}" for name, value in env.items()]


def _announce(service: Service, out: TextIO, err: TextIO) -> None:
    if service.options.print_env:
        # Machine-readable on stdout (for `eval`); the rest for people, on stderr.
        print("\n".join(export_lines(service.environment())), file=out, flush=True)
        service.describe(err)
    else:
        service.describe(out)


def run(options: Options, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Serve until SIGTERM or SIGINT, then stop every server; 2 when the service cannot start."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    if not is_loopback_host(options.host):
        print(
            f"ecrlab serve: WARNING: listening on {options.host}: anyone who can reach it can use the sandbox "
            "with its published credentials",
            file=err,
            flush=True,
        )
    service = Service(options)
    try:
        try:
            service.start(announce=lambda s: _announce(s, out, err))
        except LabError as exc:
            print(f"ecrlab serve: {exc}", file=err)
            return 2
        stop.wait()
        return 0
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

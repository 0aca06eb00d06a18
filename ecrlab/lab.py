"""The Lab: starts and stops the sandbox, and hands out clients, sessions, the clock and endpoints."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3

from ecrlab import safety
from ecrlab.clock import LabClock
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.model import Principal, registry_host
from ecrlab.errors import LabError
from ecrlab.lifecycle import attach as attach_lifecycle
from ecrlab.monitoring import Monitoring, Trail
from ecrlab.replication import attach as attach_replication
from ecrlab.scanning import install as install_scanning
from ecrlab.signing import attach as attach_signing
from ecrlab.wire import clock as moto_clock
from ecrlab.wire import cloudtrail, cloudwatch, ecr_api, eventbridge
from ecrlab.wire.mock import MotoServices

if TYPE_CHECKING:
    from ecrlab.access.accounts import Account
    from ecrlab.access.authorizer import LabAuthorizer
    from ecrlab.access.identities import KeyRing
    from ecrlab.registry.server import RegistryServer

__all__ = ["DEFAULT_ACCOUNT_ID", "DEFAULT_REGION", "CliResult", "Lab", "load_operations", "start"]

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account, so its neighbours agree with ours
DEFAULT_REGION = "us-east-1"
DETERMINISTIC_SEED = 20150921  # ECR's API version date

# The lab administrator's credentials: fixed, so a learner can paste them into a terminal.
ADMIN_ACCESS_KEY = "AKIAECRLABADMIN00000"
ADMIN_SECRET_KEY = "ecrlab-sandbox-secret-not-a-real-aws-key"

_lock = threading.Lock()
_active: Lab | None = None
log = logging.getLogger(__name__)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class CliResult:
    """What an ``aws`` command printed, shown in a notebook as a terminal would show it."""

    command: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def __str__(self) -> str:
        text = self.stdout if self.ok else self.stderr
        return f"$ {self.command}\n{text.rstrip()}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class Lab:
    """A running ECR sandbox. Create it with :func:`ecrlab.start`."""

    def __init__(
        self,
        *,
        deterministic: bool | None = None,
        region: str = DEFAULT_REGION,
        host: str = "127.0.0.1",
        api_port: int = 0,
        registry_ports: Mapping[tuple[str, str], int] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        # Where the servers listen: loopback and free ports, except as `ecrlab serve` asks (fixed ports for
        # CI, another interface only on its explicit opt-in).
        self._host = host
        self._api_port = api_port
        self._registry_ports = dict(registry_ports or {})
        #: Where the ECR state is kept across restarts (docs/serve.md, "Keeping data"); None: in memory.
        self.data_dir = os.fspath(data_dir) if data_dir is not None else None
        if deterministic is None:
            deterministic = _env_flag("ECRLAB_DETERMINISTIC")
        self.deterministic = deterministic
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self.clock = LabClock(deterministic=deterministic)
        load_operations()
        self.engine = Engine(self.clock, seed=DETERMINISTIC_SEED if deterministic else None)
        attach_lifecycle(self.engine)  # saved lifecycle policies run as the lab clock passes midnight
        install_scanning(self.engine)  # scan on push, scans on the lab clock, the scanning operations
        attach_replication(self.engine)  # pushes copied to their destinations; create-on-push templates
        attach_signing(self.engine)  # managed signing: pushes signed with the lab key, as the pusher
        #: CloudTrail-shaped records of every ECR call and service event in the lab, oldest first.
        self._access_keys: dict[Principal, str] = {}  # principal -> the key it signed with last (for the trail)
        self.trail = Trail(
            self.engine.events, self.engine.new_id, access_key=self._access_keys.get, unique_id=cloudtrail.unique_id
        )
        #: CloudWatch metrics and EventBridge events from the lab's actions (set up when the lab starts).
        self.monitoring: Monitoring | None = None
        self.admin = Principal(
            arn=f"arn:aws:iam::{self.account_id}:root", account=self.account_id, kind="root", is_lab_admin=True
        )
        self._principals: dict[str, Principal] = {ADMIN_ACCESS_KEY: self.admin}
        self._moto = MotoServices()
        self._running = False
        self._stop_hooks: list[Callable[[], None]] = []
        self._environment: safety.SandboxEnvironment | None = None
        self._registries: dict[tuple[str, str], RegistryServer] = {}
        self._registries_lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        self._iam_keys: dict[str, str] = {}  # access key -> account, for keys IAM issued

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> Lab:
        global _active
        with _lock:
            previous = _active if _active is not self else None
        if previous is not None:
            previous.stop()
        if self.data_dir is not None:
            from ecrlab.ecr.persist import NOT_KEPT

            # Before anything serves: the stored state is the engine's from the first request on.
            self.engine.keep_state_in(self.data_dir)
            log.warning("ecrlab keeps its ECR state in %s; not kept across restarts: %s", self.data_dir, NOT_KEPT)
        with _lock:
            _active = self
        self._moto.start()
        moto_clock.point_time_at(self.clock.utcnow_naive)
        if self.deterministic:
            moto_clock.seed_ids(DETERMINISTIC_SEED)
        ecr_api.install(self.engine, self.resolve_principal)
        self._install_access_control()
        self._running = True
        self._install_monitoring()
        self._environment = safety.SandboxEnvironment(self.session())
        self._environment.__enter__()
        try:
            self._moto.serve(self._host, self._api_port)
        except OSError as exc:
            self.stop()
            raise LabError(
                f"cannot listen on {self._host}:{self._api_port} for the AWS API endpoint: {exc.strerror}"
            ) from None
        self.engine.registry_endpoint = self._registry_endpoint_for
        self.on_stop(self._stop_registries)
        from ecrlab.pullthrough import attach as attach_pull_through
        from ecrlab.wire.secrets import read_secret

        #: Pull through cache: the lab's upstream registries (``lab.pull_through.upstream``) and the cache.
        self.pull_through = attach_pull_through(self.engine, read_secret)
        self.on_stop(self.pull_through.upstream.stop)
        return self

    def stop(self) -> None:
        """Stop the servers and end the mock; the lab's state is gone afterwards, except what its data
        directory keeps."""
        global _active
        if not self._running:
            return
        self._running = False
        for hook in reversed(self._stop_hooks):
            hook()
        from ecrlab.access import directory
        from ecrlab.wire import iam, sts

        ecr_api.uninstall()
        cloudtrail.uninstall()
        iam.uninstall()
        sts.uninstall()
        directory.use(None)
        if self._environment is not None:
            self._environment.__exit__(None, None, None)
        moto_clock.point_time_at(None)
        self._moto.stop()
        self.engine.close()
        with _lock:
            if _active is self:
                _active = None

    def answer(self, path: str, handler: Callable[[], tuple[int, dict[str, Any]]]) -> None:
        """Answer ``GET path`` on the API endpoint with ``handler()``'s status and JSON document
        (``ecrlab serve``'s health check); every other path stays the AWS API's."""
        self._moto.local_routes[path] = handler

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Run ``hook()`` when the lab stops (feature modules close their servers this way)."""
        self._stop_hooks.append(hook)

    def __enter__(self) -> Lab:  # noqa: PYI034 (typing.Self needs Python 3.11)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    # -- endpoints --------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        """The API endpoint for the AWS CLI and other processes (``--endpoint-url``)."""
        self._require_running()
        address = self._moto.host_port
        if address is None:
            raise LabError("the lab's API server has not started")
        from ecrlab.registry.server import advertised_host

        host, port = address
        return f"http://{advertised_host(host)}:{port}"

    @property
    def registry(self) -> str:
        """``host:port`` of the OCI registry (the data plane) for the lab's account and region.

        Started on first use (here, or by ``GetAuthorizationToken`` naming it): a lab that only
        teaches the API does not pay for the web server's start-up."""
        return self.registry_endpoint()

    def registry_endpoint(self, account_id: str | None = None, region: str | None = None) -> str:
        """``host:port`` of the registry for ``account_id`` in ``region`` (default: the lab's),
        started on first use: the ``/v2/`` paths name no account, so each registry has its own port."""
        self._require_running()
        return self._registry_endpoint_for(account_id or self.account_id, region or self.region)

    def _registry_endpoint_for(self, account_id: str, region: str) -> str:
        from ecrlab.registry.server import RegistryServer

        with self._registries_lock:
            server = self._registries.get((account_id, region))
            if server is None:
                port = self._registry_ports.get((account_id, region), 0)
                server = RegistryServer(self.engine, account_id, region, host=self._host, port=port).start()
                self._registries[(account_id, region)] = server
        return server.host_port

    def _stop_registries(self) -> None:
        with self._registries_lock:
            servers, self._registries = list(self._registries.values()), {}
        for server in servers:
            server.stop()
        self.engine.registry_endpoint = None

    @property
    def registry_host(self) -> str:
        """The registry host name real ECR would give this lab's account and region."""
        return registry_host(self.account_id, self.region)

    # -- identities -------------------------------------------------------------------------------
    def resolve_principal(self, access_key: str, session_token: str | None = None) -> Principal:
        """Who signs with ``access_key``: the lab's administrators, then IAM users' access keys and
        STS role sessions from the lab's IAM (``arn:aws:iam::<acct>:user/<name>``,
        ``arn:aws:sts::<acct>:assumed-role/<role>/<session>``). Keys nobody issued act as the lab
        administrator, as in moto, so ``boto3.client("ecr")`` in a notebook just works in the sandbox."""
        principal = self._resolve_principal(access_key, session_token)
        if access_key:
            self._access_keys[principal] = access_key
        return principal

    def _resolve_principal(self, access_key: str, session_token: str | None) -> Principal:
        known = self._principals.get(access_key)
        if known is not None:
            return known
        from ecrlab.access.identities import invalid_key, principal_for_key

        principal = principal_for_key(access_key, session_token)
        if principal is not None:
            self._iam_keys[access_key] = principal.account
            return principal
        if access_key in self._iam_keys:  # issued by IAM once, deleted since: refused as in AWS
            return invalid_key(self._iam_keys[access_key])
        return self.admin

    def account(self, account_id: str) -> Account:
        """Another AWS account in this lab (e.g. ``lab.account("222222222222")``), with its own IAM,
        registries and administrator: ``.account_id``, ``.client(name)``, ``.session(user=, role=)``."""
        from ecrlab.access.accounts import Account

        self._require_running()
        if account_id not in self._accounts:
            if account_id == self.account_id:
                raise LabError(f"{account_id} is the lab's own account: use lab.client() and lab.session()")
            account = Account(account_id, region=self.region, keyring=self._keyring, session_factory=self._boto_session)
            self.register_principal(account.admin_key, account.admin)
            self._accounts[account_id] = account
        return self._accounts[account_id]

    @property
    def accounts(self) -> list[Account]:
        """The other accounts this lab has opened with :meth:`account`, by account id."""
        return [self._accounts[k] for k in sorted(self._accounts)]

    def _install_access_control(self) -> None:
        import ecrlab.access
        from ecrlab.access.identities import KeyRing
        from ecrlab.wire import backends, iam, sts

        self._keyring: KeyRing = KeyRing(self.region)
        self._authorizer: LabAuthorizer = ecrlab.access.install(self.engine, self.account_id, backends)
        iam.install(self.resolve_principal)
        sts.install(self._refuse_assume_role)

    def _refuse_assume_role(self, access_key: str, session_token: str | None, role_arn: str) -> str | None:
        """The caller's ARN when the lab refuses its ``sts:AssumeRole`` of ``role_arn``, else None."""
        principal = self.resolve_principal(access_key, session_token)
        decision = self._authorizer.assume_role_decision(principal, role_arn, self.region)
        return principal.arn if decision is not None and not decision.allowed else None

    def _install_monitoring(self) -> None:
        clients: dict[tuple[str, str, str], Any] = {}

        def client_for(service: str, account: str, region: str) -> Any:
            # One client per (service, account, region): creating a boto3 client costs more than a call.
            key = (service, account, region)
            if key not in clients:
                owner = self if account == self.account_id else self.account(account)
                clients[key] = owner.client(service, region_name=region)
            return clients[key]

        cloudtrail.install(self.trail, self.resolve_principal, self.clock.now)
        eventbridge.install()
        self.monitoring = Monitoring(
            self.engine.events, self.trail, client_for, self.clock.now, cloudwatch.put_datum, cloudwatch.has_alarms
        )
        metrics = self.monitoring.metrics
        self.clock.on_advance(
            lambda before, after: metrics.evaluate_alarms(self.account_id, self.region) if self._running else None
        )

    def register_principal(self, access_key: str, principal: Principal) -> None:
        self._principals[access_key] = principal

    # -- clients ----------------------------------------------------------------------------------
    def session(self, user: str | None = None, role: str | None = None) -> boto3.Session:
        """A boto3 session acting as the lab administrator, an IAM user, or an assumed IAM role."""
        self._require_running()
        if user and role:
            raise LabError("lab.session() takes user= or role=, not both")
        if user or role:
            key, secret, token = self._keyring.credentials(self.account_id, user=user, role=role)
        else:
            key, secret, token = ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY, None
        return self._boto_session(key, secret, token)

    def _boto_session(self, key: str, secret: str, token: str | None) -> boto3.Session:
        self._require_running()
        return boto3.Session(
            botocore_session=safety.sandbox_botocore_session(),
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=self.region,
        )

    def client(self, name: str, region_name: str | None = None) -> Any:
        """A boto3 client for service ``name`` as the lab administrator."""
        return self.session().client(name, region_name=region_name or self.region)

    def cli_env(self) -> dict[str, str]:
        """Environment for running the AWS CLI against the sandbox from another process."""
        env = safety.child_environment(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=ADMIN_ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=ADMIN_SECRET_KEY,
            AWS_DEFAULT_REGION=self.region,
            AWS_ENDPOINT_URL=self.endpoint_url,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_PAGER="",
        )
        return env

    def aws(self, command: str, env: dict[str, str] | None = None) -> CliResult:
        """Run ``aws <command>`` for real against the sandbox and return what it printed."""
        import shlex

        self._require_running()
        executable = shutil.which("aws") or os.path.join(os.path.dirname(sys.executable), "aws")
        if not os.path.exists(executable):
            raise LabError("the AWS CLI is not installed here: `pip install awscli` puts it in this environment")
        args = shlex.split(command)
        proc = subprocess.run(
            [executable, *args, "--endpoint-url", self.endpoint_url],
            env={**self.cli_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,  # a failing command is a result to show the learner, not an exception
        )
        return CliResult(f"aws {command}", proc.returncode, proc.stdout, proc.stderr)

    def _require_running(self) -> None:
        if not self._running:
            raise LabError("this lab is not running: start one with ecrlab.start()")

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"<Lab {state} account={self.account_id} region={self.region} clock={self.clock.now().isoformat()}>"


def start(
    *,
    deterministic: bool | None = None,
    region: str = DEFAULT_REGION,
    host: str = "127.0.0.1",
    api_port: int = 0,
    registry_ports: Mapping[tuple[str, str], int] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Lab:
    """Start an ECR sandbox in this process and return it (also usable as a context manager).

    ``deterministic=True`` (or ``ECRLAB_DETERMINISTIC=1``) fixes the clock's start and seeds every
    generated id, so the same steps give byte-identical output. Starting a lab stops the one
    already running in this process, if any. ``host``, ``api_port`` and ``registry_ports`` (by
    ``(account, region)``) are for ``ecrlab serve``: the servers otherwise take free ports on 127.0.0.1.

    ``data_dir`` keeps the ECR state (registries, repositories, images and their blobs, policies,
    settings) in that directory across restarts, each change on disk before it is answered; without it
    the state lives only as long as the lab. One process at a time may use a data directory
    (:class:`~ecrlab.errors.DataDirLocked`).
    """
    mode = os.environ.get("ECRLAB_MODE", "sandbox").strip().lower() or "sandbox"
    if mode != "sandbox":
        # Only the embedded sandbox exists in this version; never fall through to real AWS silently.
        raise LabError(
            f"ECRLAB_MODE={mode!r} is not available: this version of ecrlab runs only the embedded sandbox "
            "(ECRLAB_MODE=sandbox, the default)"
        )
    return Lab(
        deterministic=deterministic,
        region=region,
        host=host,
        api_port=api_port,
        registry_ports=registry_ports,
        data_dir=data_dir,
    ).start()


def load_operations() -> None:
    """Register the ECR operations of every feature above the engine (the engine's own register when
    ``ecrlab.ecr`` is imported). The lab calls this when it starts; so does the coverage table."""
    import ecrlab.lifecycle.operations
    import ecrlab.scanning.operations  # noqa: F401
    from ecrlab.access import register_operations as register_access_operations
    from ecrlab.pullthrough import register_operations as register_pull_through_operations
    from ecrlab.replication import register_operations as register_replication_operations
    from ecrlab.signing import register_operations as register_signing_operations

    register_access_operations()  # repository and registry policies
    register_replication_operations()  # replication, its status, repository creation templates
    register_signing_operations()  # signing configurations, DescribeImageSigningStatus
    register_pull_through_operations()  # pull through cache rules


def active_lab() -> Lab | None:
    """The lab running in this process, if any."""
    return _active

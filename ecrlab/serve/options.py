"""What ``ecrlab serve`` was asked to serve, checked before anything starts."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ecrlab.errors import LabError
from ecrlab.net import is_loopback_host

__all__ = ["Options", "default_state_dir"]

_ACCOUNT = re.compile(r"\d{12}")
# AWS region names: partition prefix, geography, number (us-east-1, eu-west-1, us-gov-west-1, cn-north-1).
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def default_state_dir() -> Path:
    """Where ``--aws-hostnames`` keeps its CA without ``--data-dir``: the same place every run, so a CA
    trusted once stays trusted."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "ecrlab"


def _port(value: int | None, flag: str) -> None:
    if value is not None and not 0 < value < 65536:
        raise LabError(f"{flag} must be a TCP port between 1 and 65535, not {value}")


@dataclass(frozen=True)
class Options:
    """One ``ecrlab serve`` run. ``accounts[0]`` and ``regions[0]`` are the defaults the printed
    environment points at; a registry runs for every account × region."""

    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    host: str = "127.0.0.1"
    exposed: bool = False  # --i-know-this-is-exposed
    port: int | None = None
    registry_port_base: int | None = None
    aws_hostnames: bool = False
    tls_port: int = 443
    data_dir: Path | None = None
    state_dir: Path | None = None
    deterministic: bool | None = None
    print_env: bool = False
    registries: tuple[tuple[str, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.accounts:
            raise LabError("--accounts needs at least one account id")
        if not self.regions:
            raise LabError("--regions needs at least one region")
        for account in self.accounts:
            if not _ACCOUNT.fullmatch(account):
                raise LabError(f"--accounts: {account!r} is not an AWS account id (12 digits)")
        for region in self.regions:
            if not _REGION.fullmatch(region):
                raise LabError(f"--regions: {region!r} is not an AWS region name (such as us-east-1)")
        for values, flag in ((self.accounts, "--accounts"), (self.regions, "--regions")):
            if len(set(values)) != len(values):
                raise LabError(f"{flag} names the same value twice")
        if not is_loopback_host(self.host) and not self.exposed:
            raise LabError(
                f"--host {self.host} would let other machines reach the sandbox, which has fixed, published "
                "credentials and no protection: ecrlab serve listens on loopback only unless you add "
                "--i-know-this-is-exposed"
            )
        _port(self.port, "--port")
        _port(self.tls_port, "--tls-port")
        _port(self.registry_port_base, "--registry-port-base")
        registries = tuple((a, r) for a in self.accounts for r in self.regions)
        object.__setattr__(self, "registries", registries)
        if self.registry_port_base is not None and self.registry_port_base + len(registries) - 1 > 65535:
            raise LabError(f"--registry-port-base {self.registry_port_base} leaves no room for {len(registries)} ports")

    @property
    def registry_ports(self) -> dict[tuple[str, str], int]:
        """Fixed ports by (account, region), in --accounts × --regions order from --registry-port-base."""
        if self.registry_port_base is None:
            return {}
        return {pair: self.registry_port_base + i for i, pair in enumerate(self.registries)}

    @property
    def ca_dir(self) -> Path:
        return self.data_dir or self.state_dir or default_state_dir()

"""Whether a host name is this machine: the one test behind the sandbox guard, the registry client's choice of
plain HTTP and ``ecrlab serve``'s loopback-only rule (standard library only, below every other layer)."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback_host"]


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``); a name that needs a lookup is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

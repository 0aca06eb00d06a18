"""``ecrlab serve``: a local ECR for CI jobs and other processes (see docs/serve.md).

:class:`Options` checks what was asked (accounts, regions, ports, loopback unless opted out);
:class:`Service` starts the lab with a registry for every account × region, the health endpoint on the
API endpoint, and with ``--aws-hostnames`` the registries under their AWS names over TLS (:mod:`.tls`);
:func:`run` serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

from ecrlab.serve.options import Options
from ecrlab.serve.service import HEALTH_PATH, Service, run

__all__ = ["HEALTH_PATH", "Options", "Service", "run"]

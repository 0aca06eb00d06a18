"""Pull through cache: rules that fill repositories from upstream registries on the first pull.

- :mod:`~ecrlab.pullthrough.rules`: Create/Describe/Update/Delete/ValidatePullThroughCacheRule;
- :mod:`~ecrlab.pullthrough.cache`: the engine's ``pull_through`` hook (fetch, store, refresh every 24
  hours of lab time) and the "ECR Pull Through Cache Action" event;
- :mod:`~ecrlab.pullthrough.upstream`: the lab's upstream registries, one read-only OCI registry on
  127.0.0.1 answering for Docker Hub, ECR Public, Quay, GHCR, ... by the ``Host`` a request names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrlab.pullthrough.cache import REFRESH_INTERVAL, PullThroughCache, PullThroughCacheAction
from ecrlab.pullthrough.upstream import LAB_ACCESS_TOKEN, LAB_USERNAME, UPSTREAM_HOSTS, Upstream

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.pullthrough.cache import SecretReader

__all__ = [
    "LAB_ACCESS_TOKEN",
    "LAB_USERNAME",
    "REFRESH_INTERVAL",
    "UPSTREAM_HOSTS",
    "PullThroughCache",
    "PullThroughCacheAction",
    "Upstream",
    "attach",
    "register_operations",
]


def register_operations() -> None:
    """Add the pull through cache rule operations to the engine's table (idempotent)."""
    import ecrlab.pullthrough.rules  # noqa: F401  (importing registers them)


def attach(engine: Engine, read_secret: SecretReader) -> PullThroughCache:
    """Start the lab's upstream registries and let ``engine``'s pulls fill repositories from them; the
    caller stops ``cache.upstream`` when the lab stops."""
    register_operations()
    cache = PullThroughCache(engine, Upstream().start(), read_secret)
    engine.pull_through = cache
    return cache

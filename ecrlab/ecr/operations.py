"""The table of emulated ECR operations, filled by the ``@operation`` decorator.

Each feature module (repositories, images, lifecycle, ...) declares its operations here; the wire
adapter and the coverage table read the table, so adding an operation needs no edit elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecrlab.ecr.model import Principal, Registry, Repository

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.events import Event

__all__ = ["OPERATIONS", "Call", "Operation", "operation"]

Handler = Callable[["Call"], dict[str, Any]]


@dataclass
class Call:
    """One request to the engine: who asks, where, with which parameters."""

    engine: Engine
    operation: str
    principal: Principal
    region: str
    params: dict[str, Any]
    source: str = "api"  # "api" or "registry" (the data plane)
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def registry_id(self) -> str:
        """The registry the call is about: ``registryId`` if given, else the caller's account."""
        return self.params.get("registryId") or self.principal.account

    @property
    def registry(self) -> Registry:
        return self.engine.registry(self.registry_id, self.region)

    def repository(self, name: str | None = None) -> Repository:
        """The named repository (default: the ``repositoryName`` parameter) or RepositoryNotFound."""
        return self.engine.repository(self.registry_id, self.region, name or self.params["repositoryName"])

    def now(self) -> datetime:
        return self.engine.clock.now()

    def emit(self, event: Event) -> None:
        """Publish what this call changed; delivered once the call is done (see :mod:`ecrlab.ecr.events`)."""
        self.engine.events.enqueue(event)


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Handler
    # The IAM action checked for the call and how to find the resource it acts on:
    # "repository" (the repositoryName parameter), "resourceArn", or "*".
    action: str
    resource: str
    notes: str = ""


OPERATIONS: dict[str, Operation] = {}


def operation(
    name: str, *, resource: str = "repository", action: str | None = None, notes: str = ""
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the engine's implementation of the ECR operation ``name``."""

    def register(handler: Handler) -> Handler:
        if name in OPERATIONS:
            raise RuntimeError(f"ECR operation {name} is registered twice")
        OPERATIONS[name] = Operation(name, handler, action or f"ecr:{name}", resource, notes)
        return handler

    return register

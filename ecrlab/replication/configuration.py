"""A registry's replication configuration: PutReplicationConfiguration's checks, and which destinations
a repository's pushes go to.

Limits come from botocore's ECR model (checked by :func:`ecrlab.ecr.params.validate` before the handler
runs): at most 10 rules, at most 100 destinations and 1 to 100 PREFIX_MATCH filters per rule, 12-digit
registry ids. The User Guide once capped destinations at 25; the current model allows 100 per rule and
is the one followed. What the model cannot say is checked here: a destination must be a region of the
``aws`` partition (ECR does not replicate across partitions), and a registry cannot replicate to itself.
The configuration is read back with DescribeRegistry.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from botocore.regions import EndpointResolver

from ecrlab.ecr.model import Registry
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import model_loader
from ecrlab.errors import InvalidParameterException

__all__ = ["Destination", "destinations_for", "valid_regions"]

#: (registryId, region) of a replication destination.
Destination = tuple[str, str]


@lru_cache(maxsize=1)
def valid_regions() -> frozenset[str]:
    """The regions ECR runs in, in the commercial partition (from botocore's endpoint data, read from
    the installed botocore alone: no profile or environment is consulted)."""
    resolver = EndpointResolver(model_loader().load_data("endpoints"))
    return frozenset(resolver.get_available_endpoints("api.ecr", "aws"))  # ECR's endpoint prefix


def _matches(rule: dict[str, Any], repository: str) -> bool:
    filters = rule.get("repositoryFilters") or []
    # A rule without filters replicates every repository; PREFIX_MATCH is a plain prefix of the name.
    return not filters or any(repository.startswith(f["filter"]) for f in filters)


def destinations_for(registry: Registry, repository: str) -> list[Destination]:
    """Where a push to ``repository`` replicates: each destination of every rule that matches it,
    once, in the order the configuration names them."""
    out: list[Destination] = []
    for rule in registry.replication_rules:
        if _matches(rule, repository):
            for d in rule["destinations"]:
                if (d["registryId"], d["region"]) not in out:
                    out.append((d["registryId"], d["region"]))
    return out


@operation(
    "PutReplicationConfiguration",
    resource="*",
    notes="copies images on push, across regions and the lab's accounts, on the lab clock",
)
def put_replication_configuration(call: Call) -> dict[str, Any]:
    config = call.params["replicationConfiguration"]
    rules = config["rules"]
    for r, rule in enumerate(rules, start=1):
        where = f"replicationConfiguration.rules.{r}"
        seen: set[Destination] = set()
        for d, destination in enumerate(rule["destinations"], start=1):
            region, registry_id = destination["region"], destination["registryId"]
            member = f"{where}.destinations.{d}"
            if region not in valid_regions():
                raise InvalidParameterException.at(f"{member}.region", f"Invalid destination region '{region}'")
            if (registry_id, region) == (call.registry_id, call.region):
                raise InvalidParameterException.at(
                    member,
                    f"Replication destination cannot be the source registry '{registry_id}' in region '{region}'",
                )
            if (registry_id, region) in seen:
                raise InvalidParameterException.at(
                    member, f"Duplicate destination '{registry_id}' in region '{region}' in one rule"
                )
            seen.add((registry_id, region))
    stored = [
        {
            "destinations": [{"region": d["region"], "registryId": d["registryId"]} for d in rule["destinations"]],
            **(
                {"repositoryFilters": [{"filter": f["filter"], "filterType": f["filterType"]} for f in filters]}
                if (filters := rule.get("repositoryFilters"))
                else {}
            ),
        }
        for rule in rules
    ]
    call.registry.replication_rules = stored
    return {"replicationConfiguration": {"rules": copy.deepcopy(stored)}}

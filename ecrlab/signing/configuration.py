"""A registry's signing configuration: Put/Get/DeleteSigningConfiguration, and which signing profiles sign a
push to a repository.

The limits come from botocore's ECR model, checked by :func:`ecrlab.ecr.params.validate` before a handler
runs and worded as ECR words a broken constraint: at most 10 rules, 1 to 100 ``WILDCARD_MATCH`` filters per
rule (each a repository name in which ``*`` may stand for any characters), a ``signingProfileArn`` matching
``arn:aws(-...)*:signer:<region>:<account>:/signing-profiles/<name>``. ECR documents no further check, and
none is invented here: a profile ARN is not looked up in AWS Signer when the configuration is saved (signing
on push is where a missing permission shows, as a FAILED status).
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

from ecrlab.ecr.model import Registry
from ecrlab.ecr.operations import Call, operation
from ecrlab.errors import SigningConfigurationNotFoundException

__all__ = ["matches", "profiles_for"]


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def matches(rule: dict[str, Any], repository: str) -> bool:
    """Whether ``rule`` covers ``repository``: a rule without filters covers every repository; a
    WILDCARD_MATCH filter must match the whole name (``myapp/*``, ``*/production``, ``*prod*``)."""
    filters = rule.get("repositoryFilters") or []
    return not filters or any(_wildcard(f["filter"]).fullmatch(repository) for f in filters)


def profiles_for(registry: Registry, repository: str) -> list[str]:
    """The signing profiles that sign a push to ``repository``: one per profile, however many of the rules
    that name it match, in the order the configuration names them (DescribeImageSigningStatus returns one
    status per profile)."""
    out: list[str] = []
    for rule in registry.signing_rules or []:
        if matches(rule, repository) and rule["signingProfileArn"] not in out:
            out.append(rule["signingProfileArn"])
    return out


def _stored(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "signingProfileArn": rule["signingProfileArn"],
            **(
                {"repositoryFilters": [{"filter": f["filter"], "filterType": f["filterType"]} for f in filters]}
                if (filters := rule.get("repositoryFilters"))
                else {}
            ),
        }
        for rule in config["rules"]
    ]


@operation(
    "PutSigningConfiguration",
    resource="*",
    notes="pushes to matching repositories signed on the lab clock with a lab key (Notation JWS referrer)",
)
def put_signing_configuration(call: Call) -> dict[str, Any]:
    rules = _stored(call.params["signingConfiguration"])
    call.registry.signing_rules = rules
    return {"signingConfiguration": {"rules": copy.deepcopy(rules)}}


def _existing(call: Call) -> list[dict[str, Any]]:
    rules = call.registry.signing_rules
    if rules is None:
        raise SigningConfigurationNotFoundException(call.registry_id)
    return rules


@operation("GetSigningConfiguration", resource="*")
def get_signing_configuration(call: Call) -> dict[str, Any]:
    rules = _existing(call)
    return {"registryId": call.registry_id, "signingConfiguration": {"rules": copy.deepcopy(rules)}}


@operation("DeleteSigningConfiguration", resource="*", notes="existing signatures stay, as in ECR")
def delete_signing_configuration(call: Call) -> dict[str, Any]:
    rules = _existing(call)
    call.registry.signing_rules = None
    return {"registryId": call.registry_id, "signingConfiguration": {"rules": rules}}

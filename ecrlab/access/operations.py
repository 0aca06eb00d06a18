"""The ECR operations that need the policy engine: repository and registry policies.

They register in the engine's table (:func:`ecrlab.ecr.operations.operation`) when this module is
imported, which :func:`ecrlab.access.install` does: the engine (``ecrlab.ecr``) sits below access and
never imports it.

ECR does not keep the caller's bytes: it parses a policy and stores it re-serialised by its Java
service's JSON library (Jackson's default pretty printer), and that text is what every call returns
(``aws ecr set-repository-policy`` in the AWS CLI's examples shows it). :func:`ecr_policy_text` writes
that style: two-space indent, ``"key" : value``, arrays on one line (``[ "a", "b" ]``, ``[ {``),
``{ }`` and ``[ ]`` when empty.
"""

from __future__ import annotations

import json
from typing import Any

from ecrlab.access.actions import expand_actions
from ecrlab.access.authorizer import REGISTRY_POLICY_V1_ACTIONS
from ecrlab.access.grammar import as_list, parse_policy
from ecrlab.access.identities import unknown_principals
from ecrlab.ecr.events import PolicyChanged
from ecrlab.ecr.jsonlimits import loads_bounded
from ecrlab.ecr.operations import Call, operation
from ecrlab.errors import (
    InvalidParameterException,
    PolicyGrammarError,
    RegistryPolicyNotFoundException,
    RepositoryPolicyNotFoundException,
)

__all__ = ["ecr_policy_text", "validate_policy_text"]

# Jackson's escapes: the short forms JSON has, \\u00XX (upper-case hex) for other control characters;
# everything else, non-ASCII included, is written as it is.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(value: str) -> str:
    out = []
    for char in value:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _write(value: Any, nesting: int, out: list[str]) -> None:
    # Objects indent their members on new lines (nesting counts objects only); arrays stay on one line.
    if isinstance(value, dict):
        if not value:
            out.append("{ }")
            return
        out.append("{")
        for i, (key, member) in enumerate(value.items()):
            out.append(("," if i else "") + "\n" + "  " * (nesting + 1) + _string(str(key)) + " : ")
            _write(member, nesting + 1, out)
        out.append("\n" + "  " * nesting + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[ ]")
            return
        out.append("[ ")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _write(item, nesting, out)
        out.append(" ]")
    elif isinstance(value, str):
        out.append(_string(value))
    else:  # numbers, true/false, null: JSON's spelling
        out.append(json.dumps(value))


def ecr_policy_text(text: str) -> str:
    """``text`` (a policy document) re-serialised the way ECR stores and returns it."""
    out: list[str] = []
    _write(loads_bounded(text, what="policy document"), 0, out)
    return "".join(out)


def validate_policy_text(text: str, member: str = "PolicyText", kind: str = "repository") -> dict[str, Any]:
    """Parse a resource policy and check the grammar ECR checks; raise InvalidParameterException."""
    try:
        document = parse_policy(text, resource_policy=True, service="ecr")
    except PolicyGrammarError as exc:
        raise _invalid_policy(member, kind, str(exc)) from None
    missing = unknown_principals(document)
    if missing:
        raise _invalid_policy(member, kind, f"Invalid principal in policy: {', '.join(missing)} does not exist")
    return document


def _invalid_policy(member: str, kind: str, detail: str) -> InvalidParameterException:
    return InvalidParameterException(
        f"Invalid parameter at '{member}' failed to satisfy constraint: 'Invalid {kind} policy provided'. {detail}"
    )


# Repository policies ---------------------------------------------------------------------------


@operation("SetRepositoryPolicy")
def set_repository_policy(call: Call) -> dict[str, Any]:
    repo = call.repository()
    text = call.params["policyText"]
    validate_policy_text(text)
    repo.policy_text = ecr_policy_text(text)
    call.emit(
        PolicyChanged(repo.account, repo.region, call.now(), "repository", repo.name, repo.policy_text, call.principal)
    )
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": repo.policy_text}


@operation("GetRepositoryPolicy")
def get_repository_policy(call: Call) -> dict[str, Any]:
    repo = call.repository()
    if repo.policy_text is None:
        raise RepositoryPolicyNotFoundException(
            f"Repository policy does not exist for the repository with name '{repo.name}' "
            f"in the registry with id '{repo.account}'"
        )
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": repo.policy_text}


@operation("DeleteRepositoryPolicy")
def delete_repository_policy(call: Call) -> dict[str, Any]:
    out = get_repository_policy(call)
    repo = call.repository()
    repo.policy_text = None
    call.emit(PolicyChanged(repo.account, repo.region, call.now(), "repository", repo.name, None, call.principal))
    return out


# Registry policy -------------------------------------------------------------------------------
# A resource-based policy for the whole private registry (one per account and region). Under the
# REGISTRY_POLICY_SCOPE account setting's V1 it may grant only REGISTRY_POLICY_V1_ACTIONS; under V2
# (the default) any ECR action. The authorizer applies it beside each repository's own policy.


def _check_v1(document: dict[str, Any]) -> None:
    for statement in document["Statement"]:
        for pattern in as_list(statement.get("Action", statement.get("NotAction", []))):
            outside = sorted(
                set(expand_actions(pattern) if pattern != "*" else ["*"]) - set(REGISTRY_POLICY_V1_ACTIONS)
            )
            if "NotAction" in statement or outside:
                raise InvalidParameterException(
                    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'. "
                    f"With the V1 registry policy scope a registry policy may only grant {', '.join(REGISTRY_POLICY_V1_ACTIONS)}; "
                    f"'{pattern}' goes beyond them (PutAccountSetting name=REGISTRY_POLICY_SCOPE value=V2 lifts this)"
                )


@operation("PutRegistryPolicy", resource="*")
def put_registry_policy(call: Call) -> dict[str, Any]:
    text = call.params["policyText"]
    document = validate_policy_text(text, kind="registry")
    if call.registry.account_settings.get("REGISTRY_POLICY_SCOPE", "V2") == "V1":
        _check_v1(document)
    registry = call.registry
    registry.policy_text = ecr_policy_text(text)
    call.emit(
        PolicyChanged(
            registry.account, registry.region, call.now(), "registry", None, registry.policy_text, call.principal
        )
    )
    return {"registryId": call.registry_id, "policyText": registry.policy_text}


@operation("GetRegistryPolicy", resource="*")
def get_registry_policy(call: Call) -> dict[str, Any]:
    text = call.registry.policy_text
    if text is None:
        raise RegistryPolicyNotFoundException(
            f"Registry policy does not exist in the registry with id '{call.registry_id}'"
        )
    return {"registryId": call.registry_id, "policyText": text}


@operation("DeleteRegistryPolicy", resource="*")
def delete_registry_policy(call: Call) -> dict[str, Any]:
    out = get_registry_policy(call)
    registry = call.registry
    registry.policy_text = None
    call.emit(PolicyChanged(registry.account, registry.region, call.now(), "registry", None, None, call.principal))
    return out

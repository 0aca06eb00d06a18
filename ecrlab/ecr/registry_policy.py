"""Registry permissions: Put/Get/DeleteRegistryPolicy and the account settings that scope them.

A registry policy is a resource-based policy for the whole private registry (one per account and
region). Under the ``V1`` scope it may grant only ``ecr:ReplicateImage``, ``ecr:CreateRepository``
and ``ecr:BatchImportUpstreamImage``; under ``V2`` (the default) any ECR action. The authorizer in
:mod:`ecrlab.access.authorizer` applies it beside each repository's own policy.
"""

from __future__ import annotations

from typing import Any

from ecrlab.access.actions import expand_actions
from ecrlab.access.grammar import as_list
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.repositories import validate_policy_text
from ecrlab.errors import InvalidParameterException, RegistryPolicyNotFoundException

__all__ = ["ACCOUNT_SETTINGS"]

#: Account settings ECR knows, with their allowed values; the first is the default (User Guide).
ACCOUNT_SETTINGS: dict[str, tuple[str, ...]] = {
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE", "CLAIR"),
    "BLOB_MOUNTING": ("DISABLED", "ENABLED"),
    "REGISTRY_POLICY_SCOPE": ("V2", "V1"),
}


def _scope(call: Call) -> str:
    return call.registry.account_settings.get("REGISTRY_POLICY_SCOPE", "V2")


def _check_v1(document: dict[str, Any]) -> None:
    # Imported here: the authorizer imports the engine's model, so a module-level import is a cycle.
    from ecrlab.access.authorizer import REGISTRY_POLICY_V1_ACTIONS

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
    if _scope(call) == "V1":
        _check_v1(document)
    call.registry.policy_text = text
    return {"registryId": call.registry_id, "policyText": text}


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
    call.registry.policy_text = None
    return out


def _setting_name(call: Call) -> str:
    name = call.params["name"]
    if name not in ACCOUNT_SETTINGS:
        raise InvalidParameterException(
            f"Invalid parameter at 'name' failed to satisfy constraint: 'Account setting name must be one of "
            f"[{', '.join(ACCOUNT_SETTINGS)}]'"
        )
    return name


@operation("GetAccountSetting", resource="*")
def get_account_setting(call: Call) -> dict[str, Any]:
    name = _setting_name(call)
    return {"name": name, "value": call.registry.account_settings.get(name, ACCOUNT_SETTINGS[name][0])}


@operation("PutAccountSetting", resource="*")
def put_account_setting(call: Call) -> dict[str, Any]:
    name = _setting_name(call)
    value = call.params["value"]
    if value not in ACCOUNT_SETTINGS[name]:
        raise InvalidParameterException(
            f"Invalid parameter at 'value' failed to satisfy constraint: 'Account setting value for {name} must be "
            f"one of [{', '.join(ACCOUNT_SETTINGS[name])}]'"
        )
    call.registry.account_settings[name] = value
    return {"name": name, "value": value}

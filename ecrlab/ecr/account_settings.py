"""Account settings: GetAccountSetting and PutAccountSetting.

``REGISTRY_POLICY_SCOPE`` scopes the registry policy (``V1``: it may grant only
``ecr:ReplicateImage``, ``ecr:CreateRepository`` and ``ecr:BatchImportUpstreamImage``; ``V2``, the
default, any ECR action). The registry policy operations need the policy engine and live with it,
in :mod:`ecrlab.access.operations`.
"""

from __future__ import annotations

from typing import Any

from ecrlab.ecr.operations import Call, operation
from ecrlab.errors import InvalidParameterException

__all__ = ["ACCOUNT_SETTINGS"]

#: Account settings ECR knows, with their allowed values; the first is the default (User Guide).
ACCOUNT_SETTINGS: dict[str, tuple[str, ...]] = {
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE", "CLAIR"),
    "BLOB_MOUNTING": ("DISABLED", "ENABLED"),
    "REGISTRY_POLICY_SCOPE": ("V2", "V1"),
}


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

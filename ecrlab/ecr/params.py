"""Checks of request parameters against botocore's ECR model, worded as real ECR words them.

Real ECR validates on the server what botocore does not check on the client (patterns, for one):
``MyRepository`` is refused with ``InvalidParameterException``. Every emulated operation's input goes
through :func:`validate` before its handler runs, so the rules come from the model, not from memory.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from typing import Any

from botocore.model import ServiceModel, Shape

from ecrlab.errors import InvalidParameterException
from ecrlab.safety import sandbox_botocore_session

__all__ = ["decode_token", "encode_token", "invalid", "paginate", "service_model", "validate"]


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    """botocore's ECR model: the authority for names, shapes, enums and limits."""
    return sandbox_botocore_session().get_service_model("ecr")


def invalid(member: str, constraint: str) -> InvalidParameterException:
    """ECR's wording for a parameter that fails a constraint."""
    return InvalidParameterException(f"Invalid parameter at '{member}' failed to satisfy constraint: '{constraint}'")


def validate(operation: str, params: dict[str, Any]) -> None:
    """Raise InvalidParameterException for the first parameter that breaks the model's constraints."""
    shape = service_model().operation_model(operation).input_shape
    if shape is not None:
        _check(shape, params, "")


def _check(shape: Shape, value: Any, path: str) -> None:
    name = path or shape.name
    if value is None:
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise invalid(name, "must be a structure")
        for required in meta.get("required", []):
            if value.get(required) is None:
                raise invalid(_join(path, required), "Member must not be null")
        for key, member_value in value.items():
            if key in shape.members:
                _check(shape.members[key], member_value, _join(path, key))
        return
    if kind == "list":
        if not isinstance(value, list):
            raise invalid(name, "must be a list")
        _length(name, len(value), meta)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{name}.{index + 1}")
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise invalid(name, "must be a map")
        return
    if kind == "string":
        if not isinstance(value, str):
            raise invalid(name, "must be a string")
        _length(name, len(value), meta)
        if "enum" in meta and value not in meta["enum"]:
            raise invalid(name, f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise invalid(name, f"must satisfy regular expression '{pattern}'")
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(name, "must be an integer")
        if "min" in meta and value < meta["min"]:
            raise invalid(name, f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            raise invalid(name, f"Member must have value less than or equal to {meta['max']}")
        return
    if kind == "boolean" and not isinstance(value, bool):
        raise invalid(name, "must be a boolean")


def _length(name: str, length: int, meta: dict[str, Any]) -> None:
    if "min" in meta and length < meta["min"]:
        raise invalid(name, f"Member must have length greater than or equal to {meta['min']}")
    if "max" in meta and length > meta["max"]:
        raise invalid(name, f"Member must have length less than or equal to {meta['max']}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# Pagination ------------------------------------------------------------------------------------
# Tokens are opaque to clients (as in ECR) and name the last key returned, so a page boundary stays
# right when items are added or removed between calls.


def encode_token(last_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_key}).encode()).decode()


def decode_token(token: str) -> str:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError):
        raise InvalidParameterException(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: 'The nextToken is invalid'"
        ) from None


def paginate(items: list[Any], key: Any, params: dict[str, Any], default_max: int) -> tuple[list[Any], str | None]:
    """One page of ``items`` (already sorted by ``key``) for ``maxResults``/``nextToken``."""
    max_results = params.get("maxResults") or default_max
    token = params.get("nextToken")
    if token:
        after = decode_token(token)
        items = [item for item in items if key(item) > after]
    page = items[:max_results]
    next_token = encode_token(key(page[-1])) if len(items) > max_results else None
    return page, next_token

"""Checks of request parameters against botocore's ECR model, worded as real ECR words them.

Real ECR validates on the server what botocore does not check on the client (patterns, for one):
``MyRepository`` is refused with ``InvalidParameterException``. Every emulated operation's input goes
through :func:`validate` before its handler runs, so the rules come from the model, not from memory:
required members, types, lengths, patterns, enums and ranges, through nested structures, lists and
maps. What AWS's JSON 1.1 front end cannot deserialize (a list where a string belongs, a number for a
blob) is a ``SerializationException``, as every JSON-protocol AWS service answers it; a value of the
right type that breaks a constraint is ECR's ``InvalidParameterException``. Members the model does
not know are ignored, as AWS ignores them.

The model is read with a plain botocore ``Loader`` on first use: no session, so no AWS profile,
config file or credential variable of the learner's environment is consulted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import lru_cache
from typing import Any

import botocore.loaders
from botocore.model import ServiceModel, Shape

from ecrlab.ecr.jsonlimits import loads_bounded
from ecrlab.errors import InvalidParameterException, SerializationException

__all__ = [
    "IMAGE_TAG_PATTERN",
    "MAX_REQUEST_BYTES",
    "decode_token",
    "encode_token",
    "invalid_token",
    "paginate",
    "request_object",
    "service_model",
    "validate",
]

# ECR checks image tags on the server against this pattern (the model gives only the length, 1-300)
# and answers ``Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular
# expression ...'``. The check applies to a request's own ``imageTag``; tags inside the batch APIs'
# ``imageIds`` are reported per id with the ``InvalidImageTag`` failure code (ImageFailureCode), by
# :func:`ecrlab.ecr.images.find_image`. The OCI registry's grammar is stricter (see the coverage doc).
IMAGE_TAG_PATTERN = "[a-zA-Z0-9-_.]+"
_SERVER_PATTERNS = {"imageTag": IMAGE_TAG_PATTERN}  # by member path


@lru_cache(maxsize=1)
def model_loader() -> botocore.loaders.Loader:
    """One botocore data loader for the engine and every session the lab makes: it caches the service
    models it has read. It reads botocore's data files alone, never an AWS profile or config file, so
    ``AWS_PROFILE`` naming a profile not configured here cannot break the sandbox."""
    return botocore.loaders.create_loader()


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    """botocore's ECR model: the authority for names, shapes, enums and limits."""
    return ServiceModel(model_loader().load_service_model("ecr", "service-2"), service_name="ecr")


# The largest request the API must read: an UploadLayerPart of 20 MiB (LayerPartBlob's maximum),
# base64 on the wire (4/3), with room for the other members.
MAX_REQUEST_BYTES = 28 * 1024 * 1024 + 64 * 1024


def request_object(value: Any) -> dict[str, Any]:
    """A parsed request body, which must be a JSON object (every ECR input shape is a structure)."""
    if not isinstance(value, dict):
        raise _wrong_type(value, service_model().shape_for("CreateRepositoryRequest"))
    return value


def validate(operation: str, params: Any) -> None:
    """Raise SerializationException for a value of the wrong JSON type, InvalidParameterException for
    the first parameter that breaks the model's constraints (in the order the model lists members)."""
    shape = service_model().operation_model(operation).input_shape
    if shape is None:
        return
    if not isinstance(params, dict):
        raise _wrong_type(params, shape)
    # AWS deserializes the whole body before it validates any of it, so a wrong type anywhere is
    # reported ahead of a broken constraint anywhere: two passes.
    _check(shape, params, "", constraints=False)
    _check(shape, params, "", constraints=True)


# JSON token names as AWS's deserializer reports them ("NUMBER_VALUE can not be converted to a String").
def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return "UNKNOWN"


_JAVA_TYPE = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "boolean": "a Boolean",
    "blob": "a ByteBuffer",
    "timestamp": "a Date",
    "float": "a Float",
    "double": "a Double",
    "structure": "a Structure",
    "map": "a Map",
    "list": "a List",
}


def _wrong_type(value: Any, shape: Shape) -> SerializationException:
    if isinstance(value, dict):
        return SerializationException("Start of structure or map found where not expected.")
    if isinstance(value, list):
        return SerializationException("Start of list found where not expected")
    return SerializationException(
        f"{_token(value)} can not be converted to {_JAVA_TYPE.get(shape.type_name, 'a value')}"
    )


def _check(shape: Shape, value: Any, path: str, constraints: bool) -> None:
    """Check types (``constraints=False``) or, once types are known good, constraints."""
    name = path or shape.name
    if value is None:  # JSON null is an absent member on AWS's JSON protocols
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong_type(value, shape)
        for required in meta.get("required", []) if constraints else ():
            if value.get(required) is None:
                raise InvalidParameterException.at(_join(path, required), "Member must not be null")
        for key, member in shape.members.items():
            if key in value:
                _check(member, value[key], _join(path, key), constraints)
        return
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong_type(value, shape)
        if constraints:
            _length(name, len(value), meta)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{name}.{index + 1}", constraints)
        return
    if kind == "map":
        if not isinstance(value, dict):
            raise _wrong_type(value, shape)
        if constraints:
            _length(name, len(value), meta)
        for key, item in value.items():
            _check(shape.key, key, f"{name}.{key}", constraints)
            _check(shape.value, item, f"{name}.{key}", constraints)
        return
    if kind == "string":
        if not isinstance(value, str):
            raise _wrong_type(value, shape)
        if not constraints:
            return
        _length(name, len(value), meta)
        if "enum" in meta and value not in meta["enum"]:
            raise InvalidParameterException.at(name, f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
        pattern = meta.get("pattern") or _SERVER_PATTERNS.get(path)
        if pattern and not re.fullmatch(pattern, value):
            raise InvalidParameterException.at(name, f"must satisfy regular expression '{pattern}'")
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(value, shape)
        if not constraints:
            return
        if "min" in meta and value < meta["min"]:
            raise InvalidParameterException.at(name, f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            raise InvalidParameterException.at(name, f"Member must have value less than or equal to {meta['max']}")
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong_type(value, shape)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong_type(value, shape)
        return
    if kind == "blob":
        size = len(_blob_bytes(value, shape))
        if constraints:
            _length(name, size, meta)
        return
    if kind == "timestamp" and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise _wrong_type(value, shape)


def _blob_bytes(value: Any, shape: Shape) -> bytes:
    """A blob member's bytes: base64 text on the wire, bytes when the engine is called in-process."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str):
        raise _wrong_type(value, shape)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationException("Base64 encoded value could not be decoded") from None


def _length(name: str, length: int, meta: dict[str, Any]) -> None:
    if "min" in meta and length < meta["min"]:
        raise InvalidParameterException.at(name, f"Member must have length greater than or equal to {meta['min']}")
    if "max" in meta and length > meta["max"]:
        raise InvalidParameterException.at(name, f"Member must have length less than or equal to {meta['max']}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# Pagination ------------------------------------------------------------------------------------
# Tokens are opaque to clients (as in ECR) and name the last key returned, so a page boundary stays
# right when items are added or removed between calls.


def encode_token(last_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_key}).encode()).decode()


def invalid_token() -> InvalidParameterException:
    return InvalidParameterException.at("nextToken", "The nextToken is invalid")


def decode_token(token: str) -> str:
    try:
        after = loads_bounded(base64.urlsafe_b64decode(token.encode()), max_bytes=4096, what="nextToken")["after"]
    except (ValueError, KeyError, TypeError, SerializationException):
        raise invalid_token() from None
    if not isinstance(after, str):
        raise invalid_token()
    return after


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

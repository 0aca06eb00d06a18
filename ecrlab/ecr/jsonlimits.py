"""Bounded JSON parsing for everything a client sends (request bodies, policies, manifests).

Python's parser recurses per nesting level, so a body of ``[`` x 100000 would otherwise surface as a
``RecursionError`` (a 500). Every parse of client input goes through :func:`loads_bounded`, which refuses
oversized or too-deeply nested documents with :class:`~ecrlab.errors.SerializationException` (AWS's code
for a body that cannot be deserialized); adapters map it to their wire format.
"""

from __future__ import annotations

import json
from typing import Any

from ecrlab.errors import SerializationException

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "loads_bounded", "nesting_depth"]

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def nesting_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed document (a scalar is depth 0); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def loads_bounded(
    raw: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "request"
) -> Any:
    """Parse ``raw`` as JSON, refusing documents larger than ``max_bytes`` or nested deeper than ``max_depth``.

    Raises SerializationException for oversized, too-deep or malformed input; never RecursionError."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise SerializationException(f"The {what} is {size} bytes; at most {max_bytes} bytes are accepted")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise SerializationException(f"The {what} nests deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise SerializationException(f"The {what} is not valid JSON") from None
    if nesting_depth(value) > max_depth:
        raise SerializationException(f"The {what} nests deeper than {max_depth} levels")
    return value

"""Names a package exports but loads on first use (PEP 562), so importing a low layer stays cheap.

``import ecrlab.images.oci`` must not pull in boto3 and the engine through ``ecrlab/__init__.py``; the
package roots that re-export heavier modules declare where each name lives and let this module load it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: dict[str, str], exported: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each name in ``homes`` is imported from its module
    the first time it is asked for, then kept in the package so later lookups never come back here."""
    names = set(exported)

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__

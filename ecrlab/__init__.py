"""ecrlab: a faithful Amazon ECR sandbox for learning, on your own machine.

>>> import ecrlab
>>> with ecrlab.start() as lab:
...     lab.client("ecr").create_repository(repositoryName="hello")

``Lab`` and ``start`` load the sandbox (boto3, moto, the engine) on first use (PEP 562), so a
lower layer such as ``import ecrlab.images.oci`` imports none of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ecrlab.clock import LabClock
from ecrlab.errors import EcrlabError, LabError, ServiceError

if TYPE_CHECKING:
    from ecrlab.lab import Lab, start

__all__ = ["EcrlabError", "Lab", "LabClock", "LabError", "ServiceError", "start"]
__version__ = "0.1.0"

_LAZY = {"Lab": "ecrlab.lab", "start": "ecrlab.lab"}


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups find it without coming back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""ecrlab: a faithful Amazon ECR sandbox for learning, on your own machine.

>>> import ecrlab
>>> with ecrlab.start() as lab:
...     lab.client("ecr").create_repository(repositoryName="hello")

``Lab`` and ``start`` load the sandbox (boto3, moto, the engine) on first use (PEP 562), so a
lower layer such as ``import ecrlab.images.oci`` imports none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrlab.clock import LabClock
from ecrlab.errors import EcrlabError, LabError, ServiceError
from ecrlab.lazy import lazy_exports

if TYPE_CHECKING:
    from ecrlab.lab import Lab, start

__all__ = ["EcrlabError", "Lab", "LabClock", "LabError", "ServiceError", "start"]
__version__ = "0.1.0"

_LAZY = {"Lab": "ecrlab.lab", "start": "ecrlab.lab"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)

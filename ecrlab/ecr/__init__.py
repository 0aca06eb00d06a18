"""The ECR engine (state and rules, no HTTP) and its thin moto adapter.

Importing this package imports every module in it, and with them every ``@operation`` they register
in :data:`OPERATIONS`: a new operation module needs no edit elsewhere.
"""

import importlib
import pkgutil

from ecrlab.ecr.engine import Engine
from ecrlab.ecr.operations import OPERATIONS, Call, operation

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["OPERATIONS", "Call", "Engine", "operation"]

"""The ECR engine: state and rules, no HTTP, and the table of the operations it answers.

The engine's own operations (repositories, images, layers, authorization tokens) register in
:data:`OPERATIONS` when this package is imported. Features above the engine (lifecycle, access control,
scanning, ...) register theirs from their own packages when the lab loads them
(:func:`ecrlab.lab.load_operations`); the engine imports none of them.
"""

from ecrlab.ecr import account_settings, auth, images, layers, repositories  # noqa: F401  (register the engine's operations)
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.operations import OPERATIONS, Call, operation

__all__ = ["OPERATIONS", "Call", "Engine", "operation"]

"""Exercises for the lessons: ``from ecrlab.exercises import ____, lesson01 as ex``, then ``ex.q1.check()``.

Each lesson's questions live in ``ecrlab/exercises/lessonNN.py`` as ``q1``, ``q2``... (see
:mod:`ecrlab.exercises.core` for how to write one). ``lesson("01")`` returns the module by number.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ecrlab.exercises.core import Feedback, Incorrect, NotAttempted, Problem, ____

__all__ = ["Feedback", "Incorrect", "NotAttempted", "Problem", "____", "lesson"]


def lesson(number: str | int) -> ModuleType:
    """The exercises of lesson ``number`` (``"01"`` or ``1``), e.g. ``lesson("01").q1.check()``."""
    return importlib.import_module(f"ecrlab.exercises.lesson{int(number):02d}")

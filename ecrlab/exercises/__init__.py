"""Exercises for the lessons: ``from ecrlab.exercises import ____, lesson01 as ex``, then ``ex.q1.check()``.

Each lesson's questions live in ``ecrlab/exercises/lessonNN.py`` as ``q1``, ``q2``... (see
:mod:`ecrlab.exercises.core` for how to write one). ``lesson("01")`` returns the module by number.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ecrlab.exercises.core import Feedback, Incorrect, NotAttempted, Problem, ____

__all__ = ["Feedback", "Incorrect", "NotAttempted", "Problem", "____", "lesson", "questions"]


def lesson(number: str | int) -> ModuleType:
    """The exercises of lesson ``number`` (``"01"`` or ``1``), e.g. ``lesson("01").q1.check()``."""
    return importlib.import_module(f"ecrlab.exercises.lesson{int(number):02d}")


def questions(module: ModuleType) -> Questions:
    """The questions of a lesson's exercise module, one line each: ``questions(ex)`` in a notebook."""
    found = []
    for name in sorted((n for n in vars(module) if n[:1] == "q" and n[1:].isdigit()), key=lambda n: int(n[1:])):
        found.append((name, getattr(module, name)))
    return Questions(found)


class Questions(list):
    """``(name, problem)`` pairs, shown as a numbered list of what each exercise asks."""

    def lines(self) -> list[str]:
        out = []
        for name, problem in self:
            how = (
                f"answer with `ex.{name}.check(...)`"
                if problem.takes_answer
                else f"`ex.{name}.check()` inspects your lab"
            )
            out.append(f"{name}: {problem.title} ({how})")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_markdown_(self) -> str:
        return "\n".join(f"- {line}" for line in self.lines())

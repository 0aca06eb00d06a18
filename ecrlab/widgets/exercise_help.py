"""Help for one exercise: a button that reveals the hints one at a time, and one that shows the solution.

A notebook shows it under each exercise with ``ex.q1.help()``, so a learner who is stuck clicks rather
than edits a cell, and the committed lesson does not give the answer away.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

__all__ = ["ExerciseHelp"]


class ExerciseHelp(widgets.VBox):
    """``Show a hint`` (again for the next one) and ``Show the solution``, revealed below the buttons."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.hints_shown = 0
        self.hint_button = widgets.Button(description="Show a hint", icon="lightbulb")
        self.solution_button = widgets.Button(description="Show the solution", icon="eye")
        self.output = widgets.Output()
        self.hint_button.on_click(lambda _: self.show_hint())
        self.solution_button.on_click(lambda _: self.show_solution())
        super().__init__([widgets.HBox([self.hint_button, self.solution_button]), self.output])

    def show_hint(self) -> None:
        """Reveal the next hint (the last one stays once all are shown)."""
        self.hints_shown = min(self.hints_shown + 1, max(1, len(self.problem.hints)))
        if self.hints_shown >= len(self.problem.hints):
            self.hint_button.disabled = True
        self._show(self.problem.hint_feedback(self.hints_shown))

    def show_solution(self) -> None:
        self.solution_button.disabled = True
        self._show(self.problem.solution_feedback())

    def _show(self, feedback: Any) -> None:
        self.output.append_display_data(feedback)

    def __repr__(self) -> str:
        return f"ExerciseHelp({self.problem!r})"

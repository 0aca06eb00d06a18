"""Help for one exercise: a button that reveals the hints one at a time, and one that shows the solution.

A notebook shows it under each exercise with ``ex.q1.help()``, so a learner who is stuck clicks rather
than edits a cell, and the committed lesson does not give the answer away. Where no widget can render (a
lesson read on GitHub or nbviewer) its text and HTML forms say what the buttons hold and what was revealed.
"""

from __future__ import annotations

import html
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

    def summary(self) -> str:
        """What the buttons offer and what has been revealed so far, in one line."""
        hints = len(self.problem.hints)
        offer = f"{hints} hint{'s' if hints != 1 else ''} and a solution" if hints else "a solution"
        shown = []
        if self.hints_shown:
            shown.append(f"{self.hints_shown} hint{'s' if self.hints_shown != 1 else ''}")
        if self.solution_button.disabled:
            shown.append("the solution")
        state = f"shown: {' and '.join(shown)}" if shown else "nothing revealed yet"
        return f"Stuck? {offer} behind the buttons ({state}); or call hint() and solution()."

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # the widget view for a live kernel, and a text/HTML account of it for a static render
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = f"<p class='ecrlab-exercise-help'><em>{html.escape(self.summary())}</em></p>"
        return bundle

    def __repr__(self) -> str:
        return self.summary()

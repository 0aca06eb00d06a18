"""The help under each exercise: hints revealed one at a time, then the solution; the lesson's question list."""

from __future__ import annotations

from ecrlab.exercises import lesson, questions
from ecrlab.widgets.exercise_help import ExerciseHelp
from tests.exercises.test_core import Echo


def _shown(help_widget: ExerciseHelp) -> list[str]:
    return [out["data"]["text/plain"] for out in help_widget.output.outputs]


def test_hints_come_one_at_a_time_then_the_button_rests():
    help_widget = Echo().help()
    assert isinstance(help_widget, ExerciseHelp) and _shown(help_widget) == []
    help_widget.hint_button.click()
    assert _shown(help_widget) == ["Hint: think of a number (hint 1 of 2: `hint(2)` for the next)"]
    help_widget.hint_button.click()
    assert _shown(help_widget)[-1] == "Hint: it is the answer to everything"
    assert help_widget.hint_button.disabled and not help_widget.solution_button.disabled


def test_solution_shows_its_code():
    help_widget = Echo().help()
    help_widget.solution_button.click()
    assert _shown(help_widget) == ["Solution: The answer:\nex.check(42)"]
    assert help_widget.solution_button.disabled


def test_static_render_says_what_the_buttons_hold_and_what_was_revealed():
    help_widget = Echo().help()
    bundle = help_widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("Stuck?") and "nothing revealed yet" in bundle["text/plain"]
    assert "nothing revealed yet" in bundle["text/html"]
    help_widget.solution_button.click()
    assert "shown: the solution" in repr(help_widget)


def test_questions_lists_every_exercise_in_order():
    ex = lesson(5)
    listed = questions(ex)
    assert [name for name, _ in listed] == ["q1", "q2", "q3", "q4", "q5", "q6"]
    lines = str(listed).splitlines()
    assert lines[0].startswith("q1: ") and lines[0].endswith("(`ex.q1.check()` inspects your lab)")
    assert lines[5].endswith("(answer with `ex.q6.check(...)`)")
    assert listed._repr_markdown_().startswith("- q1: ")

"""The exercise machinery: placeholder, verdicts, hints, solutions, and how they display."""

from __future__ import annotations

import ecrlab
from ecrlab.exercises import Feedback, Incorrect, NotAttempted, Problem, ____, lesson


class Echo(Problem):
    title = "answer 42"
    takes_answer = True
    hints = ("think of a number", "it is the answer to everything")
    solution_text = "The answer:"
    solution_code = "ex.check(42)"

    def assess(self, lab, answer):
        if answer == 0:
            raise NotAttempted("zero means you did nothing")
        if answer != 42:
            raise Incorrect(f"`{answer}` is not it")
        return "42 it is"


def test_placeholder_is_a_singleton_that_reads_as_blank():
    from ecrlab.exercises.core import _Placeholder

    assert _Placeholder() is ____
    assert repr(____) == "____"
    assert not ____


def test_verdicts(lab):
    q = Echo()
    assert q.evaluate().kind == "not-attempted"
    assert q.evaluate(____).text == "replace `____` with your answer, then run the cell again."
    assert q.evaluate(0) == Feedback("not-attempted", "zero means you did nothing")
    wrong = q.evaluate(7)
    assert wrong.kind == "incorrect" and not wrong.correct and "`7` is not it" in wrong.text
    right = q.evaluate(42)
    assert right.correct and str(right) == "Correct: 42 it is"


def test_no_lab_running_is_said_plainly():
    assert ecrlab.lab.active_lab() is None
    verdict = Echo().evaluate(42)
    assert verdict.kind == "not-attempted" and "ecrlab.start()" in verdict.text


def test_html_and_text_forms_are_stable_and_escaped(lab):
    verdict = Echo().evaluate("<b>")
    html = verdict._repr_html_()
    assert "&lt;b&gt;" in html and "<code>" in html and "Incorrect" in html
    assert html == Echo().evaluate("<b>")._repr_html_()
    assert str(verdict) == "Incorrect: `<b>` is not it"


def test_hints_step_through_and_stop_at_the_last():
    q = Echo()
    assert q.hint_feedback().text.startswith("think of a number (hint 1 of 2")
    assert q.hint_feedback(2).text == "it is the answer to everything"
    assert q.hint_feedback(9).text == "it is the answer to everything"


def test_check_hint_and_solution_print_outside_ipython(lab, capsys):
    q = Echo()
    q.check(42)
    q.hint()
    q.solution()
    out = capsys.readouterr().out
    assert "Correct: 42 it is" in out
    assert "Hint: think of a number" in out
    assert "Solution: The answer:\nex.check(42)" in out


def test_lesson_by_number():
    from ecrlab.exercises import lesson01

    assert lesson("01") is lesson01
    assert lesson(1).q1 is lesson01.q1

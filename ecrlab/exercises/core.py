"""The exercise machinery: problems with check(), hint() and solution(), after Kaggle's learntools.

A lesson module (``ecrlab/exercises/lessonNN.py``) defines one :class:`Problem` subclass per question
and exposes instances as ``q1``, ``q2``...; a notebook uses them as::

    from ecrlab.exercises import ____, lesson01 as ex
    ex.q1.check()          # inspects the running lab's real state
    answer = ____          # a question that takes a value: replace ____, then
    ex.q3.check(answer)
    ex.q3.hint(); ex.q3.solution()
    ex.q3.help()           # the same behind two buttons, as the lessons show it

``solution_code`` is the whole exercise cell as a learner would write it, ending with the ``check`` call,
and it can be run any number of times (setup lives in the notebook's own cell before it).
``wrong_answers`` are cells a learner might plausibly write instead, each of which the check must not
call correct; the lesson tests paste both into the notebook and run it.

A subclass writes :meth:`Problem.assess`: it looks at the lab (through ``lab.client(...)``, as a learner
would) or at the answer, and returns the success message or raises :class:`Incorrect` /
:class:`NotAttempted` with feedback that says what is wrong, specifically. ``check()`` displays the
verdict (HTML in a notebook, text elsewhere); ``evaluate()`` returns it without displaying, for tests.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ecrlab.errors import Incorrect, NotAttempted

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["Feedback", "Incorrect", "NotAttempted", "Problem", "____"]


class _Placeholder:
    """The ``____`` blank in starter code: an answer not given yet (compared by identity)."""

    def __repr__(self) -> str:
        return "____"

    def __bool__(self) -> bool:
        return False


#: Put in starter code where the learner has to write something; ``check()`` treats it as "not attempted".
____ = _Placeholder()


# learntools' colours, so the verdicts look familiar to anyone who has done a Kaggle course
_STYLES = {
    "correct": ("Correct", "#33cc33"),
    "incorrect": ("Incorrect", "#cc3333"),
    "not-attempted": ("Check", "#ccaa33"),
    "hint": ("Hint", "#3366cc"),
    "solution": ("Solution", "#33cc99"),
}


@dataclass(frozen=True)
class Feedback:
    """One verdict, hint or solution: a ``kind`` (correct, incorrect, not-attempted, hint, solution),
    its text, and for solutions the code to show."""

    kind: str
    text: str
    code: str = ""

    @property
    def correct(self) -> bool:
        return self.kind == "correct"

    def __str__(self) -> str:
        label = _STYLES[self.kind][0]
        out = f"{label}: {self.text}" if self.text else f"{label}:"
        if self.code:
            out += "\n" + self.code.rstrip()
        return out

    __repr__ = __str__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        label, colour = _STYLES[self.kind]
        body = f"<span style='color:{colour}'><b>{label}:</b></span> {_inline_code(self.text)}"
        if self.code:
            body += f"<pre style='margin:0.3em 0 0 0'><code>{html.escape(self.code.rstrip())}</code></pre>"
        return f"<div class='ecrlab-feedback ecrlab-{self.kind}'>{body}</div>"


def _inline_code(text: str) -> str:
    """Escape ``text`` and turn its `backticked` spans into <code>, as markdown would."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _display(feedback: Feedback) -> None:
    from IPython.display import display

    display(feedback)  # prints str(feedback) when not inside IPython


class Problem:
    """One exercise. Subclasses set ``title``, ``hints``, ``solution_code`` and implement ``assess``.

    ``takes_answer``: whether ``check()`` expects the learner's value (``check(answer)``); problems that
    inspect the lab's state take none.
    """

    title: ClassVar[str] = ""
    hints: ClassVar[tuple[str, ...]] = ()
    solution_text: ClassVar[str] = ""
    solution_code: ClassVar[str] = ""
    takes_answer: ClassVar[bool] = False
    wrong_answers: ClassVar[tuple[str, ...]] = ()

    def assess(self, lab: Lab, answer: Any) -> str:
        """Return the success message, or raise Incorrect / NotAttempted with specific feedback."""
        raise NotImplementedError

    def evaluate(self, answer: Any = ____) -> Feedback:
        """The verdict on the lab's current state (and ``answer``), without displaying it."""
        from ecrlab.lab import active_lab

        lab = active_lab()
        if lab is None or not lab.running:
            return Feedback("not-attempted", "no lab is running in this kernel: start one with `lab = ecrlab.start()`.")
        if self.takes_answer and answer is ____:
            return Feedback("not-attempted", "replace `____` with your answer, then run the cell again.")
        from botocore.exceptions import BotoCoreError, ClientError

        from ecrlab.display import error_parts
        from ecrlab.errors import EcrlabError

        try:
            return Feedback("correct", self.assess(lab, answer))
        except Incorrect as exc:
            return Feedback("incorrect", str(exc))
        except NotAttempted as exc:
            return Feedback("not-attempted", str(exc))
        except (ClientError, BotoCoreError, EcrlabError) as exc:
            # e.g. the learner attached a deny policy to the lab's admin: say so instead of a traceback
            code, message = error_parts(exc)
            return Feedback("not-attempted", f"the check could not read the lab's state: {code}: {message}")

    def check(self, answer: Any = ____) -> None:
        """Check your work and show the verdict (and record it locally for the instructor's view)."""
        from ecrlab.progress import record_check

        feedback = self.evaluate(answer)
        record_check(self, feedback.kind)
        _display(feedback)

    def hint(self, n: int = 1) -> None:
        """Show hint number ``n`` (1 first)."""
        _display(self.hint_feedback(n))

    def hint_feedback(self, n: int = 1) -> Feedback:
        if not self.hints:
            return Feedback("hint", "there is no hint for this one: try `solution()`.")
        n = max(1, min(n, len(self.hints)))
        more = f" (hint {n} of {len(self.hints)}: `hint({n + 1})` for the next)" if n < len(self.hints) else ""
        return Feedback("hint", self.hints[n - 1] + more)

    def solution(self) -> None:
        """Show a solution."""
        _display(self.solution_feedback())

    def solution_feedback(self) -> Feedback:
        return Feedback("solution", self.solution_text, self.solution_code)

    def help(self) -> Any:
        """Buttons that reveal the hints one by one, and the solution (an ipywidgets view)."""
        from ecrlab.widgets.exercise_help import ExerciseHelp

        return ExerciseHelp(self)

    def __repr__(self) -> str:
        return f"<exercise: {self.title}>" if self.title else f"<exercise {type(self).__name__}>"

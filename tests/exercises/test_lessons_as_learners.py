"""Every lesson as a learner meets it: run top to bottom in a fresh kernel, with each exercise answered in
its own cell, first with the plausible wrong answers declared beside the question, then with the published
solution, twice.

One kernel run per lesson covers three promises: a solution pasted into its exercise cell is judged
correct using only what the notebook itself imports and defines (no name is injected); every exercise
cell can be run again; and each check rejects the wrong answers it declares. The lesson's own cells must
run without an error around them.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
EXERCISE_CELL = re.compile(r"^ex\.(q\d+)\.check\(", re.MULTILINE)


def exercises(lesson: Path):
    return importlib.import_module(f"ecrlab.exercises.lesson{lesson.name[:2]}")


def learners_copy(lesson: Path) -> nbformat.NotebookNode:
    """The lesson with each exercise cell replaced by: each wrong answer, then the solution twice."""
    nb = nbformat.read(lesson, as_version=4)
    ex = exercises(lesson)
    cells = []
    for cell in nb.cells:
        asked = EXERCISE_CELL.findall(cell.source) if cell.cell_type == "code" else []
        if not asked:
            cell.metadata["role"] = "lesson"
            cells.append(cell)
            continue
        (name,) = asked
        problem = getattr(ex, name)
        attempts = [("wrong", code) for code in problem.wrong_answers]
        attempts += [("solution", problem.solution_code)] * 2
        for role, code in attempts:
            attempt = nbformat.v4.new_code_cell(code)
            attempt.metadata.update(role=role, question=name)
            cells.append(attempt)
    nb.cells = cells
    return nb


def verdicts(cell: nbformat.NotebookNode) -> list[str]:
    """The text of the check's verdicts a cell displayed (``Correct: ...``, ``Incorrect: ...``)."""
    out = []
    for output in cell.get("outputs", []):
        text = output.get("data", {}).get("text/plain", "")
        if text.startswith(("Correct:", "Incorrect:", "Check:")):
            out.append(text)
    return out


def errors(cell: nbformat.NotebookNode) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in cell.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_lesson_as_a_learner_runs_it(lesson: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ECRLAB_DETERMINISTIC", "1")
    # the kernel imports this checkout of ecrlab, and nothing else is put in its namespace
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = learners_copy(lesson)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()

    problems = []
    for cell in nb.cells:
        role = cell.metadata.get("role")
        if role == "lesson" and errors(cell):
            problems.append(f"lesson cell failed: {errors(cell)}\n{cell.source[:300]}")
        elif role == "solution":
            said = verdicts(cell)
            if not said or not said[-1].startswith("Correct:"):
                problems.append(
                    f"{cell.metadata['question']}: the solution is not judged correct: {said or errors(cell)}"
                )
        elif role == "wrong" and any(v.startswith("Correct:") for v in verdicts(cell)):
            problems.append(f"{cell.metadata['question']}: a wrong answer is judged correct:\n{cell.source}")
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_each_question_declares_two_plausible_wrong_answers_and_a_checked_solution(lesson: Path):
    ex = exercises(lesson)
    names = [n for n in ex.__all__ if re.fullmatch(r"q\d+", n)]
    assert names
    for name in names:
        problem = getattr(ex, name)
        assert len(set(problem.wrong_answers)) >= 2, name
        for code in (problem.solution_code, *problem.wrong_answers):
            # each is a whole exercise cell: it ends by asking its own question
            assert code.rstrip().splitlines()[-1].startswith(f"ex.{name}.check("), (name, code)

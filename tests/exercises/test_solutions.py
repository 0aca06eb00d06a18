"""Every solution shown to learners works: run in a fresh lab, it makes its own check pass."""

from __future__ import annotations

import pytest

from ecrlab.exercises import lesson00, lesson01


def run_solution(lab, module, name, capsys):
    problem = getattr(module, name)
    namespace = {"lab": lab, "ecr": lab.client("ecr"), "ex": module, **vars(module)}
    exec(problem.solution_code, namespace)
    capsys.readouterr()
    return namespace


@pytest.mark.parametrize("name", ["q1", "q2", "q3"])
def test_lesson00_solutions(lab, name, capsys):
    namespace = run_solution(lab, lesson00, name, capsys)
    answer = {"q1": "account", "q2": "registry", "q3": "uri"}[name]
    assert getattr(lesson00, name).evaluate(namespace[answer]).correct


def test_lesson01_solutions_in_order(lab, capsys):
    lab.client("ecr").create_repository(repositoryName="old/service")  # the notebook's setup cell
    for name in ["q1", "q2", "q4"]:
        run_solution(lab, lesson01, name, capsys)
        assert getattr(lesson01, name).evaluate().correct, name
    namespace = run_solution(lab, lesson01, "q3", capsys)
    assert lesson01.q3.evaluate(namespace["accepted"]).correct

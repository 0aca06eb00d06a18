"""Lesson 10's exercises: wrong attempts get specific feedback; every solution, pasted and run twice, passes."""

from __future__ import annotations

from ecrlab.exercises import lesson10 as ex


def run(lab, code: str) -> dict:
    namespace = {"lab": lab, "ecr": lab.client("ecr"), "ex": ex}
    exec(code, namespace)  # noqa: S102 - the code shown to learners, run as they would
    return namespace


def test_exercises_before_and_after_their_solutions(lab):
    assert not ex.q1.evaluate("sam").correct  # nothing happened yet
    assert "deleted by someone" in ex.setup(lab)
    assert "is ready" in ex.setup(lab)
    wrong = ex.q1.evaluate("ci-bot")
    assert not wrong.correct and "PutImage" in str(wrong)
    assert not ex.q1.evaluate("pat").correct
    for attempt in range(2):
        namespace = run(lab, ex.q1.solution_code)
        assert ex.q1.evaluate(namespace["deleter"]).correct, attempt

    assert "no alarm" in str(ex.q2.evaluate())
    lab.client("cloudwatch").put_metric_alarm(
        AlarmName="web-busy",
        Namespace="AWS/ECR",
        MetricName="RepositoryPullCount",
        Dimensions=[{"Name": "RepositoryName", "Value": "shop/web"}],
        Statistic="Average",
        Period=300,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    assert "Sum" in str(ex.q2.evaluate())
    for _ in range(2):
        run(lab, ex.q2.solution_code)
        assert ex.q2.evaluate().correct

    assert not ex.q3.evaluate().correct
    for _ in range(2):
        run(lab, ex.q3.solution_code)
        assert ex.q3.evaluate().correct

    assert "no queue" in str(ex.q4.evaluate())
    for _ in range(2):
        run(lab, ex.q4.solution_code)
        assert ex.q4.evaluate().correct

    summary = ex.reset(lab)
    assert "shop/web" in summary and "alarm web-busy" in summary and "queue web-deletes" in summary
    assert "deleted by someone" in ex.setup(lab)  # the lesson can start over

"""Exercise checks record locally: one JSON line per check of a lesson's question, nothing personal."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

import ecrlab
from ecrlab import progress
from ecrlab.exercises import Incorrect, Problem, lesson01


@pytest.fixture
def progress_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ECRLAB_PROGRESS_DIR", str(tmp_path))
    monkeypatch.delenv("ECRLAB_PROGRESS", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    return tmp_path


def lines(path):
    return [json.loads(line) for line in (path / "progress.jsonl").read_text().splitlines()]


def test_a_lessons_checks_are_recorded_with_their_verdicts(progress_dir, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTERHUB_USER", "attendee-3")
    with ecrlab.start(deterministic=True) as lab:
        lesson01.q1.check()  # nothing created yet
        lab.client("ecr").create_repository(repositoryName="web/frontend")
        lesson01.q1.check()  # mutable tags
        lab.client("ecr").put_image_tag_mutability(repositoryName="web/frontend", imageTagMutability="IMMUTABLE")
        lesson01.q1.check()
        lesson01.q3.check()  # takes an answer: not attempted
    rows = lines(progress_dir)
    assert [(r["lesson"], r["question"], r["kind"], r["correct"]) for r in rows] == [
        ("01", "q1", "not-attempted", False),
        ("01", "q1", "incorrect", False),
        ("01", "q1", "correct", True),
        ("01", "q3", "not-attempted", False),
    ]
    assert {r["user"] for r in rows} == {"attendee-3"}
    # the whole record: no answer, no feedback text, no host or path
    assert set(rows[0]) == {"lesson", "question", "correct", "kind", "time", "user"}
    datetime.strptime(rows[0]["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert progress.read() == list(progress.parse((progress_dir / "progress.jsonl").read_text().splitlines()))
    assert "Correct:" in capsys.readouterr().out  # the verdict is still shown


def test_evaluate_and_other_problems_record_nothing(progress_dir):
    class Local(Problem):
        def assess(self, lab, answer):
            raise Incorrect("no")

    with ecrlab.start(deterministic=True):
        Local().check()
        lesson01.q1.evaluate()
    assert not (progress_dir / "progress.jsonl").exists()
    assert progress.read() == []


def test_no_user_outside_a_hub_and_recording_can_be_turned_off(progress_dir, monkeypatch):
    attempt = progress.record("02", "q4", "correct", now=datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc))
    assert attempt == progress.Attempt("02", "q4", True, "correct", "2026-03-01T09:30:00Z", None)
    assert lines(progress_dir) == [
        {"lesson": "02", "question": "q4", "correct": True, "kind": "correct", "time": "2026-03-01T09:30:00Z"}
    ]
    monkeypatch.setenv("ECRLAB_PROGRESS", "off")
    assert progress.record("02", "q5", "correct") is None
    assert len(lines(progress_dir)) == 1


def test_an_unwritable_place_never_breaks_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ECRLAB_PROGRESS_DIR", str(blocker / "sub"))
    assert progress.record("01", "q1", "correct") is None
    with ecrlab.start(deterministic=True):
        lesson01.q1.check()  # displays, records nothing, raises nothing


def test_torn_or_foreign_lines_are_skipped():
    text = [
        '{"lesson":"01","question":"q1","correct":true,"kind":"correct","time":"t","user":"a"}',
        '{"lesson":"01","question"',
        "[1, 2]",
        '{"lesson":"01"}',
    ]
    assert list(progress.parse(text)) == [progress.Attempt("01", "q1", True, "correct", "t", "a")]

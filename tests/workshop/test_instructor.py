"""The instructor's table from recorded attempts, and where the view finds the hub (no hub needed here;
tests/workshop/test_hub.py collects from a real one)."""

from __future__ import annotations

import pytest

from ecrlab.progress import Attempt
from ecrlab.widgets.instructor import OPENED, SOLVED, TRIED, AttendeeProgress, HubProgress, main, table


def attempt(question: str, kind: str, user: str | None, lesson: str = "01") -> Attempt:
    return Attempt(lesson, question, kind == "correct", kind, "2026-03-01T09:00:00Z", user)


def test_the_table_marks_the_best_verdict_per_question():
    progress = [
        AttendeeProgress(
            "ana",
            (
                attempt("q1", "incorrect", "ana"),
                attempt("q1", "correct", "ana"),
                attempt("q10", "incorrect", "ana"),
                attempt("q2", "not-attempted", "ana"),
                attempt("q1", "correct", "ana", lesson="02"),
            ),
        ),
        AttendeeProgress("ben", (attempt("q1", "correct", "ana"),)),  # a copied file counts for nobody else
        AttendeeProgress("cy", status="no server running"),
    ]
    frame = table(progress)
    assert list(frame.columns) == ["01 q1", "01 q2", "01 q10", "02 q1", "solved"]  # q10 after q2
    assert frame.loc["ana"].tolist() == [SOLVED, OPENED, TRIED, SOLVED, 2]
    assert frame.loc["ben"].tolist() == ["", "", "", "", 0]
    assert frame.loc["cy"]["solved"] == 0
    assert frame.index.name == "attendee"


def test_inside_a_hub_server_the_environment_says_where_the_hub_is(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t0ken")
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/workshop/hub/api")
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_HUB_URL", "https://hub.example.org/workshop/hub/")
    source = HubProgress.from_environment()
    # server URLs from the hub's API hold the base URL (/workshop/user/ana/): only the origin is kept
    assert (source.api_url, source.public_url, source.token) == (
        "http://127.0.0.1:8081/workshop/hub/api",
        "https://hub.example.org",
        "t0ken",
    )
    assert "t0ken" not in repr(source)
    given = HubProgress.from_environment("https://hub.example.org/", token="other")
    assert (given.api_url, given.public_url, given.token) == (
        "https://hub.example.org/hub/api",
        "https://hub.example.org",
        "other",
    )


def test_without_a_token_or_a_hub_it_says_what_is_missing(monkeypatch, capsys):
    for name in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_PUBLIC_HUB_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="JUPYTERHUB_API_TOKEN"):
        HubProgress.from_environment()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t0ken")
    assert main([]) == 2
    assert "pass hub=" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not an http"):
        HubProgress.from_environment("hub.example.org")


def test_an_unreachable_hub_is_an_error_message_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t0ken")
    assert main(["--hub", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err.startswith("error: ")

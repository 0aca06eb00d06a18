"""A workshop on one machine: workshop/jupyterhub_config.py with ten attendees who log in through the hub's
REST API, each running lesson 01 in a kernel of their own server, then the instructor's view of them.

The attendees answer different exercises (attendee N pastes the solutions of the first N % 5 questions
and leaves the rest as the lesson has them), so the instructor's table has one right answer per cell.
Three attendees run at a time: the whole module stays within a few minutes on two cores.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ecrlab.progress import read
from ecrlab.widgets.instructor import OPENED, SOLVED, HubProgress, collect, table
from tests.conftest import IN_CI, require_tool
from tests.workshop.hub import RemoteKernel, attend, running_hub

pytestmark = [pytest.mark.realclient, pytest.mark.timeout(600)]

ATTENDEES = [f"attendee-{n:02d}" for n in range(10)]
QUESTIONS = ["q1", "q2", "q3", "q4"]


def solved_by(name: str) -> set[str]:
    return set(QUESTIONS[: int(name[-2:]) % 5])


@pytest.fixture(scope="module")
def workshop(tmp_path_factory):
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("jupyterhub is required in CI (the test extra installs it)")
        pytest.skip("jupyterhub is not installed (pip install -e '.[workshop]')")
    require_tool("configurable-http-proxy")
    began = time.monotonic()
    with running_hub(tmp_path_factory.mktemp("hub")) as hub, ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda name: attend(hub, name, solved_by(name)), ATTENDEES))
        yield hub, {run.name: run for run in runs}, time.monotonic() - began


def test_each_attendee_runs_lesson_01_in_their_own_server(workshop):
    hub, runs, elapsed = workshop
    assert sorted(runs) == ATTENDEES
    for name, run in runs.items():
        failed = [(cell.source[:60], cell.texts()) for cell in run.cells if cell.status != "ok"]
        assert failed == [], f"{name}: cells failed"
        verdicts = [text for cell in run.cells for text in cell.texts() if text.startswith("Correct:")]
        assert len(verdicts) == len(solved_by(name)), f"{name}: {verdicts}"
        # their own copy of the lessons, in their own home
        assert (hub.home(name) / "notebooks" / "01-repositories.ipynb").is_file()
    pids = {hub.server_pid(name) for name in ATTENDEES}
    assert len(pids) == len(ATTENDEES), "each attendee has their own server process"
    assert elapsed < 420, f"ten attendees took {elapsed:.0f}s"


def test_each_attendees_checks_are_recorded_in_their_own_home(workshop):
    hub, _, _ = workshop
    for name in ATTENDEES:
        recorded = read(hub.home(name) / "ecrlab-progress" / "progress.jsonl")
        assert {a.user for a in recorded} == {name}
        assert {(a.question, a.correct) for a in recorded} == {(q, q in solved_by(name)) for q in QUESTIONS}


def test_the_instructor_sees_every_attendees_progress(workshop):
    hub, _, _ = workshop
    token = hub.token_for("instructor", ["list:users", "read:users:name", "read:servers", "access:servers"])
    progress = {p.user: p for p in collect(HubProgress(f"{hub.url}/hub/api", hub.url, token))}
    assert progress["instructor"].status == "no server running"
    frame = table(list(progress.values()))
    for name in ATTENDEES:
        assert progress[name].status == "ok"
        row = frame.loc[name]
        expected = [SOLVED if q in solved_by(name) else OPENED for q in QUESTIONS]
        assert [row[f"01 {q}"] for q in QUESTIONS] == expected, name
        assert row["solved"] == len(solved_by(name))
    # the table holds hub usernames and verdicts, nothing else
    assert list(frame.columns) == [f"01 {q}" for q in QUESTIONS] + ["solved"]


def test_an_attendee_cannot_read_anyone_elses_progress(workshop):
    hub, _, _ = workshop
    token = hub.token_for("attendee-03", ["inherit"])
    with pytest.raises(httpx.HTTPStatusError) as refused:
        collect(HubProgress(f"{hub.url}/hub/api", hub.url, token))
    assert refused.value.response.status_code == 403  # listing the hub's users is the instructor's
    other = httpx.get(
        f"{hub.url}/user/attendee-04/api/contents/ecrlab-progress/progress.jsonl",
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    assert other.status_code == 403
    own = httpx.get(
        f"{hub.url}/user/attendee-03/api/contents/ecrlab-progress/progress.jsonl",
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    assert own.status_code == 200


def test_the_instructor_view_runs_in_the_instructors_own_lab(workshop):
    """No arguments: the instructor's server token carries the instructor role's scopes (the hub config's
    server_token_scopes), and the hub's addresses come from the server's environment."""
    hub, _, _ = workshop
    token = hub.token_for("instructor", ["inherit"])
    hub.start_server("instructor", token)
    kernel = RemoteKernel(hub.server_url("instructor"), token)
    try:
        run = kernel.execute(
            "from ecrlab.widgets import InstructorView\n"
            "view = InstructorView()\n"
            "print(view.frame.to_json(orient='index'))"
        )
    finally:
        kernel.shutdown()
    assert run.status == "ok", run.texts()
    frame = json.loads("".join(run.texts()))
    assert {name: row["solved"] for name, row in frame.items()} == {
        **{name: len(solved_by(name)) for name in ATTENDEES},
        "instructor": 0,
    }

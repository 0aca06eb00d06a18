"""The Lab's public API: start/stop, clients, clock, deterministic mode."""

from __future__ import annotations

import datetime as dt

import pytest

import ecrlab
from ecrlab.clock import DETERMINISTIC_START


def _walk(lab) -> list:
    ecr = lab.client("ecr")
    out = [ecr.create_repository(repositoryName=f"app-{i}")["repository"] for i in range(3)]
    out.append(lab.client("iam").create_user(UserName="alice")["User"])
    out.append(lab.clock.advance(days=2))
    out.append(ecr.describe_repositories()["repositories"])
    return out


def test_deterministic_runs_are_identical():
    with ecrlab.start(deterministic=True) as first:
        a = _walk(first)
    with ecrlab.start(deterministic=True) as second:
        b = _walk(second)
    assert a == b


def test_deterministic_mode_from_the_environment(monkeypatch):
    monkeypatch.setenv("ECRLAB_DETERMINISTIC", "1")
    with ecrlab.start() as lab:
        assert lab.deterministic and lab.clock.now() == DETERMINISTIC_START


def test_created_things_carry_the_lab_clock(lab):
    lab.clock.advance(days=400)
    when = lab.clock.now()
    repo = lab.client("ecr").create_repository(repositoryName="later")["repository"]
    assert repo["createdAt"] == when
    # moto's neighbours read the same clock
    user = lab.client("iam").create_user(UserName="bob")["User"]
    assert abs(user["CreateDate"] - when) < dt.timedelta(seconds=5)


def test_real_time_mode_flows_and_advances():
    with ecrlab.start(deterministic=False) as lab:
        before = lab.clock.now()
        assert abs(before - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(seconds=5)
        after = lab.clock.advance(hours=3)
        assert after - before >= dt.timedelta(hours=3)


def test_the_clock_only_moves_forward(lab):
    with pytest.raises(ecrlab.LabError):
        lab.clock.advance(days=-1)


def test_clock_listeners_hear_advances(lab):
    heard = []
    lab.clock.on_advance(lambda before, after: heard.append((before, after)))
    lab.clock.advance(days=1)
    assert heard and heard[0][1] - heard[0][0] == dt.timedelta(days=1)


def test_stopped_lab_refuses_use():
    lab = ecrlab.start(deterministic=True)
    lab.stop()
    lab.stop()  # idempotent
    with pytest.raises(ecrlab.LabError, match="not running"):
        lab.client("ecr")


def test_starting_a_second_lab_stops_the_first():
    first = ecrlab.start(deterministic=True)
    second = ecrlab.start(deterministic=True)
    try:
        assert not first.running and second.running
        assert second.client("ecr").describe_repositories()["repositories"] == []
    finally:
        second.stop()


def test_public_attributes(lab):
    assert lab.account_id == "123456789012" and lab.region == "us-east-1"
    assert lab.client("ecr", region_name="eu-west-1").meta.region_name == "eu-west-1"
    assert "running" in repr(lab)


def test_each_session_keeps_its_own_identity(lab):
    """A session made earlier still acts as its own principal after another one is made."""
    iam = lab.client("iam")
    for name in ("alice", "bob"):
        iam.create_user(UserName=name)
    alice = lab.session(user="alice")
    bob = lab.session(user="bob")
    assert alice.client("sts").get_caller_identity()["Arn"].endswith(":user/alice")
    assert bob.client("sts").get_caller_identity()["Arn"].endswith(":user/bob")
    administrator = lab.client("sts").get_caller_identity()["Arn"]
    assert not administrator.endswith((":user/alice", ":user/bob"))

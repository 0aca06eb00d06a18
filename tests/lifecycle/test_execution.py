"""Saved policies run on the lab clock and on demand: images deleted, lastEvaluatedAt moved, events logged."""

from __future__ import annotations

from datetime import datetime, timezone

from ecrlab.lifecycle import run_now
from ecrlab.lifecycle.execution import daily_runs
from ecrlab.monitoring import IMAGES_PER_EVENT
from tests.lifecycle.lifecycle_support import policy, preview, rule

UNTAGGED_AFTER_3_DAYS = policy(rule(1, "untagged", "sinceImagePushed", 3))


def lifecycle_events(lab):
    return [e for e in lab.trail.records if e["eventName"] == "PolicyExecutionEvent"]


def test_daily_runs_are_the_midnights_crossed():
    before = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    assert daily_runs(before, datetime(2026, 1, 5, 23, 59, tzinfo=timezone.utc)) == []
    assert daily_runs(before, datetime(2026, 1, 8, 0, tzinfo=timezone.utc)) == [
        datetime(2026, 1, d, tzinfo=timezone.utc) for d in (6, 7, 8)
    ]


def test_time_travel_expires_images_as_they_age(ecr, lab, images, repo):
    names = images(old=([], 2.5), young=([], 0.5), tagged=(["v1"], 30))
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=UNTAGGED_AFTER_3_DAYS)
    lab.clock.advance(hours=12)  # not yet midnight: nothing runs
    assert set(repo.images) == {i.digest for i in names.values()}
    assert ecr.get_lifecycle_policy(repositoryName="app")["lastEvaluatedAt"].timestamp() == 0
    lab.clock.advance(hours=12)  # past midnight: "old" is 3 days and 3 hours old there
    assert set(repo.images) == {names["young"].digest, names["tagged"].digest}
    assert ecr.get_lifecycle_policy(repositoryName="app")["lastEvaluatedAt"] == datetime(
        2026, 1, 6, tzinfo=timezone.utc
    )
    (event,) = lifecycle_events(lab)
    assert event["eventType"] == "AwsServiceEvent" and event["eventTime"] == datetime(2026, 1, 6, tzinfo=timezone.utc)
    details = event["serviceEventDetails"]
    assert details["repositoryName"] == "app"
    (action,) = details["lifecycleEventImageActions"]
    assert action == {
        "lifecycleEventImage": {
            "digest": names["old"].digest,
            "tagStatus": "Untagged",
            "tagList": [],
            "pushedAt": int(names["old"].pushed_at.timestamp() * 1000),
        },
        "rulePriority": 1,
    }
    assert (
        details["lifecycleEventPolicy"]["lifecycleEventRules"][0]["lifecycleEventSelection"]["countType"]
        == "Since image pushed"
    )
    lab.clock.advance(days=3)
    assert set(repo.images) == {names["tagged"].digest}
    assert len(lifecycle_events(lab)) == 2


def test_expired_images_are_gone_from_the_api(ecr, lab, images, repo):
    names = images(a=(["v1", "latest"], 5), b=(["v2"], 4), c=(["v3"], 3))
    ecr.put_lifecycle_policy(
        repositoryName="app",
        lifecyclePolicyText=policy(rule(1, "tagged", "imageCountMoreThan", 1, tagPatternList=["v*"])),
    )
    evaluation = run_now(lab, "app")
    assert set(evaluation.expired_digests()) == {names["a"].digest, names["b"].digest}
    assert set(repo.images) == {names["c"].digest}
    assert repo.image_tags == {"v3": names["c"].digest}
    assert ecr.get_lifecycle_policy(repositoryName="app")["lastEvaluatedAt"] == evaluation.at


def test_preview_then_execution_expire_the_same_images(ecr, lab, images, repo):
    spec = {f"i{i:02d}": ([f"v{i}"] if i % 3 else [], 20.5 - i) for i in range(20)}  # no age right on a boundary
    images(**spec)
    text = policy(
        rule(1, "untagged", "imageCountMoreThan", 2),
        rule(2, "tagged", "sinceImagePushed", 10, tagPrefixList=["v1"]),
        rule(3, "any", "imageCountMoreThan", 6),
    )
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    previewed = {r["imageDigest"]: r["appliedRulePriority"] for r in preview(ecr)["previewResults"]}
    executed = run_now(lab, "app").expired_digests()
    assert previewed == executed and previewed


def test_many_expiries_are_split_into_several_events(ecr, lab, images):
    images(**{f"u{i:02d}": ([], 30 - i) for i in range(21)})
    ecr.put_lifecycle_policy(
        repositoryName="app", lifecyclePolicyText=policy(rule(1, "untagged", "imageCountMoreThan", 1))
    )
    run_now(lab, "app")
    events = lifecycle_events(lab)
    assert [len(e["serviceEventDetails"]["lifecycleEventImageActions"]) for e in events] == [
        IMAGES_PER_EVENT,
        IMAGES_PER_EVENT,
        2,
    ]
    assert len({e["eventID"] for e in events}) == 3


def test_a_run_that_expires_nothing_only_moves_last_evaluated(ecr, lab, images):
    images(u=([], 1))
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=UNTAGGED_AFTER_3_DAYS)
    lab.clock.advance(days=1)
    assert lifecycle_events(lab) == []
    assert ecr.get_lifecycle_policy(repositoryName="app")["lastEvaluatedAt"].timestamp() > 0


def test_since_image_pulled_uses_the_last_recorded_pull(ecr, lab, images, repo):
    names = images(
        pulled_recently=([], 40, 2), pulled_long_ago=([], 40, 20), never_pulled_old=([], 40), never_pulled_new=([], 5)
    )
    ecr.put_lifecycle_policy(
        repositoryName="app", lifecyclePolicyText=policy(rule(1, "untagged", "sinceImagePulled", 10))
    )
    expired = run_now(lab, "app").expired_digests()
    assert set(expired) == {names["pulled_long_ago"].digest, names["never_pulled_old"].digest}


def test_deleted_policy_stops_running(ecr, lab, images, repo):
    images(old=([], 10))
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=UNTAGGED_AFTER_3_DAYS)
    ecr.delete_lifecycle_policy(repositoryName="app")
    lab.clock.advance(days=2)
    assert len(repo.images) == 1 and lifecycle_events(lab) == []

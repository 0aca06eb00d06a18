"""The engine's event stream: typed events from real actions on both planes, in order, once each;
subscribers outside the lock; failures contained; work scheduled on the lab clock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from ecrlab import images
from ecrlab.ecr.events import (
    CallDecided,
    Event,
    EventStream,
    ImageDeleted,
    ImagePulled,
    ImagePushed,
    LayerUploaded,
    PolicyChanged,
    RepositoryCreated,
    RepositoryDeleted,
    TagMoved,
    TagRemoved,
)
from ecrlab.images.client import RegistryClient


def _image(text: str) -> images.Image:
    return images.ImageBuilder(images.base_image("alpine:3.20.3")).copy_bytes(text.encode(), "/app/v.txt").build()


@pytest.fixture
def seen(lab):
    got: list[Event] = []
    lab.engine.events.subscribe(got.append)
    return got


def _kinds(events: list[Event], *types: type[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, types)]


def test_api_actions_publish_typed_events_in_order(lab, ecr, seen):
    ecr.create_repository(repositoryName="app")
    with RegistryClient.for_lab(lab) as client:
        first = client.push(_image("1"), "app", "v1")
        second = client.push(_image("2"), "app", "v1")  # the tag moves
    ecr.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])
    ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": second.digest}])
    ecr.delete_repository(repositoryName="app", force=True)

    domain = [e for e in seen if not isinstance(e, (CallDecided, LayerUploaded))]
    assert [type(e) for e in domain] == [
        RepositoryCreated,
        ImagePushed,
        TagMoved,
        ImagePushed,
        ImagePulled,
        ImageDeleted,
        RepositoryDeleted,
    ]
    created, push1, moved, push2, pulled, deleted, gone = domain
    assert created.repository == "app" and (push2.digest, push2.new_image) == (second.digest, True)
    assert (push1.digest, push1.tag, push1.new_image, push1.source) == (first.digest, "v1", True, "registry")
    assert (moved.tag, moved.previous_digest, moved.digest) == ("v1", first.digest, second.digest)
    assert (pulled.digest, pulled.tag, pulled.source) == (second.digest, "v1", "api")
    assert (deleted.digest, deleted.tags, deleted.reason) == (second.digest, ("v1",), "api")
    assert gone.digests == (first.digest,)  # the untagged first image went with the repository
    assert all(e.account == lab.account_id and e.region == lab.region for e in domain)
    times = [e.time for e in domain]
    assert times == sorted(times)


def test_every_call_is_decided_once_with_its_outcome(lab, ecr, seen):
    ecr.create_repository(repositoryName="app")
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_images(repositoryName="missing")
    calls = _kinds(seen, CallDecided)
    assert [(c.operation, c.error_code) for c in calls] == [
        ("CreateRepository", None),
        ("DescribeImages", "RepositoryNotFoundException"),
    ]
    assert calls[0].principal == lab.admin and calls[0].response is not None
    assert calls[1].response is None and "missing" in calls[1].error_message
    assert len({c.request_id for c in calls}) == 2


def test_tag_removed_when_the_image_keeps_another_tag(lab, ecr, seen):
    ecr.create_repository(repositoryName="app")
    image = _image("t")
    with RegistryClient.for_lab(lab) as client:
        client.push(image, "app", "a")
        client.push(image, "app", "b")
    ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "a"}])
    removed = _kinds(seen, TagRemoved)
    assert [(e.tag, e.digest) for e in removed] == [("a", image.digest)]
    assert not _kinds(seen, ImageDeleted)
    second_push = _kinds(seen, ImagePushed)[-1]
    assert (second_push.tag, second_push.new_image) == ("b", False)


def test_lifecycle_policy_changes_and_expiries_are_events(lab, ecr, seen):
    ecr.create_repository(repositoryName="app")
    with RegistryClient.for_lab(lab) as client:
        for n in range(3):
            client.push(_image(str(n)), "app", f"v{n}")
    policy = (
        '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan",'
        '"countNumber":1},"action":{"type":"expire"}}]}'
    )
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=policy)
    lab.clock.advance(days=1)
    changed = _kinds(seen, PolicyChanged)
    assert [(c.kind, c.repository, c.text is not None) for c in changed] == [("lifecycle", "app", True)]
    expired = _kinds(seen, ImageDeleted)
    assert sorted(e.tags for e in expired) == [("v0",), ("v1",)]
    assert {e.reason for e in expired} == {"lifecycle"}
    assert [r["eventName"] for r in lab.trail.records].count("PolicyExecutionEvent") == 1


def test_pull_times_come_from_pull_events(lab, ecr):
    ecr.create_repository(repositoryName="app")
    with RegistryClient.for_lab(lab) as client:
        client.push(_image("p"), "app", "v1")
        assert "lastRecordedPullTime" not in ecr.describe_images(repositoryName="app")["imageDetails"][0]
        client.pull("app", "v1")  # a manifest GET on the registry
    detail = ecr.describe_images(repositoryName="app")["imageDetails"][0]
    assert detail["lastRecordedPullTime"] >= detail["imagePushedAt"]


def test_a_failing_subscriber_stops_nobody(lab, ecr):
    got: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    lab.engine.events.subscribe(broken, RepositoryCreated)
    lab.engine.events.subscribe(got.append, RepositoryCreated)
    ecr.create_repository(repositoryName="app")  # the call itself succeeds
    assert [e.repository for e in got] == ["app"]
    assert "subscriber bug" in str(lab.engine.events.failures[-1][1])


def test_subscribers_run_outside_the_engine_lock(lab, ecr):
    """A subscriber may call the engine from another thread (as the API server would) without deadlock."""
    other_thread_done = threading.Event()

    def calls_from_another_thread(event: RepositoryCreated) -> None:
        worker = threading.Thread(target=lambda: (lab.client("ecr").describe_repositories(), other_thread_done.set()))
        worker.start()
        worker.join(timeout=10)

    lab.engine.events.subscribe(calls_from_another_thread, RepositoryCreated)
    ecr.create_repository(repositoryName="app")
    assert other_thread_done.is_set()


def test_events_published_by_a_subscriber_follow_the_current_one():
    stream = EventStream()
    order: list[str] = []
    clock_time = __import__("datetime").datetime(2026, 1, 1)

    def first(event: Event) -> None:
        order.append(f"first:{event.account}")
        if event.account == "a":
            stream.publish(Event("b", "r", clock_time))
        order.append(f"first-done:{event.account}")

    stream.subscribe(first)
    stream.subscribe(lambda e: order.append(f"second:{e.account}"))
    stream.publish(Event("a", "r", clock_time))
    assert order == ["first:a", "first-done:a", "second:a", "first:b", "first-done:b", "second:b"]


def test_events_from_many_threads_are_delivered_once_each_in_publication_order():
    stream = EventStream()
    got: list[int] = []
    stream.subscribe(lambda e: got.append(int(e.account)))
    clock_time = __import__("datetime").datetime(2026, 1, 1)
    numbers: list[int] = []
    lock = threading.Lock()

    def publisher(base: int) -> None:
        for i in range(200):
            with lock:  # as the engine's lock: numbering follows the order of the state changes
                n = base + i
                numbers.append(n)
                number = stream.enqueue(Event(str(n), "r", clock_time))
            stream.deliver(number)

    threads = [threading.Thread(target=publisher, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == numbers


def test_jobs_run_when_the_lab_clock_reaches_them_in_order(lab, ecr):
    ran: list[str] = []
    now = lab.clock.now()
    lab.engine.events.schedule(now + timedelta(hours=2), lambda: ran.append("later"), "later")
    lab.engine.events.schedule(now + timedelta(hours=1), lambda: ran.append("sooner"), "sooner")
    lab.engine.events.schedule(now + timedelta(hours=1), lambda: ran.append("sooner-2"), "sooner-2")
    ecr.describe_repositories()
    assert ran == []
    assert [label for _, label in lab.engine.events.pending()] == ["sooner", "sooner-2", "later"]
    lab.clock.advance(minutes=90)
    assert ran == ["sooner", "sooner-2"]
    lab.clock.advance(hours=1)
    assert ran == ["sooner", "sooner-2", "later"]
    assert lab.engine.events.pending() == []

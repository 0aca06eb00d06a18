"""The engine's event stream: one typed, ordered record of what happens in the sandbox.

Scanning (scan on push), replication (copy on push), monitoring (trail records, metrics, EventBridge
events), lifecycle (pull times) and widgets (live refresh) all react to what happens in the engine.
The engine publishes; they subscribe. The engine imports none of them.

Delivery rules, which subscribers may rely on:

- **One order.** Events are numbered as they are published, under the engine's lock, so their order is
  the order the state changed in; every subscriber sees every event it asked for in that order, once.
- **After the change, outside the lock.** An event is delivered after the state it describes is in
  place and after the engine's lock is released, so a subscriber may call the engine (or boto3) freely.
  The call that published an event returns once it has been delivered (when another thread is busy
  delivering, it waits for it a few seconds at most, then leaves the event to that thread); an event a
  subscriber publishes while handling another is delivered after the current one (first in, first
  out), never re-entrantly.
- **Time-taking work is scheduled on the lab clock.** What takes time in AWS (a scan, a replication)
  is not done in the subscriber: it calls :meth:`EventStream.schedule` with a due time on the lab clock,
  and the job runs when the lab's time reaches it (checked at the start of every engine call and when
  the clock is advanced), in (due time, scheduling order): deterministic in deterministic mode.
- **A failing subscriber is contained.** Its exception is logged and recorded in ``failures``; other
  subscribers and the call that published the event are unaffected.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ecrlab.ecr.model import Principal

__all__ = [
    "CallDecided",
    "Event",
    "EventStream",
    "ImageDeleted",
    "ImagePulled",
    "ImagePushed",
    "LayerUploaded",
    "LifecyclePolicyExecuted",
    "PolicyChanged",
    "RepositoryCreated",
    "RepositoryDeleted",
    "Subscription",
    "TagMoved",
    "TagRemoved",
]

log = logging.getLogger(__name__)

E = TypeVar("E", bound="Event")

# How long a publisher waits for another thread to deliver its event before leaving it to that thread.
_WAIT_FOR_OTHER_DELIVERER = 5.0


@dataclass(frozen=True)
class Event:
    """Something that happened in one registry (``account``, ``region``) at lab time ``time``."""

    account: str
    region: str
    time: datetime


@dataclass(frozen=True)
class RepositoryCreated(Event):
    repository: str
    principal: Principal


@dataclass(frozen=True)
class RepositoryDeleted(Event):
    repository: str
    principal: Principal
    digests: tuple[str, ...] = ()  # images deleted with it (``force``)


@dataclass(frozen=True)
class ImagePushed(Event):
    """A manifest was stored (PutImage on the API, or a manifest PUT on the registry), or a tag was put
    on an image already stored (``new_image`` False): ECR's "ECR Image Action" PUSH. An image restored
    from the archive is published as a new one (``new_image`` True), so scanning and replication see it
    again as ECR documents."""

    repository: str
    digest: str
    tag: str | None
    media_type: str
    principal: Principal
    new_image: bool
    # api | registry (how the call arrived) | replication (a replica arriving) | restore (out of the archive)
    source: str = "api"


@dataclass(frozen=True)
class TagMoved(Event):
    """``tag`` left ``previous_digest`` for ``digest`` (a mutable tag re-pushed)."""

    repository: str
    tag: str
    digest: str
    previous_digest: str


@dataclass(frozen=True)
class TagRemoved(Event):
    """A tag was deleted while its image stays (BatchDeleteImage naming the tag of a multi-tag image)."""

    repository: str
    tag: str
    digest: str
    principal: Principal


@dataclass(frozen=True)
class ImageDeleted(Event):
    """An image left its repository: ``reason`` is ``api`` (BatchDeleteImage, a registry DELETE),
    ``lifecycle`` (expired by a lifecycle policy) or ``repository`` (deleted with its repository)."""

    repository: str
    digest: str
    tags: tuple[str, ...]
    reason: str
    principal: Principal | None = None


@dataclass(frozen=True)
class ImagePulled(Event):
    """A manifest was served (BatchGetImage, or a manifest GET on the registry)."""

    repository: str
    digest: str
    tag: str | None
    principal: Principal
    source: str = "api"


@dataclass(frozen=True)
class LayerUploaded(Event):
    """A layer's bytes were committed to a repository (CompleteLayerUpload, a registry upload or mount)."""

    repository: str
    digest: str
    size: int
    principal: Principal
    mounted_from: str | None = None


@dataclass(frozen=True)
class PolicyChanged(Event):
    """A repository policy, registry policy or lifecycle policy was saved (``text``) or deleted (None)."""

    kind: str  # repository | registry | lifecycle
    repository: str | None
    text: str | None
    principal: Principal


@dataclass(frozen=True)
class LifecyclePolicyExecuted(Event):
    """A saved lifecycle policy ran (the daily evaluation) and expired images: what CloudTrail records as
    ``PolicyExecutionEvent``. ``policy`` is the policy as ECR describes it in that record, ``actions`` one
    entry per expired image (``lifecycleEventImage`` and ``rulePriority``)."""

    repository: str
    repository_arn: str
    policy: dict[str, Any]
    actions: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class CallDecided(Event):
    """One ECR API operation, on either plane, after it was decided: who asked, what, and the outcome.

    ``account``/``region`` name the registry the call was about. ``response`` is None and
    ``error_code``/``error_message`` are set when it was refused or failed."""

    operation: str
    principal: Principal
    source: str  # api | registry
    source_ip: str
    user_agent: str
    request_id: str
    params: dict[str, Any] = field(hash=False, compare=False)
    response: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    error_code: str | None = None
    error_message: str | None = None

    @property
    def allowed(self) -> bool:
        return self.error_code != "AccessDeniedException"


Handler = Callable[[Any], None]


@dataclass
class Subscription:
    """A subscriber's registration; ``cancel()`` stops deliveries."""

    stream: EventStream
    handler: Handler
    types: tuple[type[Event], ...]

    def wants(self, event: Event) -> bool:
        return not self.types or isinstance(event, self.types)

    def cancel(self) -> None:
        self.stream._remove(self)


@dataclass(order=True)
class _Job:
    due: datetime
    order: int
    label: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)


class EventStream:
    """Ordered, typed events from the engine to its subscribers, and jobs due on the lab clock."""

    def __init__(self, history: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._subscriptions: list[Subscription] = []
        self._queue: deque[tuple[int, Event]] = deque()
        self._published = 0  # events numbered so far
        self._delivered = 0  # events whose delivery has finished
        self._drainer: int | None = None  # the thread delivering right now
        self._jobs: list[_Job] = []
        self._job_order = itertools.count()
        self._running_jobs = False
        #: The most recent events, oldest first (what a widget shows of what just happened).
        self.recent: deque[Event] = deque(maxlen=history)
        #: (what failed, exception) for every delivery or job that raised.
        self.failures: list[tuple[str, BaseException]] = []

    # -- subscribing ------------------------------------------------------------------------------
    def subscribe(self, handler: Callable[[E], None], *types: type[E]) -> Subscription:
        """Call ``handler(event)`` for every later event of the given types (every event if none)."""
        subscription = Subscription(self, handler, tuple(types))
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    # -- publishing -------------------------------------------------------------------------------
    def enqueue(self, event: Event) -> int:
        """Number ``event`` and queue it for delivery; returns its number. The engine calls this
        under its lock, so numbers follow the order of the state changes, then calls :meth:`deliver`
        once the lock is released."""
        with self._lock:
            self._published += 1
            self._queue.append((self._published, event))
            self.recent.append(event)
            return self._published

    def publish(self, event: Event) -> None:
        """Queue ``event`` and deliver it (and anything queued before it) before returning."""
        self.deliver(self.enqueue(event))

    def deliver(self, upto: int | None = None) -> None:
        """Deliver queued events in order until event ``upto`` (default: all queued) has been delivered.

        One thread delivers at a time. When another thread is delivering, this call waits (a few
        seconds at most) for it to deliver ``upto``: a subscriber that waits on a thread which publishes
        must not deadlock the two, so past that wait the delivering thread is left to finish the job.
        A subscriber that publishes gets its events delivered after the one it is handling, by the same
        loop."""
        me = threading.get_ident()
        with self._lock:
            target = self._published if upto is None else upto
            if self._drainer == me:
                return  # published from inside a subscriber: the running loop delivers it next
            deadline = time.monotonic() + _WAIT_FOR_OTHER_DELIVERER
            while self._drainer is not None and self._delivered < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)
            if self._delivered >= target or not self._queue:
                return
            self._drainer = me
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        # Under the lock: a publisher that sees a deliverer at work can rely on it.
                        self._drainer = None
                        self._changed.notify_all()
                        return
                    number, event = self._queue.popleft()
                    subscribers = [s for s in self._subscriptions if s.wants(event)]
                for subscription in subscribers:
                    try:
                        subscription.handler(event)
                    except Exception as exc:  # one subscriber's bug must not stop the others or the caller
                        log.exception("ecrlab event subscriber %r failed on %s", subscription.handler, event)
                        self.failures.append((f"{subscription.handler!r} on {type(event).__name__}", exc))
                with self._lock:
                    self._delivered = number
                    self._changed.notify_all()
        finally:
            with self._lock:
                if self._drainer == me:
                    self._drainer = None
                    self._changed.notify_all()

    # -- work on the lab clock --------------------------------------------------------------------
    def schedule(self, due: datetime, job: Callable[[], None], label: str = "") -> None:
        """Run ``job()`` once the lab's time reaches ``due`` (a scan finishing, a replica arriving)."""
        with self._lock:
            heapq.heappush(self._jobs, _Job(due, next(self._job_order), label, job))

    def pending(self) -> list[tuple[datetime, str]]:
        """Jobs not yet run: (due time, label), soonest first."""
        with self._lock:
            return [(job.due, job.label) for job in sorted(self._jobs)]

    def run_due(self, now: datetime) -> int:
        """Run every job due at ``now`` or earlier, soonest first; returns how many ran.

        Jobs a job schedules run in the same pass when they are due too. Not re-entrant: a job that
        causes an engine call does not start another pass."""
        ran = 0
        with self._lock:
            if self._running_jobs:
                return 0
            self._running_jobs = True
        try:
            while True:
                with self._lock:
                    if not self._jobs or self._jobs[0].due > now:
                        break
                    job = heapq.heappop(self._jobs)
                try:
                    job.run()
                except Exception as exc:
                    log.exception("ecrlab scheduled job %r failed", job.label)
                    self.failures.append((f"scheduled job {job.label!r}", exc))
                ran += 1
                self.deliver()
        finally:
            with self._lock:
                self._running_jobs = False
        return ran

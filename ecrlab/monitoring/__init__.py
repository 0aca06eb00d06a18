"""Monitoring: what the sandbox's CloudTrail, CloudWatch and EventBridge show, built from the engine's
event stream (:mod:`ecrlab.ecr.events`), so every record, datapoint and event comes from a real action in
the lab.

- :class:`Trail` (``lab.trail``): CloudTrail records of every ECR call on both planes and of lifecycle
  expiries; ``cloudtrail.lookup_events`` answers from it.
- :class:`Metrics` (``lab.monitoring.metrics``): ``AWS/ECR`` ``RepositoryPullCount`` and ``AWS/Usage``
  ``CallCount`` in moto's CloudWatch, and evaluation of the alarms on them.
- :class:`EventBridge` (``lab.monitoring.eventbridge``): ECR's events on moto's default event bus.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ecrlab.ecr.events import EventStream
from ecrlab.monitoring.eventbridge import IMAGE_ACTION, SOURCE, EventBridge, eventbridge_entry
from ecrlab.monitoring.metrics import (
    PULL_METRIC,
    USAGE_OPERATIONS,
    AlarmProbe,
    ClientFactory,
    DatumSink,
    Metrics,
    usage_dimensions,
)
from ecrlab.monitoring.trail import IMAGES_PER_EVENT, Trail, cloudtrail_json, user_identity

__all__ = [
    "IMAGES_PER_EVENT",
    "IMAGE_ACTION",
    "PULL_METRIC",
    "SOURCE",
    "USAGE_OPERATIONS",
    "EventBridge",
    "Metrics",
    "Monitoring",
    "Trail",
    "cloudtrail_json",
    "eventbridge_entry",
    "usage_dimensions",
    "user_identity",
]


class Monitoring:
    """The lab's monitoring sinks: the trail, CloudWatch metrics and EventBridge events."""

    def __init__(
        self,
        events: EventStream,
        trail: Trail,
        clients: ClientFactory,
        now: Callable[[], datetime],
        sink: DatumSink | None = None,
        alarms_on: AlarmProbe | None = None,
    ) -> None:
        self.trail = trail
        self.metrics = Metrics(events, clients, now, sink, alarms_on)
        self.eventbridge = EventBridge(events, clients)

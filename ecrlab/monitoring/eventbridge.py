"""ECR's EventBridge events, put on moto's default event bus as the lab's actions happen.

Source ``aws.ecr``, in the account and region of the registry the event happened in, with the lab time
as the envelope's ``time``; rules with event patterns on the default bus deliver them to their targets
(an SQS queue, a log group, another bus) as in AWS.

- ``ECR Image Action``: PUSH when a manifest is stored or a tag is put on an image (``ImagePushed``),
  DELETE when an image or one of its tags is deleted by a caller (``ImageDeleted`` with reason ``api``,
  ``TagRemoved``); detail ``result``, ``repository-name``, ``image-digest``, ``action-type``,
  ``image-tag`` (left out when no tag was named). Lifecycle expiries are not EventBridge events in ECR
  (they are CloudTrail ``PolicyExecutionEvent`` records), so ``reason="lifecycle"`` publishes nothing.
- Any other event of the engine's stream whose class follows the **EventBridge convention**: a
  ``detail_type`` (a ``ClassVar[str]`` or a property: ``"ECR Image Scan"``, ``"ECR Replication Action"``...)
  and a method ``to_eventbridge() -> tuple[dict, list[str]]`` returning the event's ``detail`` and
  ``resources``; optionally a class attribute ``source`` when the sender is not ECR (Inspector's
  ``aws.inspector2`` for enhanced scans). Features (scanning, replication) publish such events; this module needs no import of
  them, so monitoring stays below them in the layers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ecrlab.ecr.events import Event, EventStream, ImageDeleted, ImagePushed, TagRemoved
from ecrlab.monitoring.metrics import ClientFactory

__all__ = ["IMAGE_ACTION", "SOURCE", "EventBridge", "eventbridge_entry", "source_of"]

SOURCE = "aws.ecr"
IMAGE_ACTION = "ECR Image Action"


def image_action(action: str, repository: str, digest: str, tag: str | None) -> dict[str, Any]:
    """The detail of ``ECR Image Action``, keys in the order ECR sends them."""
    detail: dict[str, Any] = {
        "result": "SUCCESS",
        "repository-name": repository,
        "image-digest": digest,
        "action-type": action,
    }
    if tag:
        detail["image-tag"] = tag
    return detail


def eventbridge_entry(event: Event) -> tuple[str, dict[str, Any], list[str]] | None:
    """(detail-type, detail, resources) ECR sends for ``event``, or None when it sends nothing."""
    if isinstance(event, ImagePushed):
        return IMAGE_ACTION, image_action("PUSH", event.repository, event.digest, event.tag), []
    if isinstance(event, ImageDeleted):
        if event.reason != "api":  # lifecycle expiries and repository deletions send no Image Action
            return None
        return IMAGE_ACTION, image_action("DELETE", event.repository, event.digest, next(iter(event.tags), None)), []
    if isinstance(event, TagRemoved):
        return IMAGE_ACTION, image_action("DELETE", event.repository, event.digest, event.tag), []
    detail_type = getattr(event, "detail_type", None)
    convert: Callable[[], tuple[dict[str, Any], list[str]]] | None = getattr(event, "to_eventbridge", None)
    if isinstance(detail_type, str) and convert is not None:
        detail, resources = convert()
        return detail_type, detail, list(resources)
    return None


def source_of(event: Event) -> str:
    """The event's ``source``: ``aws.ecr`` unless its class names another (``source = "aws.inspector2"``).

    Only a class attribute counts: several engine events have an instance field ``source`` (api|registry)."""
    source = getattr(type(event), "source", None)
    return source if isinstance(source, str) and source.startswith("aws.") else SOURCE


class EventBridge:
    """Subscribes to the engine's stream and puts ECR's events on each registry's default bus."""

    def __init__(self, events: EventStream, clients: ClientFactory) -> None:
        self._clients = clients
        self._lock = threading.Lock()
        #: What was put, oldest first: (time, account, region, detail-type, detail): the dashboard's feed.
        self.sent: list[tuple[datetime, str, str, str, dict[str, Any]]] = []
        events.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        entry = eventbridge_entry(event)
        if entry is None:
            return
        detail_type, detail, resources = entry
        answer = self._clients("events", event.account, event.region).put_events(
            Entries=[
                {
                    "Time": event.time,
                    "Source": source_of(event),
                    "Resources": resources,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": "default",
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused {detail_type}: {answer['Entries']}")
        with self._lock:
            self.sent.append((event.time, event.account, event.region, detail_type, detail))

"""A live monitoring dashboard: pulls per repository, recent CloudTrail records, ECR's EventBridge events,
and "who pushed this image?" answered from the trail.

It is a view over the lab's boto3 clients: ``cloudwatch.get_metric_statistics`` (``AWS/ECR``
``RepositoryPullCount``), ``cloudtrail.lookup_events``, and the events the lab put on EventBridge's
default bus. It redraws when an image is pushed, pulled or deleted in its registry (the engine's
``CallDecided`` for those operations, which arrives after the pull's metric and the push's event were
sent), and on the Refresh button; there is no background polling, so a notebook's outputs stay stable.
"""

from __future__ import annotations

import html
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ecrlab.display import utc
from ecrlab.ecr.events import CallDecided
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["MonitoringDashboard"]

# The calls after which the dashboard has something new to show.
_REDRAW_ON = frozenset({"PutImage", "BatchGetImage", "BatchDeleteImage", "CreateRepository", "DeleteRepository"})
_CELL = "text-align:left;padding:2px 8px;white-space:nowrap"


def _table(columns: tuple[str, ...], rows: list[tuple[Any, ...]], css: str, empty: str) -> str:
    if not rows:
        return f"<p><em>{html.escape(empty)}</em></p>"
    head = "".join(f"<th style='{_CELL}'>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='{_CELL}'>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class MonitoringDashboard(LabWidget):
    """Pull counts, the trail and the event feed of the lab's registry, live.

    Controls: ``image`` (Text: a tag or digest), ``repository`` (Text), ``who_button``, ``refresh_button``;
    outputs: ``pulls``, ``trail``, ``feed`` (HTML tables), ``message``. ``hours`` is the pull-count window.
    """

    def __init__(self, lab: Lab | None = None, records: int = 8, hours: int = 24) -> None:
        super().__init__(lab)
        self.records = records
        self.hours = hours
        self.cloudwatch = self.lab.client("cloudwatch")
        self.cloudtrail = self.lab.client("cloudtrail")
        self.pulls = widgets.HTML()
        self.trail = widgets.HTML()
        self.feed = widgets.HTML()
        self.repository = widgets.Text(placeholder="repository, e.g. team/app", description="Repository")
        self.image = widgets.Text(placeholder="tag or sha256:…", description="Image")
        self.who_button = widgets.Button(description="Who pushed it?", icon="search")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.who_button.on_click(lambda _: self.who_pushed())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.children = [
            widgets.HTML(f"<b>Pulls per repository</b> (RepositoryPullCount, last {hours} h)"),
            self.pulls,
            widgets.HTML(f"<b>Recent CloudTrail records</b> (LookupEvents, newest first, {records})"),
            self.trail,
            widgets.HTML("<b>EventBridge</b> (events ECR put on the default bus, newest first)"),
            self.feed,
            widgets.HBox([self.repository, self.image, self.who_button, self.refresh_button]),
            self.message,
        ]
        self.add_class("ecrlab-monitoring-dashboard")
        self._subscription = self.lab.engine.events.subscribe(self._on_call, CallDecided)
        self.refresh()

    def _on_call(self, event: CallDecided) -> None:
        if event.operation in _REDRAW_ON and (event.account, event.region) == (self.lab.account_id, self.lab.region):
            self.refresh()

    def close(self) -> None:
        subscription = getattr(self, "_subscription", None)  # absent when __init__ failed (no running lab)
        if subscription is not None:
            subscription.cancel()
        super().close()

    # -- actions ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the metrics, the trail and the feed again and redraw."""
        counts = self.attempt(self.pull_counts)
        if counts is not None:
            rows = [(name, int(n)) for name, n in sorted(counts.items())]
            self.pulls.value = _table(("Repository", "Pulls"), rows, "ecrlab-pulls", "No pulls yet.")
        found = self.attempt(lambda: self.cloudtrail.lookup_events(MaxResults=self.records)["Events"])
        if found is not None:
            rows = []
            for event in found:
                record = json.loads(event["CloudTrailEvent"])
                target = ", ".join(r["ResourceName"] for r in event["Resources"])
                rows.append(
                    (
                        utc(event["EventTime"]),
                        event["EventName"],
                        event.get("Username", ""),
                        target,
                        record.get("errorCode", ""),
                    )
                )
            self.trail.value = _table(
                ("Time (UTC)", "Event", "User", "Resource", "Error"), rows, "ecrlab-trail", "No records yet."
            )
        monitoring = self.lab.monitoring
        sent = [] if monitoring is None else monitoring.eventbridge.sent
        mine = [s for s in sent if (s[1], s[2]) == (self.lab.account_id, self.lab.region)][-self.records :]
        rows = [
            (
                utc(time),
                detail_type,
                detail.get("action-type", detail.get("scan-status", "")),
                detail.get("repository-name", ""),
                detail.get("image-tag", ""),
                str(detail.get("image-digest", ""))[:19] + "…",
            )
            for time, _, _, detail_type, detail in reversed(mine)
        ]
        self.feed.value = _table(
            ("Time (UTC)", "detail-type", "Action", "Repository", "Tag", "Digest"),
            rows,
            "ecrlab-feed",
            "No events yet.",
        )

    def pull_counts(self) -> dict[str, float]:
        """RepositoryPullCount summed over the window, per repository (CloudWatch, as a console graph would)."""
        now = self.lab.clock.now()
        counts: dict[str, float] = {}
        for page in self.cloudwatch.get_paginator("list_metrics").paginate(
            Namespace="AWS/ECR", MetricName="RepositoryPullCount"
        ):
            for metric in page["Metrics"]:
                points = self.cloudwatch.get_metric_statistics(
                    Namespace="AWS/ECR",
                    MetricName="RepositoryPullCount",
                    Dimensions=metric["Dimensions"],
                    StartTime=now - timedelta(hours=self.hours),
                    EndTime=now + timedelta(minutes=1),
                    Period=self.hours * 3600,
                    Statistics=["Sum"],
                )["Datapoints"]
                name = next(d["Value"] for d in metric["Dimensions"] if d["Name"] == "RepositoryName")
                counts[name] = sum(p["Sum"] for p in points)
        return counts

    def who_pushed(self) -> list[dict[str, Any]]:
        """The PutImage records (newest first) that stored the image named in the form, from CloudTrail."""
        repository, wanted = self.repository.value.strip(), self.image.value.strip()
        if not repository or not wanted:
            self.message.info("Type a repository and an image tag or digest first.")
            return []
        attribute = [{"AttributeKey": "EventName", "AttributeValue": "PutImage"}]
        pages = self.cloudtrail.get_paginator("lookup_events").paginate(LookupAttributes=attribute)
        records = self.attempt(lambda: [json.loads(e["CloudTrailEvent"]) for p in pages for e in p["Events"]])
        if records is None:
            return []
        matches = []
        for record in records:
            if "errorCode" in record or (record.get("requestParameters") or {}).get("repositoryName") != repository:
                continue
            image_id = ((record.get("responseElements") or {}).get("image") or {}).get("imageId", {})
            if wanted in (image_id.get("imageTag"), image_id.get("imageDigest")):
                matches.append(record)
        if not matches:
            self.message.info(f"CloudTrail has no PutImage of {wanted} in {repository}.")
            return []
        who = matches[0]["userIdentity"]
        name = who.get("userName") or who.get("arn", "")
        self.message.ok(f"{wanted} was pushed to {repository} by {name} ({who['type']}) at {matches[0]['eventTime']}")
        return matches

    def __repr__(self) -> str:
        counts = self.pulls.value.count("<tr>") - 1 if "<table" in self.pulls.value else 0
        return f"MonitoringDashboard(registry={self.lab.registry_host!r}, repositories_pulled={max(counts, 0)})"

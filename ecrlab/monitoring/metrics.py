"""The lab's CloudWatch metrics for ECR, put into moto's CloudWatch as real pulls and calls happen.

- ``AWS/ECR`` ``RepositoryPullCount`` (dimension ``RepositoryName``, unit Count): one datapoint of 1 per
  image pull (a manifest GET on the registry or a BatchGetImage), in the account and region that own
  the repository. ECR publishes no push count, so neither does the lab.
- ``AWS/Usage`` ``CallCount`` (unit None) with ``Service=ECR``, ``Type=API``, ``Resource=<operation>`` and
  ``Class=None``: one datapoint of 1 per call of the operations ECR reports usage for (the ones with
  rate quotas: the authorization token and the data-plane operations), in the caller's registry. The ECR
  guide says ECR does not use the ``Class`` dimension; CloudWatch's usage metrics carry it nonetheless
  with the literal value ``None`` (that is what Service Quotas' alarms match), so the lab writes
  ``Class=None`` and a query must name all four dimensions, as in AWS.

Datapoints are written straight into moto's CloudWatch by the lab (a boto3 ``PutMetricData`` per call would
cost a push many times its own time) and stamped with the lab clock, so ``get_metric_statistics``, ``get_metric_data`` and
``aws cloudwatch`` see them at lab time. moto stores alarms but never evaluates them; :class:`Metrics`
evaluates the alarms on the metrics it writes after each write and when the clock moves, and sets their
state with CloudWatch's own ``SetAlarmState``, worded as CloudWatch words a threshold crossing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from ecrlab.ecr.events import CallDecided, EventStream, ImagePulled

__all__ = ["PULL_METRIC", "USAGE_OPERATIONS", "AlarmProbe", "ClientFactory", "DatumSink", "Metrics", "usage_dimensions"]

log = logging.getLogger(__name__)

PULL_METRIC = ("AWS/ECR", "RepositoryPullCount")
_ALARMED = (PULL_METRIC, ("AWS/Usage", "CallCount"))  # the metrics whose alarms the lab evaluates

#: The operations ECR reports ``AWS/Usage`` ``CallCount`` for (those with per-second rate quotas).
USAGE_OPERATIONS = frozenset(
    {
        "BatchCheckLayerAvailability",
        "BatchGetImage",
        "CompleteLayerUpload",
        "GetAuthorizationToken",
        "GetDownloadUrlForLayer",
        "InitiateLayerUpload",
        "PutImage",
        "UploadLayerPart",
    }
)

#: (service, account, region) -> a boto3 client acting as that account's administrator.
ClientFactory = Callable[[str, str, str], Any]
#: (account, region, namespace, datum) -> None: stores a datum as PutMetricData would (the lab's is direct).
DatumSink = Callable[[str, str, str, dict[str, Any]], None]
#: (account, region, namespace, metric name) -> whether any alarm watches that metric.
AlarmProbe = Callable[[str, str, str, str], bool]

_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}


def usage_dimensions(operation: str) -> list[dict[str, str]]:
    """The four dimensions of ECR's ``CallCount`` for ``operation``."""
    return [
        {"Name": "Service", "Value": "ECR"},
        {"Name": "Type", "Value": "API"},
        {"Name": "Resource", "Value": operation},
        {"Name": "Class", "Value": "None"},
    ]


class Metrics:
    """Subscribes to pulls and calls on ``events`` and writes ECR's metrics into CloudWatch."""

    def __init__(
        self,
        events: EventStream,
        clients: ClientFactory,
        now: Callable[[], datetime],
        sink: DatumSink | None = None,
        alarms_on: AlarmProbe | None = None,
    ) -> None:
        self._clients = clients
        self._now = now
        self._sink = sink
        self._alarms_on = alarms_on
        self._lock = threading.Lock()
        #: Pulls counted so far per (account, region, repository): what the dashboard shows without a query.
        self.pulls: dict[tuple[str, str, str], int] = {}
        events.subscribe(self._on_pull, ImagePulled)
        events.subscribe(self._on_call, CallDecided)

    def _on_pull(self, event: ImagePulled) -> None:
        with self._lock:
            key = (event.account, event.region, event.repository)
            self.pulls[key] = self.pulls.get(key, 0) + 1
        self._put(
            event.account,
            event.region,
            "AWS/ECR",
            {
                "MetricName": "RepositoryPullCount",
                "Dimensions": [{"Name": "RepositoryName", "Value": event.repository}],
                "Timestamp": event.time,
                "Value": 1.0,
                "Unit": "Count",
            },
        )

    def _on_call(self, event: CallDecided) -> None:
        if event.operation not in USAGE_OPERATIONS:
            return
        self._put(
            event.account,
            event.region,
            "AWS/Usage",
            {
                "MetricName": "CallCount",
                "Dimensions": usage_dimensions(event.operation),
                "Timestamp": event.time,
                "Value": 1.0,
                "Unit": "None",
            },
        )

    def _put(self, account: str, region: str, namespace: str, datum: dict[str, Any]) -> None:
        if self._sink is not None:
            self._sink(account, region, namespace, datum)
        else:
            self._clients("cloudwatch", account, region).put_metric_data(Namespace=namespace, MetricData=[datum])
        if self._alarms_on is None or self._alarms_on(account, region, namespace, datum["MetricName"]):
            cloudwatch = self._clients("cloudwatch", account, region)
            self._evaluate(cloudwatch, namespace, datum["MetricName"], datum["Dimensions"])

    # -- alarms -----------------------------------------------------------------------------------
    def evaluate_alarms(self, account: str, region: str) -> None:
        """Evaluate every alarm on ECR's metrics in ``account``/``region`` at the lab's time (the lab calls
        this when its clock moves, so an alarm returns to OK once the pulls stop)."""
        if self._alarms_on is not None and not any(
            self._alarms_on(account, region, namespace, metric) for namespace, metric in _ALARMED
        ):
            return
        cloudwatch = self._clients("cloudwatch", account, region)
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
            for alarm in page["MetricAlarms"]:
                if (alarm.get("Namespace"), alarm.get("MetricName")) in _ALARMED:
                    self._evaluate_one(cloudwatch, alarm)

    def _evaluate(self, cloudwatch: Any, namespace: str, metric: str, dimensions: list[dict[str, str]]) -> None:
        alarms = cloudwatch.describe_alarms_for_metric(Namespace=namespace, MetricName=metric, Dimensions=dimensions)
        for alarm in alarms.get("MetricAlarms", []):
            self._evaluate_one(cloudwatch, alarm)

    def _evaluate_one(self, cloudwatch: Any, alarm: dict[str, Any]) -> None:
        """CloudWatch's evaluation of a static-threshold alarm: the last ``EvaluationPeriods`` periods up
        to now, ``DatapointsToAlarm`` of them breaching (missing data: not breaching, the default)."""
        compare = _COMPARISONS.get(alarm.get("ComparisonOperator", ""))
        statistic = alarm.get("Statistic")
        if compare is None or statistic is None:
            return  # anomaly-detection and extended-statistic alarms are not evaluated by the lab
        period = int(alarm["Period"])
        periods = int(alarm["EvaluationPeriods"])
        needed = int(alarm.get("DatapointsToAlarm") or periods)
        now = self._now()
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(seconds=period * periods)
        datapoints = cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm.get("Dimensions", []),
            StartTime=start,
            EndTime=end,
            Period=period,
            Statistics=[statistic],
        )["Datapoints"]
        values = sorted(((d["Timestamp"], d[statistic]) for d in datapoints), key=lambda d: d[0])
        check, words = compare
        breaching = [(t, v) for t, v in values if check(v, float(alarm["Threshold"]))]
        if len(breaching) >= needed:
            state = "ALARM"
            shown = breaching[-needed:]
        elif values:
            state = "OK"
            shown = values[-1:]
        else:
            state = "INSUFFICIENT_DATA"
            shown = []
        if state == alarm.get("StateValue"):
            return
        if shown:
            points = ", ".join(f"{v} ({t.astimezone(timezone.utc):%d/%m/%y %H:%M:%S})" for t, v in shown)
            threshold = alarm["Threshold"]
            if state == "ALARM":
                reason = (
                    f"Threshold Crossed: {len(breaching)} out of the last {periods} datapoints [{points}] was {words} "
                    f"the threshold ({threshold}) (minimum {needed} datapoint{'s' if needed > 1 else ''} for "
                    f"{alarm.get('StateValue', 'INSUFFICIENT_DATA')} -> ALARM transition)."
                )
            else:
                reason = f"Threshold Crossed: 1 datapoint [{points}] was not {words} the threshold ({threshold})."
        else:
            reason = "Insufficient Data: no datapoints were received for the evaluation periods."
        cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason)

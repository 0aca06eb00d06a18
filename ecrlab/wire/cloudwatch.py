"""Datapoints into moto's CloudWatch without a request: ECR's metrics are written at every pull and data-plane
call, and a boto3 ``PutMetricData`` per call (serialised, signed, parsed) cost a push ten times its own time.

:func:`put_datum` hands one datum, shaped as ``PutMetricData`` takes it, to
``moto.cloudwatch.models.cloudwatch_backends[account][region].put_metric_data`` (moto's own validation runs);
:func:`has_alarms` says whether any alarm watches a metric there, so alarms are evaluated (through boto3, with
CloudWatch's public calls) only when one exists. Reads stay public: ``get_metric_statistics``,
``get_metric_data`` and ``aws cloudwatch`` see these datapoints like any other.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

__all__ = ["has_alarms", "put_datum"]


def _backend(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


def put_datum(account: str, region: str, namespace: str, datum: dict[str, Any]) -> None:
    """Store ``datum`` (``MetricName``, ``Dimensions``, ``Value``, ``Unit``, ``Timestamp``) in ``account``'s
    CloudWatch in ``region``."""
    stamped = dict(datum)
    # moto keeps timestamps as naive UTC datetimes (what its request parser produces).
    stamped["Timestamp"] = datum["Timestamp"].astimezone(timezone.utc).replace(tzinfo=None)
    _backend(account, region).put_metric_data(namespace, [stamped])


def has_alarms(account: str, region: str, namespace: str, metric: str) -> bool:
    """Whether an alarm on ``namespace``/``metric`` exists in ``account``'s CloudWatch in ``region``."""
    return any(
        alarm.namespace == namespace and alarm.metric_name == metric
        for alarm in list(_backend(account, region).alarms.values())
    )

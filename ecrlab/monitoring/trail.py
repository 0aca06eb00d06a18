"""The lab's CloudTrail: one record per ECR call on either plane, and ECR's own service events.

Records take CloudTrail's shape (``eventVersion``, ``eventSource``, ``eventName``, ``userIdentity``,
``requestParameters``, ``errorCode``...) and are built from the engine's event stream: a
:class:`~ecrlab.ecr.events.CallDecided` becomes an ``AwsApiCall`` record, a
:class:`~ecrlab.ecr.events.LifecyclePolicyExecuted` one or more ``PolicyExecutionEvent`` service events.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from ecrlab.ecr.events import CallDecided, EventStream, LifecyclePolicyExecuted

__all__ = ["IMAGES_PER_EVENT", "Trail"]

# The User Guide: "where 10 or more images are expired Amazon ECR sends multiple events"; the lab puts
# at most 9 images in one PolicyExecutionEvent.
IMAGES_PER_EVENT = 9


class Trail:
    """CloudTrail-shaped records of everything the engine decided, oldest first."""

    def __init__(self, events: EventStream, new_id: Any = None) -> None:
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        events.subscribe(self._on_call, CallDecided)
        events.subscribe(self._on_lifecycle, LifecyclePolicyExecuted)

    def _append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.records.append(record)

    def _on_call(self, event: CallDecided) -> None:
        record: dict[str, Any] = {
            "eventVersion": "1.08",
            "eventTime": event.time,
            "eventSource": "ecr.amazonaws.com",
            "eventName": event.operation,
            "eventType": "AwsApiCall",
            "awsRegion": event.region,
            "sourceIPAddress": event.source_ip,
            "userAgent": event.user_agent,
            "userIdentity": {"arn": event.principal.arn, "accountId": event.principal.account},
            "recipientAccountId": event.account,
            "requestParameters": dict(event.params),
            "requestID": event.request_id,
        }
        if event.error_code is not None:
            record["errorCode"] = event.error_code
            record["errorMessage"] = event.error_message
        self._append(record)

    def _on_lifecycle(self, event: LifecyclePolicyExecuted) -> None:
        actions = list(event.actions)
        for start in range(0, len(actions), IMAGES_PER_EVENT):
            self._append(
                {
                    "eventVersion": "1.05",
                    "userIdentity": {"accountId": event.account, "invokedBy": "AWS Internal"},
                    "eventTime": event.time,
                    "eventSource": "ecr.amazonaws.com",
                    "eventName": "PolicyExecutionEvent",
                    "awsRegion": event.region,
                    "sourceIPAddress": "AWS Internal",
                    "userAgent": "AWS Internal",
                    "requestParameters": None,
                    "responseElements": None,
                    "eventID": self._new_id(),
                    "readOnly": True,
                    "resources": [
                        {"ARN": event.repository_arn, "accountId": event.account, "type": "AWS::ECR::Repository"}
                    ],
                    "eventType": "AwsServiceEvent",
                    "recipientAccountId": event.account,
                    "serviceEventDetails": {
                        "repositoryName": event.repository,
                        "lifecycleEventPolicy": event.policy,
                        "lifecycleEventImageActions": actions[start : start + IMAGES_PER_EVENT],
                    },
                }
            )

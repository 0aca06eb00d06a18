"""The events a finished scan publishes on the engine's stream, each shaped as AWS sends it to EventBridge.

BASIC scans are ECR's: ``ECR Image Scan`` from ``aws.ecr``, ``resources`` the repository ARN, and
``finding-severity-counts`` listing only the severities found. ENHANCED scans are Amazon Inspector's:
``Inspector2 Finding`` for each finding it creates and ``Inspector2 Scan`` (``INITIAL_SCAN_COMPLETE``)
once the image's first scan is done, both from ``aws.inspector2``.

Each class carries ``source`` and ``detail_type`` as class attributes and builds its ``detail()`` and
``resources()`` itself (``to_eventbridge()`` returns both), so the monitoring feature can put any of them on EventBridge without importing
scanning (it sits below scanning in the layers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from ecrlab.ecr.events import Event

__all__ = ["ImageScanned", "InspectorFinding", "InspectorScanCompleted", "ScanEvent"]

# The severities Inspector counts in its scan event, as its documentation shows them (plus TOTAL).
_INSPECTOR_COUNTED = ("CRITICAL", "HIGH", "MEDIUM")


@dataclass(frozen=True)
class ScanEvent(Event):
    """What the scan events share: EventBridge's entry is their ``detail()`` and ``resources()``."""

    def detail(self) -> dict[str, Any]:
        raise TypeError(f"{type(self).__name__} must say what its EventBridge detail is")

    def resources(self) -> list[str]:
        return []

    def to_eventbridge(self) -> tuple[dict[str, Any], list[str]]:
        return self.detail(), self.resources()


@dataclass(frozen=True)
class ImageScanned(ScanEvent):
    """A BASIC scan finished: ECR's ``ECR Image Scan`` event."""

    source: ClassVar[str] = "aws.ecr"
    detail_type: ClassVar[str] = "ECR Image Scan"

    repository: str
    repository_arn: str
    digest: str
    tags: tuple[str, ...]
    status: str  # COMPLETE | UNSUPPORTED_IMAGE
    severity_counts: dict[str, int] = field(hash=False, compare=False)  # only severities present

    def detail(self) -> dict[str, Any]:
        return {
            "scan-status": self.status,
            "repository-name": self.repository,
            "finding-severity-counts": dict(self.severity_counts),
            "image-digest": self.digest,
            "image-tags": list(self.tags),
        }

    def resources(self) -> list[str]:
        return [self.repository_arn]


@dataclass(frozen=True)
class InspectorScanCompleted(ScanEvent):
    """Amazon Inspector finished the first (enhanced) scan of an image: ``Inspector2 Scan``.

    Inspector names the repository by its ARN in ``repository-name`` and counts CRITICAL, HIGH and
    MEDIUM findings (zeros included) and their ``TOTAL`` over every severity.
    """

    source: ClassVar[str] = "aws.inspector2"
    detail_type: ClassVar[str] = "Inspector2 Scan"

    repository: str
    repository_arn: str
    digest: str
    tags: tuple[str, ...]
    status: str  # the ECR scan status: ACTIVE (continuous) | COMPLETE (on push) | UNSUPPORTED_IMAGE
    severity_counts: dict[str, int] = field(hash=False, compare=False)

    def detail(self) -> dict[str, Any]:
        counts = {s: self.severity_counts.get(s, 0) for s in _INSPECTOR_COUNTED}
        counts["TOTAL"] = sum(self.severity_counts.values())
        return {
            "scan-status": "INITIAL_SCAN_COMPLETE",
            "repository-name": self.repository_arn,
            "finding-severity-counts": counts,
            "image-digest": self.digest,
            "image-tags": list(self.tags),
        }

    def resources(self) -> list[str]:
        return [self.repository_arn]


@dataclass(frozen=True)
class InspectorFinding(ScanEvent):
    """Amazon Inspector created a finding for an image: ``Inspector2 Finding``, whose detail is the finding."""

    source: ClassVar[str] = "aws.inspector2"
    detail_type: ClassVar[str] = "Inspector2 Finding"

    repository: str
    digest: str
    finding_arn: str
    severity: str
    finding: dict[str, Any] = field(hash=False, compare=False)  # EnhancedImageScanFinding, as ECR returns it

    def detail(self) -> dict[str, Any]:
        return _event_json(self.finding)

    def resources(self) -> list[str]:
        return [resource["id"] for resource in self.finding.get("resources", [])]


def _event_json(value: Any) -> Any:
    """``value`` with timestamps written as Inspector writes them in its events ("Dec 3, 2021, 6:02:30 PM")."""
    if isinstance(value, datetime):
        hour = value.hour % 12 or 12
        return f"{value:%b} {value.day}, {value.year}, {hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}"
    if isinstance(value, dict):
        return {k: _event_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_event_json(v) for v in value]
    return value

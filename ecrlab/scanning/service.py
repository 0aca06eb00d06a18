"""Scanning in the sandbox: scan state per engine, scan on push from the event stream, scans on the lab clock.

:func:`install` attaches a :class:`ScanningService` to an engine: it subscribes to ``ImagePushed`` (new
images) for scan on push and ``ImageDeleted`` (a deleted image's scan goes with it), and starts each scan
as a job due :data:`SCAN_DURATION` later on the lab clock, so ``DescribeImageScanFindings`` answers
``IN_PROGRESS`` until the lab's time reaches the end of the scan. When a scan completes it publishes an
:class:`~.events.ImageScanned` ("ECR Image Scan") for BASIC, and Inspector's ``Inspector2 Finding`` for each
finding then ``Inspector2 Scan`` for ENHANCED (:mod:`.events`).
"""

from __future__ import annotations

import fnmatch
import json
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecrlab.ecr.events import Event, ImageDeleted, ImagePushed, RepositoryDeleted
from ecrlab.scanning.advisories import AdvisoryDatabase
from ecrlab.scanning.events import ImageScanned, InspectorFinding, InspectorScanCompleted
from ecrlab.scanning.inspector import enhanced_finding
from ecrlab.scanning.scanner import Scanner, ScanResult

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.model import ImageRecord, Registry, Repository

__all__ = [
    "CONTINUOUS_ELIGIBILITY",
    "SCAN_DURATION",
    "SCAN_QUOTA_PERIOD",
    "STATUS_DESCRIPTIONS",
    "ImageScan",
    "RepositoryScanning",
    "ScanningService",
    "install",
    "repository_scanning",
    "scan_status",
    "service_for",
]

#: How long a scan runs on the lab clock (real basic scans take seconds to a minute).
SCAN_DURATION = timedelta(seconds=5)
#: One scan per image per 24 hours, counting the scan on push (ECR quota).
SCAN_QUOTA_PERIOD = timedelta(hours=24)
#: Continuous enhanced scanning stops this long after the push (Inspector's default re-scan duration).
CONTINUOUS_ELIGIBILITY = timedelta(days=30)

# Image manifests a scanner can read: single-platform images (not indexes, not artifacts).
#: imageScanStatus.description as ECR words it for each status it reports.
STATUS_DESCRIPTIONS = {
    "COMPLETE": "The scan was completed successfully.",
    "UNSUPPORTED_IMAGE": "The operating system and/or package manager are not supported.",
    "ACTIVE": "Continuous scan is selected for image.",
    "SCAN_ELIGIBILITY_EXPIRED": "Continuous scan is no longer active for this image.",
}

_SCANNABLE_CONFIGS = ("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json")


@dataclass
class ImageScan:
    """The last scan of one image."""

    scan_type: str
    frequency: str  # SCAN_ON_PUSH | CONTINUOUS_SCAN | MANUAL
    started_at: datetime
    pushed_at: datetime
    status: str = "IN_PROGRESS"
    completed_at: datetime | None = None
    result: ScanResult | None = None
    finding_ids: list[str] = field(default_factory=list)  # Inspector finding ids, stable across reads


@dataclass(frozen=True)
class RepositoryScanning:
    """What the registry's configuration means for one repository."""

    scan_on_push: bool
    frequency: str
    applied_filters: tuple[dict[str, str], ...]
    scanned: bool  # False: ENHANCED with no matching rule (not scanned at all)


def scan_status(scan: ImageScan, now: datetime) -> dict[str, str]:
    """``imageScanStatus`` of ``scan`` at lab time ``now`` (continuous scanning lapses after its 30 days)."""
    status = scan.status
    if status == "ACTIVE" and now - scan.pushed_at > CONTINUOUS_ELIGIBILITY:
        status = "SCAN_ELIGIBILITY_EXPIRED"
    out = {"status": status}
    if status in STATUS_DESCRIPTIONS:
        out["description"] = STATUS_DESCRIPTIONS[status]
    return out


def _filter_matches(pattern: str, name: str) -> bool:
    # A filter without a wildcard matches repository names that contain it (ECR documentation).
    if "*" not in pattern:
        return pattern in name
    return fnmatch.fnmatchcase(name, pattern.replace("[", "[[]").replace("?", "[?]"))


def repository_scanning(registry: Registry, repo: Repository) -> RepositoryScanning:
    """The effective scanning of ``repo`` under its registry's configuration.

    BASIC: a matching SCAN_ON_PUSH rule, or (deprecated but honoured) the repository's own ``scanOnPush``,
    scans on push; otherwise MANUAL. ENHANCED: no rules means continuous for every repository; a matching
    CONTINUOUS_SCAN rule beats a matching SCAN_ON_PUSH one; an unmatched repository is not scanned.
    """
    config = registry.scanning_configuration
    rules = config.get("rules") or []
    matched: dict[str, list[dict[str, str]]] = {}
    for rule in rules:
        for flt in rule.get("repositoryFilters") or []:
            if _filter_matches(flt["filter"], repo.name):
                matched.setdefault(rule["scanFrequency"], []).append(dict(flt))
    if config.get("scanType") == "ENHANCED":
        if not rules:
            return RepositoryScanning(True, "CONTINUOUS_SCAN", (), True)
        for frequency in ("CONTINUOUS_SCAN", "SCAN_ON_PUSH"):
            if frequency in matched:
                return RepositoryScanning(True, frequency, tuple(matched[frequency]), True)
        return RepositoryScanning(False, "MANUAL", (), False)
    if "SCAN_ON_PUSH" in matched:
        return RepositoryScanning(True, "SCAN_ON_PUSH", tuple(matched["SCAN_ON_PUSH"]), True)
    if repo.scan_on_push:
        return RepositoryScanning(True, "SCAN_ON_PUSH", (), True)
    return RepositoryScanning(False, "MANUAL", (), True)


_Key = tuple[str, str, str, str]  # account, region, repository, digest

_SCANNER: Scanner | None = None
_SCANNER_LOCK = threading.Lock()


def _shared_scanner() -> Scanner:
    """One scanner per process: the advisory feeds take a second to load and never change while it runs."""
    global _SCANNER
    with _SCANNER_LOCK:
        if _SCANNER is None:
            _SCANNER = Scanner(AdvisoryDatabase.load())
        return _SCANNER


class ScanningService:
    """The scans of every registry of one engine."""

    def __init__(self, engine: Engine, scanner: Scanner | None = None) -> None:
        self._engine = weakref.proxy(engine)
        self._scanner = scanner
        self.scans: dict[_Key, ImageScan] = {}
        # When each image's last scan started, for the once-per-24-hours quota.
        self.last_started: dict[_Key, datetime] = {}

    @property
    def scanner(self) -> Scanner:
        if self._scanner is None:
            self._scanner = _shared_scanner()
        return self._scanner

    # -- starting and finishing scans -------------------------------------------------------------
    def start(self, registry: Registry, repo: Repository, digest: str, scan_type: str, frequency: str) -> ImageScan:
        """Record a scan as IN_PROGRESS and schedule its completion (the caller holds the engine lock)."""
        now = self._engine.clock.now()
        key = (registry.account, registry.region, repo.name, digest)
        scan = ImageScan(scan_type, frequency, now, repo.images[digest].pushed_at)
        self.scans[key] = scan
        self.last_started[key] = now
        self._engine.events.schedule(
            now + SCAN_DURATION, lambda: self._finish(key, scan), f"scan {repo.name}@{digest[:19]}"
        )
        return scan

    def _finish(self, key: _Key, scan: ImageScan) -> None:
        engine = self._engine
        account, region, name, digest = key
        with engine.lock:
            repo = engine.registry(account, region).repositories.get(name)
            image = repo.images.get(digest) if repo else None
            if repo is None or image is None or self.scans.get(key) is not scan:
                return  # deleted meanwhile, or superseded by a newer scan
            result = self._scan(account, region, image.manifest, scan.scan_type)
            scan.result = result
            scan.completed_at = engine.clock.now()
            if result.status == "UNSUPPORTED_IMAGE":
                scan.status = "UNSUPPORTED_IMAGE"
            elif scan.frequency == "CONTINUOUS_SCAN":
                scan.status = "ACTIVE"
            else:
                scan.status = "COMPLETE"
            scan.finding_ids = [engine.new_id().replace("-", "") for _ in result.findings]
            events = self._scan_events(repo, image, scan, key)
        for event in events:
            engine.events.publish(event)

    def _scan_events(self, repo: Repository, image: ImageRecord, scan: ImageScan, key: _Key) -> list[Event]:
        account, region, name, digest = key
        assert scan.result is not None and scan.completed_at is not None
        common = {"account": account, "region": region, "time": scan.completed_at, "repository": name}
        counts = scan.result.counts
        if scan.scan_type == "BASIC":
            return [
                ImageScanned(
                    **common,
                    repository_arn=repo.arn,
                    digest=digest,
                    tags=tuple(image.tags),
                    status=scan.status,
                    severity_counts=counts,
                )
            ]
        events: list[Event] = []
        for index, finding in enumerate(scan.result.findings):
            shaped = enhanced_finding(repo, image, scan, index, finding)
            events.append(
                InspectorFinding(
                    **common,
                    digest=digest,
                    finding_arn=shaped["findingArn"],
                    severity=finding.severity,
                    finding=shaped,
                )
            )
        events.append(
            InspectorScanCompleted(
                **common,
                repository_arn=repo.arn,
                digest=digest,
                tags=tuple(image.tags),
                status=scan.status,
                severity_counts=counts,
            )
        )
        return events

    def _scan(self, account: str, region: str, manifest_bytes: bytes, scan_type: str) -> ScanResult:
        manifest = json.loads(manifest_bytes)
        store = self._engine.blobs.store(account, region)
        layers = [(layer["digest"], store.read(layer["digest"])) for layer in manifest.get("layers", [])]
        return self.scanner.scan(layers, enhanced=scan_type == "ENHANCED")

    # -- DescribeImages ---------------------------------------------------------------------------
    def extend_image_detail(self, repo: Repository, image: ImageRecord, detail: dict[str, Any]) -> None:
        """Add the image's scan to its ``ImageDetail`` (the engine calls this with its lock held).

        ``imageScanStatus`` for any scanned image; ``imageScanFindingsSummary`` (completion time, data date,
        severity counts) once a BASIC scan has finished: it summarises the AWS_NATIVE scanner's findings.
        Inspector's (ENHANCED) findings are read with DescribeImageScanFindings or Inspector's own API.
        """
        if not image.active:
            # An archived image (or one still being restored) is not scanned: ECR reports IMAGE_ARCHIVED.
            detail["imageScanStatus"] = {"status": "IMAGE_ARCHIVED"}
            return
        scan = self.scans.get((repo.account, repo.region, repo.name, image.digest))
        if scan is None:
            return
        detail["imageScanStatus"] = scan_status(scan, self._engine.clock.now())
        if scan.scan_type != "BASIC" or scan.result is None:
            return
        summary: dict[str, Any] = {
            "imageScanCompletedAt": scan.completed_at,
            "findingSeverityCounts": scan.result.counts,
        }
        if scan.result.source_updated_at is not None:
            summary["vulnerabilitySourceUpdatedAt"] = scan.result.source_updated_at
        detail["imageScanFindingsSummary"] = summary

    # -- event stream -----------------------------------------------------------------------------
    def on_pushed(self, event: ImagePushed) -> None:
        if not event.new_image:
            return
        engine = self._engine
        with engine.lock:
            # A new image has no scan yet; one restored from the archive loses the scan it had (User Guide).
            self.scans.pop((event.account, event.region, event.repository, event.digest), None)
            registry = engine.registry(event.account, event.region)
            repo = registry.repositories.get(event.repository)
            if repo is None or event.digest not in repo.images:
                return
            setting = repository_scanning(registry, repo)
            if not setting.scan_on_push or not scannable(repo.images[event.digest].manifest):
                return
            scan_type = registry.scanning_configuration.get("scanType", "BASIC")
            self.start(registry, repo, event.digest, scan_type, setting.frequency)

    def on_deleted(self, event: ImageDeleted | RepositoryDeleted) -> None:
        digests = (event.digest,) if isinstance(event, ImageDeleted) else event.digests
        with self._engine.lock:
            for digest in digests:
                key = (event.account, event.region, event.repository, digest)
                self.scans.pop(key, None)
                self.last_started.pop(key, None)


def scannable(manifest_bytes: bytes) -> bool:
    """Whether a manifest is a container image a scanner reads (not an index, not an artifact)."""
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        return False
    return isinstance(manifest, dict) and (manifest.get("config") or {}).get("mediaType") in _SCANNABLE_CONFIGS


_SERVICES: weakref.WeakKeyDictionary[Engine, ScanningService] = weakref.WeakKeyDictionary()


def service_for(engine: Engine) -> ScanningService:
    """The engine's scanning service (installing it if the lab did not)."""
    service = _SERVICES.get(engine)
    return service if service is not None else install(engine)


def install(engine: Engine, scanner: Scanner | None = None) -> ScanningService:
    """Attach scanning to ``engine``: its operations, scan on push, and scans on the lab clock."""
    existing = _SERVICES.get(engine)
    if existing is not None:
        return existing
    service = ScanningService(engine, scanner)
    _SERVICES[engine] = service
    engine.image_details_extensions.append(service.extend_image_detail)
    engine.events.subscribe(service.on_pushed, ImagePushed)
    engine.events.subscribe(service.on_deleted, ImageDeleted, RepositoryDeleted)
    return service

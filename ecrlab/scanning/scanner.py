"""The scanner: an image's layers in, findings out. No HTTP, no engine.

>>> from ecrlab import images
>>> from ecrlab.scanning import Scanner
>>> result = Scanner().scan(images.base_image("alpine:3.18.0").layers, enhanced=False)
>>> result.status, result.counts["MEDIUM"]

BASIC (ECR's AWS_NATIVE engine) reports OS packages only; ENHANCED (Amazon Inspector) adds
programming-language packages (Python distributions here). An image with no supported OS package
manager is ``UNSUPPORTED_IMAGE``, as ECR reports it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ecrlab.images.oci import Blob
from ecrlab.scanning.advisories import Advisory, AdvisoryDatabase
from ecrlab.scanning.packages import OperatingSystem, Package, detect_os, installed_packages
from ecrlab.scanning.rootfs import read_rootfs
from ecrlab.scanning.severity import SEVERITIES, Metric, Rating, SeverityTable

__all__ = ["Finding", "ScanResult", "Scanner"]

# OS families whose package databases the scanner reads (and so can scan).
SUPPORTED_OS = ("alpine", "debian", "ubuntu")


@dataclass(frozen=True)
class Finding:
    """One vulnerability in one installed package."""

    advisory: Advisory
    package: Package
    fixed_in: str | None
    rating: Rating

    @property
    def name(self) -> str:
        return self.advisory.id

    @property
    def severity(self) -> str:
        return self.rating.severity


@dataclass
class ScanResult:
    status: str  # COMPLETE | UNSUPPORTED_IMAGE
    os: OperatingSystem | None
    packages: list[Package]
    findings: list[Finding] = field(default_factory=list)
    source_updated_at: datetime | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Findings per severity, only severities present (as ECR's ``findingSeverityCounts``)."""
        counted = Counter(f.severity for f in self.findings)
        return {s: counted[s] for s in SEVERITIES if counted[s]}


class Scanner:
    """Matches an image's installed packages against an advisory database, rating each finding."""

    def __init__(self, database: AdvisoryDatabase | None = None, severities: SeverityTable | None = None) -> None:
        self.database = database if database is not None else AdvisoryDatabase.load()
        self.severities = severities if severities is not None else SeverityTable.shipped()

    def scan(self, layers: Iterable[Blob | tuple[str, bytes]], *, enhanced: bool) -> ScanResult:
        """Scan the image whose layer blobs are ``layers`` (base first)."""
        blobs = [(b.digest, b.data) if isinstance(b, Blob) else b for b in layers]
        fs = read_rootfs(blobs)
        system = detect_os(fs)
        packages = installed_packages(fs, languages=enhanced)
        has_os_packages = any(p.manager == "OS" for p in packages)
        updated = self.database.updated_at
        if system is None or system.id not in SUPPORTED_OS or not has_os_packages:
            return ScanResult("UNSUPPORTED_IMAGE", system, packages, [], updated)
        findings: dict[tuple[str, str, str], Finding] = {}
        # One CVE usually hits several packages of an image (an origin's subpackages: libcrypto3 and libssl3):
        # rate it once per scan.
        ratings: dict[tuple[str, tuple[Metric, ...]], Rating] = {}
        for package in packages:
            for match in self.database.matches(package, system):
                key = (package.name, package.file_path, match.advisory.id)
                if key in findings:
                    continue  # the same CVE from two feeds (secdb and an OSV alias) is one finding
                rated = (match.advisory.id, match.advisory.metrics)
                rating = ratings.get(rated)
                if rating is None:
                    rating = ratings[rated] = self.severities.rate(*rated)
                findings[key] = Finding(match.advisory, package, match.fixed_in, rating)
        rank = {severity: i for i, severity in enumerate(SEVERITIES)}
        ordered = sorted(
            findings.values(), key=lambda f: (rank[f.severity], f.name, f.package.name, f.package.file_path)
        )
        return ScanResult("COMPLETE", system, packages, ordered, updated)

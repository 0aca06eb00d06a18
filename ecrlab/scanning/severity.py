"""Severity of a vulnerability from real data, by ECR's documented precedence.

ECR basic scanning "uses the severity of a CVE from the upstream distribution source if available,
otherwise the CVSS score". In the shipped data that means, first to last:

1. a vendor's own word from the CVE List (``cve-metrics.tsv``, ``other`` metrics such as OpenSSL's
   Low/Moderate/High/Critical): the upstream severity;
2. CVSS v3.x: NVD's (``nvd-cvss.tsv``), else the CNA's, else CISA-ADP's (``cve-metrics.tsv``), else one the
   advisory record itself carries (OSV ``severity``);
3. CVSS v2 from NVD;
4. otherwise ``UNDEFINED`` — never a guess.

Every CVSS score is computed from its vector by the ``cvss`` library, and the data's own score is checked
against it (a mismatch is reported by :func:`SeverityTable.check`), so a typo in a feed cannot pass silently.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from cvss import CVSS2, CVSS3

__all__ = ["SEVERITIES", "Metric", "Rating", "SeverityTable", "cvss_rating"]

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
# Vendors' words as the CVE List records them, in the case-insensitive form ECR's scale uses.
_VENDOR_WORDS = {"critical": "CRITICAL", "high": "HIGH", "moderate": "MEDIUM", "medium": "MEDIUM", "low": "LOW"}


@dataclass(frozen=True)
class Metric:
    """One severity statement about a CVE, as a data file records it."""

    source: str  # nvd | cna:<name> | adp:<name> | osv:<record id>
    kind: str  # cvss2 | cvss3 | vendor
    vector: str  # a CVSS vector, or the vendor's policy URL
    recorded_score: float | None
    recorded_severity: str


@dataclass(frozen=True)
class Rating:
    """The severity chosen for a finding, and where it came from."""

    severity: str
    source: str  # e.g. "vendor (cna:openssl)", "CVSS v3.1 (nvd)", "no data"
    cvss3: tuple[float, str, str] | None = None  # (score, vector, source)
    cvss2: tuple[float, str, str] | None = None


@functools.lru_cache(maxsize=8192)
def cvss_rating(vector: str) -> tuple[float, str]:
    """(base score, severity word in ECR's scale) computed from a CVSS v2 or v3.x vector."""
    if vector.startswith("CVSS:3"):
        metric = CVSS3(vector)
        return float(metric.scores()[0]), metric.severities()[0].upper().replace("NONE", "INFORMATIONAL")
    score = float(CVSS2(vector).scores()[0])
    # NVD's v2 bands (CVSS v2 itself defines none): 0–3.9 low, 4–6.9 medium, 7–10 high.
    return score, "HIGH" if score >= 7 else "MEDIUM" if score >= 4 else "LOW"


def _rows(file: Traversable) -> list[dict[str, str]]:
    with file.open("r", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


class SeverityTable:
    """Severity metrics per CVE from the shipped TSVs (or others with the same columns)."""

    def __init__(self, metrics: dict[str, list[Metric]]) -> None:
        self.metrics = metrics

    @classmethod
    def shipped(cls) -> SeverityTable:
        folder = resources.files("ecrlab") / "data" / "advisories"
        metrics: dict[str, list[Metric]] = {}
        for row in _rows(folder / "nvd-cvss.tsv"):
            if row["vector"] != "-":
                kind = "cvss2" if row["cvss_version"] == "v2" else "cvss3"
                metrics.setdefault(row["cve"], []).append(
                    Metric("nvd", kind, row["vector"], float(row["base_score"]), row["base_severity"])
                )
        for row in _rows(folder / "cve-metrics.tsv"):
            if row["provider"] == "-":
                continue
            if row["kind"] == "other":
                metric = Metric(row["provider"], "vendor", row["vector_or_type"], None, row["severity"])
            elif row["kind"].startswith("cvssV3"):
                metric = Metric(
                    row["provider"], "cvss3", row["vector_or_type"], float(row["base_score"]), row["severity"]
                )
            elif row["kind"] == "cvssV2_0":
                metric = Metric(
                    row["provider"], "cvss2", row["vector_or_type"], float(row["base_score"]), row["severity"]
                )
            else:
                continue  # CVSS v4 is not part of ECR's scale yet
            metrics.setdefault(row["cve"], []).append(metric)
        return cls(metrics)

    def check(self) -> list[str]:
        """Every recorded CVSS score that the library computes differently from its vector."""
        problems = []
        for cve, metrics in self.metrics.items():
            for metric in metrics:
                if metric.kind.startswith("cvss") and metric.recorded_score is not None:
                    score, _ = cvss_rating(metric.vector)
                    if abs(score - metric.recorded_score) > 0.05:
                        problems.append(f"{cve} {metric.source}: recorded {metric.recorded_score}, computed {score}")
        return problems

    def rate(self, cve: str, extra: tuple[Metric, ...] = ()) -> Rating:
        """The severity of ``cve`` by ECR's precedence; ``extra`` are metrics the advisory record carries."""
        metrics = self.metrics.get(cve, []) + list(extra)
        cvss3 = self._best(metrics, "cvss3")
        cvss2 = self._best(metrics, "cvss2")
        scored3 = (*cvss_rating(cvss3.vector), cvss3) if cvss3 else None
        scored2 = (*cvss_rating(cvss2.vector), cvss2) if cvss2 else None
        v3 = (scored3[0], cvss3.vector, cvss3.source) if scored3 and cvss3 else None
        v2 = (scored2[0], cvss2.vector, cvss2.source) if scored2 and cvss2 else None
        for metric in metrics:
            word = _VENDOR_WORDS.get(metric.recorded_severity.lower()) if metric.kind == "vendor" else None
            if word:
                return Rating(word, f"vendor ({metric.source})", v3, v2)
        if scored3 and cvss3:
            version = cvss3.vector.split("/")[0].removeprefix("CVSS:")
            return Rating(scored3[1], f"CVSS v{version} ({cvss3.source})", v3, v2)
        if scored2 and cvss2:
            return Rating(scored2[1], f"CVSS v2 ({cvss2.source})", v3, v2)
        return Rating("UNDEFINED", "no data", None, None)

    @staticmethod
    def _best(metrics: list[Metric], kind: str) -> Metric | None:
        # min() keeps the first of equals, as the stable sort this replaces did.
        candidates = [m for m in metrics if m.kind == kind]
        return min(candidates, key=_source_rank) if candidates else None


_SOURCE_ORDER = ("nvd", "cna:", "adp:", "osv:")


def _source_rank(metric: Metric) -> int:
    """Which score source wins: NVD, then the CNA, then CISA-ADP, then the advisory record itself."""
    for rank, prefix in enumerate(_SOURCE_ORDER):
        if metric.source.startswith(prefix):
            return rank
    return len(_SOURCE_ORDER)

"""An image's scan findings: a severity chart, a filterable table with fix advice, and a comparison of two scans.

The widget asks ECR for the scan with ``DescribeImageScanFindings`` (so a missing image, a scan not yet
finished or never started shows as ECR's own answer in the message line), then reads the finished scan's
findings from the lab's scanner, which also knows what the API does not return for a basic scan: the
version that fixes each finding (from the advisory data) and where its severity came from.

Fix advice comes from the data too: the fixed version the advisory names, and the first newer lab base
image (:data:`ecrlab.images.BASE_IMAGES`) that has the package and whose own scan no longer reports the
finding. Nothing here is typed in per CVE.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from packaging.version import InvalidVersion, Version

from ecrlab.images import BASE_IMAGES, base_image
from ecrlab.scanning import SEVERITIES, Finding, Scanner
from ecrlab.scanning.service import service_for
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["FindingRow", "ScanFindings"]

ALL = "ALL"
# Bar colours per severity, darkest for the worst (the console's palette, roughly).
_COLOURS = {
    "CRITICAL": "#8b0000",
    "HIGH": "#d1242f",
    "MEDIUM": "#e16f24",
    "LOW": "#d4a72c",
    "INFORMATIONAL": "#57606a",
    "UNDEFINED": "#8c959f",
}
_CELL = "text-align:left;padding:2px 8px;white-space:nowrap"
_COLUMNS = ("Severity", "Vulnerability", "Package", "Installed", "Severity from", "Fix")


@dataclass(frozen=True)
class FindingRow:
    """One finding as the widget shows it."""

    name: str
    severity: str
    package: str
    version: str
    severity_source: str
    fixed_in: str | None
    base_image_fix: str | None  # the first newer lab base image without this finding
    uri: str

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.package

    @property
    def advice(self) -> str:
        parts = []
        if self.fixed_in:
            parts.append(f"upgrade {self.package} to {self.fixed_in}")
        if self.base_image_fix:
            parts.append(f"rebuild on {self.base_image_fix}")
        return " or ".join(parts) if parts else "no fixed version in the advisory data yet"


@functools.cache
def _base_image_scan(name: str, scanner: Scanner) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """(package names, (vulnerability, package) findings) of a lab base image's own basic scan."""
    result = scanner.scan(base_image(name).layers, enhanced=False)
    return frozenset(p.name for p in result.packages), frozenset((f.name, f.package.name) for f in result.findings)


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _newer_bases(os_id: str, os_version: str) -> list[str]:
    """The lab base images of the same distribution newer than ``os_version``, oldest first."""
    current = _version(os_version)
    out = []
    for name in BASE_IMAGES:
        distribution, _, version = name.partition(":")
        candidate = _version(version)
        if distribution == os_id and current is not None and candidate is not None and candidate > current:
            out.append(name)
    return out


class ScanFindings(LabWidget):
    """The findings of one image's scan, and how they differ from another image's.

    Controls: ``repository`` and ``image`` (Text: a tag or a ``sha256:`` digest), ``show_button``;
    ``package_filter`` (Text, part of a package name) and ``severity_filter`` (Dropdown) narrow the table;
    ``compare_with`` (Text: the other image, in the same repository) and ``compare_button``.
    Output: ``chart``, ``table`` and ``comparison`` (HTML), ``message``; ``rows`` and ``compared`` hold the data.
    """

    def __init__(self, lab: Lab | None = None, repository: str = "", image: str = "", compare_with: str = "") -> None:
        super().__init__(lab)
        self.client = self.lab.client("ecr")
        self.rows: list[FindingRow] = []
        self.shown: str = ""  # "repository:image" of the scan on show
        self.compared: dict[str, list[FindingRow]] = {}
        self.repository = widgets.Text(value=repository, description="Repository", continuous_update=False)
        self.image = widgets.Text(value=image, description="Image", placeholder="tag or sha256:...")
        self.show_button = widgets.Button(description="Show findings", button_style="primary", icon="search")
        self.package_filter = widgets.Text(description="Package", placeholder="part of a name")
        self.severity_filter = widgets.Dropdown(options=(ALL, *SEVERITIES), value=ALL, description="Severity")
        self.compare_with = widgets.Text(value=compare_with, description="Compare with", placeholder="tag or digest")
        self.compare_button = widgets.Button(description="Compare", icon="exchange")
        self.chart = widgets.HTML()
        self.table = widgets.HTML()
        self.comparison = widgets.HTML()
        self.show_button.on_click(lambda _: self.show())
        self.compare_button.on_click(lambda _: self.compare())
        self.package_filter.observe(lambda _: self._redraw_table(), names="value")
        self.severity_filter.observe(lambda _: self._redraw_table(), names="value")
        self.children = [
            widgets.HBox([self.repository, self.image, self.show_button]),
            self.message,
            self.chart,
            widgets.HBox([self.package_filter, self.severity_filter]),
            self.table,
            widgets.HBox([self.compare_with, self.compare_button]),
            self.comparison,
        ]
        self.add_class("ecrlab-scan-findings")
        if repository and image:
            self.show()
            if compare_with:
                self.compare()

    # -- actions ----------------------------------------------------------------------------------
    def show(self) -> None:
        """Read the scan of ``repository``/``image`` and draw its chart and table."""
        rows = self._load(self.image.value.strip())
        self.compared = {}
        self.comparison.value = ""
        if rows is None:
            self.rows, self.shown = [], ""
            self.chart.value = self.table.value = ""
            return
        self.rows = rows
        self.shown = f"{self.repository.value.strip()}:{self.image.value.strip()}"
        self.chart.value = self._chart_html()
        self._redraw_table()

    def compare(self) -> None:
        """Compare the scan on show with ``compare_with``'s: findings new in this image, fixed, unchanged."""
        if not self.shown:
            self.show()
            if not self.shown:
                return
        other = self._load(self.compare_with.value.strip())
        if other is None:
            self.compared, self.comparison.value = {}, ""
            return
        before = {r.key for r in other}
        now = {r.key for r in self.rows}
        self.compared = {
            "new": [r for r in self.rows if r.key not in before],
            "fixed": [r for r in other if r.key not in now],
            "unchanged": [r for r in self.rows if r.key in before],
        }
        self.comparison.value = self._comparison_html()

    def rows_shown(self) -> list[FindingRow]:
        """The rows the filters let through."""
        part = self.package_filter.value.strip().lower()
        severity = self.severity_filter.value
        return [r for r in self.rows if (not part or part in r.package.lower()) and severity in (ALL, r.severity)]

    # -- data -------------------------------------------------------------------------------------
    def _load(self, reference: str) -> list[FindingRow] | None:
        repository = self.repository.value.strip()
        image_id = {"imageDigest": reference} if reference.startswith("sha256:") else {"imageTag": reference}
        answer = self.attempt(
            lambda: self.client.describe_image_scan_findings(repositoryName=repository, imageId=image_id)
        )
        if answer is None:
            return None
        status = answer["imageScanStatus"]
        if "imageScanFindings" not in answer:
            self.message.info(
                f"The scan of {repository}:{reference} is {status['status']}: its findings appear when it completes "
                "(advance the lab clock, or wait)."
            )
            return None
        digest = answer["imageId"]["imageDigest"]
        scan = service_for(self.lab.engine).scans.get((self.lab.account_id, self.lab.region, repository, digest))
        if scan is None or scan.result is None:  # deleted or rescanned between the two reads
            self.message.info(f"The scan of {repository}:{reference} changed while it was read: show it again.")
            return None
        result = scan.result
        self.message.ok(f"{repository}:{reference}: {len(result.findings)} findings, scan {status['status']}")
        system = result.os
        bases = _newer_bases(system.id, system.version_id) if system is not None else []
        return [self._row(finding, bases) for finding in result.findings]

    def _row(self, finding: Finding, bases: list[str]) -> FindingRow:
        fix_base = None
        if finding.package.manager == "OS":
            scanner = service_for(self.lab.engine).scanner
            for name in bases:
                packages, findings = _base_image_scan(name, scanner)
                if finding.package.name in packages and (finding.name, finding.package.name) not in findings:
                    fix_base = name
                    break
        return FindingRow(
            name=finding.name,
            severity=finding.severity,
            package=finding.package.name,
            version=finding.package.version,
            severity_source=finding.rating.source,
            fixed_in=finding.fixed_in,
            base_image_fix=fix_base,
            uri=finding.advisory.uri,
        )

    # -- views ------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Findings per severity, only severities present (as ECR's ``findingSeverityCounts``)."""
        out = {s: sum(1 for r in self.rows if r.severity == s) for s in SEVERITIES}
        return {s: n for s, n in out.items() if n}

    def _chart_html(self) -> str:
        counts = self.counts()
        if not counts:
            return "<p><em>No findings.</em></p>"
        widest = max(counts.values())
        bars = []
        for severity in SEVERITIES:
            n = counts.get(severity, 0)
            width = round(240 * n / widest)
            bars.append(
                f"<div data-severity='{severity}' style='display:flex;align-items:center;gap:6px'>"
                f"<span style='width:110px'>{severity}</span>"
                f"<span style='display:inline-block;height:12px;width:{width}px;background:{_COLOURS[severity]}'></span>"
                f"<span>{n}</span></div>"
            )
        return "<div class='ecrlab-severity-chart'>" + "".join(bars) + "</div>"

    def _redraw_table(self) -> None:
        self.table.value = self._table_html(self.rows_shown()) if self.shown else ""

    @staticmethod
    def _table_html(rows: list[FindingRow]) -> str:
        if not rows:
            return "<p><em>No findings match.</em></p>"
        head = "".join(f"<th style='{_CELL}'>{c}</th>" for c in _COLUMNS)
        body = []
        for r in rows:
            cells = (
                f"<span style='color:{_COLOURS[r.severity]}'><b>{r.severity}</b></span>",
                f"<a href='{html.escape(r.uri)}' target='_blank'>{html.escape(r.name)}</a>",
                html.escape(r.package),
                html.escape(r.version),
                html.escape(r.severity_source),
                html.escape(r.advice),
            )
            tds = "".join(f"<td style='{_CELL}'>{c}</td>" for c in cells)
            body.append(f"<tr data-finding='{html.escape(r.name)}' data-package='{html.escape(r.package)}'>{tds}</tr>")
        return f"<table class='ecrlab-findings'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    def _comparison_html(self) -> str:
        other = html.escape(self.compare_with.value.strip())
        shown = html.escape(self.shown)
        titles = {
            "new": f"New in {shown} (not in {other})",
            "fixed": f"Fixed (in {other}, gone from {shown})",
            "unchanged": "Unchanged",
        }
        parts = []
        for kind, title in titles.items():
            rows = self.compared.get(kind, [])
            parts.append(f"<h4 data-comparison='{kind}'>{title}: {len(rows)}</h4>")
            if rows:
                parts.append(self._table_html(rows))
        return "".join(parts)

    # -- static renderings ------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # A notebook rendered without a kernel (GitHub, nbviewer) shows text/html: give it the findings.
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = "".join(
            (
                f"<p><b>Scan findings</b> {html.escape(self.shown or '(none shown)')}</p>",
                self.chart.value,
                self.table.value,
                self.comparison.value,
            )
        )
        return bundle

    def __repr__(self) -> str:
        if not self.shown:
            return "ScanFindings(no scan shown)"
        counts = ", ".join(f"{s} {n}" for s, n in self.counts().items()) or "no findings"
        text = f"ScanFindings({self.shown}: {counts}"
        if self.compared:
            text += "; compared with {}: {} new, {} fixed, {} unchanged".format(
                self.compare_with.value.strip(), *(len(self.compared[k]) for k in ("new", "fixed", "unchanged"))
            )
        return text + ")"

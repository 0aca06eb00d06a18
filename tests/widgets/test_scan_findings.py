"""The scan findings widget, driven as a learner would: fill in, click, filter, compare, read."""

from __future__ import annotations

import pytest

from ecrlab import images
from ecrlab.images.client import RegistryClient
from ecrlab.scanning import SEVERITIES, Scanner
from ecrlab.widgets import ScanFindings


@pytest.fixture
def pushed(lab, ecr):
    """web:old on alpine:3.18.0 and web:new on alpine:3.18.9, both scanned."""
    ecr.create_repository(repositoryName="web")
    client = RegistryClient.for_lab(lab)
    for tag, base in (("old", "alpine:3.18.0"), ("new", "alpine:3.18.9")):
        client.push(images.base_image(base), "web", tag)
        ecr.start_image_scan(repositoryName="web", imageId={"imageTag": tag})
    lab.clock.advance(minutes=1)
    return ecr


def _api_findings(ecr, tag: str) -> set[tuple[str, str]]:
    pages = ecr.get_paginator("describe_image_scan_findings").paginate(repositoryName="web", imageId={"imageTag": tag})
    return {
        (f["name"], next(a["value"] for a in f["attributes"] if a["key"] == "package_name"))
        for page in pages
        for f in page["imageScanFindings"]["findings"]
    }


def test_errors_and_unfinished_scans_show_as_messages(lab, ecr):
    ecr.create_repository(repositoryName="web")
    RegistryClient.for_lab(lab).push(images.base_image("alpine:3.20.3"), "web", "v1")
    w = ScanFindings(lab)
    w.repository.value, w.image.value = "web", "v1"
    w.show_button.click()
    assert "ScanNotFoundException" in w.message.value and w.rows == [] and w.table.value == ""
    ecr.start_image_scan(repositoryName="web", imageId={"imageTag": "v1"})
    w.show_button.click()
    assert "IN_PROGRESS" in w.message.value and w.rows == []
    w.image.value = "nope"
    w.show_button.click()
    assert "ImageNotFoundException" in w.message.value
    assert repr(w) == "ScanFindings(no scan shown)"


def test_table_chart_and_filters_follow_the_scan(lab, pushed):
    w = ScanFindings(lab, repository="web", image="old")
    assert {r.key for r in w.rows} == _api_findings(pushed, "old")
    counts = pushed.describe_image_scan_findings(repositoryName="web", imageId={"imageTag": "old"})[
        "imageScanFindings"
    ]["findingSeverityCounts"]
    assert w.counts() == counts
    for severity, n in counts.items():
        assert f"data-severity='{severity}'" in w.chart.value and f"<span>{n}</span>" in w.chart.value
    assert w.table.value.count("<tr data-finding=") == len(w.rows)

    w.package_filter.value = "ssl"
    assert w.rows_shown() and all("ssl" in r.package for r in w.rows_shown())
    assert w.table.value.count("<tr data-finding=") == len(w.rows_shown()) < len(w.rows)
    w.package_filter.value = ""
    present = next(s for s in SEVERITIES if s in counts)
    w.severity_filter.value = present
    assert len(w.rows_shown()) == counts[present]
    assert {r.severity for r in w.rows_shown()} == {present}
    absent = next((s for s in SEVERITIES if s not in counts), None)
    if absent is not None:
        w.severity_filter.value = absent
        assert w.rows_shown() == [] and "No findings match" in w.table.value
    w.severity_filter.value = "ALL"
    bundle = w._repr_mimebundle_()
    assert "web:old" in bundle["text/html"] and "ecrlab-findings" in bundle["text/html"]
    assert bundle["text/plain"].startswith("ScanFindings(web:old: ")


def test_fix_advice_comes_from_the_data(lab, pushed):
    w = ScanFindings(lab, repository="web", image="old")
    scanner = Scanner()
    newer = scanner.scan(images.base_image("alpine:3.18.9").layers, enhanced=False)
    newer_findings = {(f.name, f.package.name) for f in newer.findings}
    newer_packages = {p.name for p in newer.packages}
    old = {
        (f.name, f.package.name): f
        for f in scanner.scan(images.base_image("alpine:3.18.0").layers, enhanced=False).findings
    }
    fixed_by_rebuild = [r for r in w.rows if r.base_image_fix]
    assert fixed_by_rebuild  # 3.18.9 fixes some of 3.18.0's findings
    for r in w.rows:
        assert r.fixed_in == old[r.key].fixed_in
        assert r.severity_source == old[r.key].rating.source
        if r.key not in newer_findings and r.package in newer_packages:
            assert r.base_image_fix == "alpine:3.18.9", r
        if r.fixed_in:
            assert f"upgrade {r.package} to {r.fixed_in}" in r.advice
    stuck = [r for r in w.rows if r.base_image_fix is None]
    assert all(r.key in newer_findings or r.package not in newer_packages for r in stuck)
    assert "rebuild on alpine:3.18.9" in w.table.value


def test_comparison_of_two_scans(lab, pushed):
    w = ScanFindings(lab, repository="web", image="new")
    w.compare_with.value = "old"
    w.compare_button.click()
    old, new = _api_findings(pushed, "old"), _api_findings(pushed, "new")
    assert {r.key for r in w.compared["new"]} == new - old
    assert {r.key for r in w.compared["fixed"]} == old - new
    assert {r.key for r in w.compared["unchanged"]} == old & new
    assert w.compared["fixed"]  # the newer base image fixes something
    assert f"data-comparison='fixed'>Fixed (in old, gone from web:new): {len(old - new)}" in w.comparison.value
    assert repr(w).endswith(f"{len(new - old)} new, {len(old - new)} fixed, {len(old & new)} unchanged)")
    w.compare_with.value = "ghost"
    w.compare_button.click()
    assert "ImageNotFoundException" in w.message.value and w.compared == {} and w.comparison.value == ""

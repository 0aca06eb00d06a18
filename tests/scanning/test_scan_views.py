"""What the rest of ECR shows about scans: DescribeImages' scan fields and the events a finished scan publishes."""

from __future__ import annotations

import json

from ecrlab import images
from ecrlab.images.client import RegistryClient
from ecrlab.scanning import ImageScanned, InspectorFinding, InspectorScanCompleted
from ecrlab.scanning.service import SCAN_DURATION


def _push(lab, repo: str, tag: str, base: str, extra: dict | None = None):
    image = images.base_image(base)
    if extra:
        image = images.ImageBuilder(image).copy_files(extra).build()
    RegistryClient.for_lab(lab).push(image, repo, tag)
    return image


def _on_push(ecr, scan_type: str, frequency: str, *filters: str) -> None:
    rule = {"scanFrequency": frequency, "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters]}
    ecr.put_registry_scanning_configuration(scanType=scan_type, rules=[rule])


def _detail(ecr, repo: str, tag: str) -> dict:
    (detail,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}])["imageDetails"]
    return detail


def test_describe_images_shows_the_basic_scan_as_it_progresses(lab, ecr):
    _on_push(ecr, "BASIC", "SCAN_ON_PUSH", "web")
    ecr.create_repository(repositoryName="web")
    ecr.create_repository(repositoryName="batch")
    _push(lab, "web", "v1", "alpine:3.18.0")
    _push(lab, "batch", "v1", "alpine:3.18.0")
    assert "imageScanStatus" not in _detail(ecr, "batch", "v1")  # never scanned: no scan fields at all
    running = _detail(ecr, "web", "v1")
    assert running["imageScanStatus"] == {"status": "IN_PROGRESS"}
    assert "imageScanFindingsSummary" not in running
    lab.clock.advance(seconds=SCAN_DURATION.total_seconds())
    done = _detail(ecr, "web", "v1")
    findings = ecr.describe_image_scan_findings(repositoryName="web", imageId={"imageTag": "v1"})
    assert done["imageScanStatus"] == findings["imageScanStatus"]
    summary = done["imageScanFindingsSummary"]
    whole = findings["imageScanFindings"]
    assert summary == {
        "imageScanCompletedAt": whole["imageScanCompletedAt"],
        "vulnerabilitySourceUpdatedAt": whole["vulnerabilitySourceUpdatedAt"],
        "findingSeverityCounts": whole["findingSeverityCounts"],
    }
    assert sum(summary["findingSeverityCounts"].values()) > 0
    # The listing form (no imageIds) carries the same fields.
    listed = ecr.describe_images(repositoryName="web")["imageDetails"]
    assert listed[0]["imageScanFindingsSummary"] == summary


def test_enhanced_scan_shows_status_only_and_publishes_inspector_events(lab, ecr):
    _on_push(ecr, "ENHANCED", "SCAN_ON_PUSH", "py")
    ecr.create_repository(repositoryName="py")
    seen: list = []
    lab.engine.events.subscribe(seen.append, ImageScanned, InspectorFinding, InspectorScanCompleted)
    metadata = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.30.0\n"
    image = _push(
        lab,
        "py",
        "v1",
        "alpine:3.20.3",
        {"/usr/lib/python3.12/site-packages/requests-2.30.0.dist-info/METADATA": metadata},
    )
    lab.clock.advance(minutes=1)
    detail = _detail(ecr, "py", "v1")
    assert detail["imageScanStatus"] == {"status": "COMPLETE", "description": "The scan was completed successfully."}
    assert "imageScanFindingsSummary" not in detail  # Inspector's findings are not summarised by DescribeImages
    enhanced = ecr.describe_image_scan_findings(repositoryName="py", imageId={"imageTag": "v1"}, maxResults=1000)
    shaped = enhanced["imageScanFindings"]["enhancedFindings"]
    findings = [e for e in seen if isinstance(e, InspectorFinding)]
    assert not any(isinstance(e, ImageScanned) for e in seen)
    assert isinstance(seen[-1], InspectorScanCompleted) and len(seen) == len(findings) + 1
    assert [f.finding_arn for f in findings] == [f["findingArn"] for f in shaped]
    first = findings[0]
    assert (type(first).source, type(first).detail_type) == ("aws.inspector2", "Inspector2 Finding")
    body, resources = first.to_eventbridge()
    json.dumps(body)  # EventBridge carries JSON: timestamps written out
    assert body["findingArn"] == shaped[0]["findingArn"] and body["severity"] == shaped[0]["severity"]
    assert resources == [f"arn:aws:ecr:us-east-1:123456789012:repository/py/{image.digest}"]
    scan_detail, scan_resources = seen[-1].to_eventbridge()
    counts = enhanced["imageScanFindings"]["findingSeverityCounts"]
    assert scan_detail == {
        "scan-status": "INITIAL_SCAN_COMPLETE",
        "repository-name": "arn:aws:ecr:us-east-1:123456789012:repository/py",
        "finding-severity-counts": {
            "CRITICAL": counts.get("CRITICAL", 0),
            "HIGH": counts.get("HIGH", 0),
            "MEDIUM": counts.get("MEDIUM", 0),
            "TOTAL": len(shaped),
        },
        "image-digest": image.digest,
        "image-tags": ["v1"],
    }
    assert scan_resources == ["arn:aws:ecr:us-east-1:123456789012:repository/py"]


def test_basic_scan_event_lists_only_severities_present(lab, ecr):
    _on_push(ecr, "BASIC", "SCAN_ON_PUSH", "web")
    ecr.create_repository(repositoryName="web")
    seen: list[ImageScanned] = []
    lab.engine.events.subscribe(seen.append, ImageScanned)
    image = _push(lab, "web", "v1", "alpine:3.18.0")
    lab.clock.advance(minutes=1)
    (event,) = seen
    assert (ImageScanned.source, ImageScanned.detail_type) == ("aws.ecr", "ECR Image Scan")
    detail, resources = event.to_eventbridge()
    counts = ecr.describe_image_scan_findings(repositoryName="web", imageId={"imageTag": "v1"})["imageScanFindings"][
        "findingSeverityCounts"
    ]
    assert detail == {
        "scan-status": "COMPLETE",
        "repository-name": "web",
        "finding-severity-counts": counts,
        "image-digest": image.digest,
        "image-tags": ["v1"],
    }
    assert all(detail["finding-severity-counts"].values())
    assert resources == ["arn:aws:ecr:us-east-1:123456789012:repository/web"]

"""The ECR scanning operations through boto3 and the AWS CLI, on the lab clock."""

from __future__ import annotations

from importlib import resources

import botocore.exceptions
import pytest

import ecrlab
from ecrlab import images
from ecrlab.images.client import RegistryClient
from ecrlab.scanning import SEVERITIES, ImageScanned
from ecrlab.scanning.service import SCAN_DURATION

DATA = resources.files("ecrlab") / "data"


def _on_push(ecr, *filters: str, scan_type: str = "BASIC", frequency: str = "SCAN_ON_PUSH") -> dict:
    rules = [
        {"scanFrequency": frequency, "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters]}
    ]
    return ecr.put_registry_scanning_configuration(scanType=scan_type, rules=rules)


def _push(lab, repo: str, tag: str, base: str = "alpine:3.18.0", extra: dict | None = None):
    image = images.base_image(base)
    if extra:
        image = images.ImageBuilder(image).copy_files(extra).build()
    RegistryClient.for_lab(lab).push(image, repo, tag)
    return image


def _error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def test_registry_configuration_round_trip_and_validation(ecr):
    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}
    _on_push(ecr, "prod-*", "web")
    got = ecr.get_registry_scanning_configuration()
    assert got["registryId"] == "123456789012"
    assert got["scanningConfiguration"]["rules"][0]["repositoryFilters"][1] == {
        "filter": "web",
        "filterType": "WILDCARD",
    }
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        _on_push(ecr, "x", frequency="CONTINUOUS_SCAN")
    assert _error(excinfo)[0] == "ValidationException"
    rule = {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "a", "filterType": "WILDCARD"}]}
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[rule] * 3)
    assert _error(excinfo)[0] == "InvalidParameterException"
    many = {
        "scanFrequency": "SCAN_ON_PUSH",
        "repositoryFilters": [{"filter": f"r{i}", "filterType": "WILDCARD"} for i in range(101)],
    }
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[many])
    assert _error(excinfo)[0] == "InvalidParameterException"


def test_repository_scanning_configuration_under_basic_and_enhanced(ecr):
    for name in ("prod-web", "team/web-api", "batch", "legacy"):
        ecr.create_repository(repositoryName=name)
    ecr.put_image_scanning_configuration(repositoryName="legacy", imageScanningConfiguration={"scanOnPush": True})
    _on_push(ecr, "prod-*", "web")

    def get(*names):
        out = ecr.batch_get_repository_scanning_configuration(repositoryNames=list(names))
        return {c["repositoryName"]: c for c in out["scanningConfigurations"]}, out["failures"]

    configs, failures = get("prod-web", "team/web-api", "batch", "legacy", "missing")
    assert configs["prod-web"]["scanFrequency"] == "SCAN_ON_PUSH" and configs["prod-web"]["scanOnPush"]
    assert configs["team/web-api"]["appliedScanFilters"] == [{"filter": "web", "filterType": "WILDCARD"}]
    assert configs["batch"]["scanFrequency"] == "MANUAL" and not configs["batch"]["scanOnPush"]
    assert configs["legacy"]["scanOnPush"]  # the deprecated repository setting still works
    assert failures == [
        {"repositoryName": "missing", "failureCode": "REPOSITORY_NOT_FOUND", "failureReason": "REPOSITORY_NOT_FOUND"}
    ]

    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}]},
            {
                "scanFrequency": "CONTINUOUS_SCAN",
                "repositoryFilters": [{"filter": "prod-w*", "filterType": "WILDCARD"}],
            },
        ],
    )
    configs, _ = get("prod-web", "batch")
    assert configs["prod-web"]["scanFrequency"] == "CONTINUOUS_SCAN"  # continuous beats on push
    assert configs["batch"]["scanOnPush"] is False
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[])
    configs, _ = get("batch")
    assert configs["batch"]["scanFrequency"] == "CONTINUOUS_SCAN"  # no rules: continuous for all


def test_scan_on_push_is_in_progress_until_the_lab_clock_reaches_its_end(lab, ecr):
    _on_push(ecr, "web")
    ecr.create_repository(repositoryName="web")
    seen: list[ImageScanned] = []
    lab.engine.events.subscribe(seen.append, ImageScanned)
    image = _push(lab, "web", "v1")
    first = ecr.describe_image_scan_findings(repositoryName="web", imageId={"imageTag": "v1"})
    assert first["imageScanStatus"] == {"status": "IN_PROGRESS"}
    assert "imageScanFindings" not in first and not seen
    lab.clock.advance(seconds=SCAN_DURATION.total_seconds())
    done = ecr.describe_image_scan_findings(repositoryName="web", imageId={"imageDigest": image.digest})
    assert done["imageScanStatus"] == {"status": "COMPLETE", "description": "The scan was completed successfully."}
    findings = done["imageScanFindings"]
    counts = findings["findingSeverityCounts"]
    assert sum(counts.values()) == len(findings["findings"]) and set(counts) <= set(SEVERITIES)
    assert all(counts.values())
    assert findings["vulnerabilitySourceUpdatedAt"].year == 2024  # the data's date, not the lab's
    by_name = {
        (f["name"], {a["key"]: a["value"] for a in f["attributes"]}["package_name"]) for f in findings["findings"]
    }
    assert ("CVE-2023-2650", "libcrypto3") in by_name
    f = next(f for f in findings["findings"] if f["name"] == "CVE-2023-2650")
    assert f["severity"] == "MEDIUM" and f["uri"].endswith("CVE-2023-2650")
    (event,) = seen
    assert event.severity_counts == counts and event.repository_arn.endswith(":repository/web")
    assert event.status == "COMPLETE" and event.tags == ("v1",)


def test_unmatched_repository_is_not_scanned_on_push_and_manual_scan_limit(lab, ecr):
    ecr.create_repository(repositoryName="batch")
    _push(lab, "batch", "v1")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.describe_image_scan_findings(repositoryName="batch", imageId={"imageTag": "v1"})
    assert _error(excinfo)[0] == "ScanNotFoundException"
    started = ecr.start_image_scan(repositoryName="batch", imageId={"imageTag": "v1"})
    assert started["imageScanStatus"] == {"status": "IN_PROGRESS"}
    assert started["imageId"]["imageTag"] == "v1"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.start_image_scan(repositoryName="batch", imageId={"imageTag": "v1"})
    assert _error(excinfo) == (
        "LimitExceededException",
        "The scan quota per image has been exceeded. Wait and try again.",
    )
    lab.clock.advance(hours=23, minutes=59)
    with pytest.raises(botocore.exceptions.ClientError):
        ecr.start_image_scan(repositoryName="batch", imageId={"imageTag": "v1"})
    lab.clock.advance(minutes=2)
    assert (
        ecr.start_image_scan(repositoryName="batch", imageId={"imageTag": "v1"})["imageScanStatus"]["status"]
        == "IN_PROGRESS"
    )


def test_scan_on_push_counts_toward_the_daily_limit(lab, ecr):
    _on_push(ecr, "web")
    ecr.create_repository(repositoryName="web")
    _push(lab, "web", "v1")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.start_image_scan(repositoryName="web", imageId={"imageTag": "v1"})
    assert _error(excinfo)[0] == "LimitExceededException"


def test_errors_for_missing_things_and_unsupported_images(lab, ecr):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.start_image_scan(repositoryName="nope", imageId={"imageTag": "v1"})
    assert _error(excinfo)[0] == "RepositoryNotFoundException"
    ecr.create_repository(repositoryName="app")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v9"})
    assert _error(excinfo)[0] == "ImageNotFoundException"
    index = images.build_index([images.base_image("alpine:3.20.3")])
    RegistryClient.for_lab(lab).push(index, "app", "multi")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "multi"})
    assert _error(excinfo)[0] == "UnsupportedImageTypeException"
    scratch = images.ImageBuilder("scratch").copy_bytes(b"x", "/x").build()
    RegistryClient.for_lab(lab).push(scratch, "app", "scratch")
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "scratch"})
    lab.clock.advance(minutes=1)
    out = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "scratch"})
    assert out["imageScanStatus"]["status"] == "UNSUPPORTED_IMAGE"
    assert out["imageScanFindings"]["findingSeverityCounts"] == {}
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "scratch"}, maxResults=1001)
    assert _error(excinfo)[0] == "InvalidParameterException"
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "scratch"})
    assert _error(excinfo)[0] == "ValidationException"


def test_findings_paginate(lab, ecr):
    ecr.create_repository(repositoryName="app")
    _push(lab, "app", "old")
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "old"})
    lab.clock.advance(minutes=1)
    whole = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "old"}, maxResults=1000)
    names = [f["name"] for f in whole["imageScanFindings"]["findings"]]
    assert len(names) > 10 and "nextToken" not in whole
    pages = ecr.get_paginator("describe_image_scan_findings").paginate(
        repositoryName="app", imageId={"imageTag": "old"}, PaginationConfig={"PageSize": 7}
    )
    paged = [f["name"] for page in pages for f in page["imageScanFindings"]["findings"]]
    assert paged == names


def test_waiter_returns_once_complete():
    with ecrlab.start(deterministic=False) as lab:
        ecr = lab.client("ecr")
        ecr.create_repository(repositoryName="app")
        _push(lab, "app", "v1", base="alpine:3.20.3")
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
        ecr.get_waiter("image_scan_complete").wait(
            repositoryName="app", imageId={"imageTag": "v1"}, WaiterConfig={"Delay": 2, "MaxAttempts": 10}
        )
        out = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"})
        assert out["imageScanStatus"]["status"] == "COMPLETE"


def _metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()


def test_enhanced_findings_shape_and_continuous_expiry(lab, ecr):
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[])
    ecr.create_repository(repositoryName="py")
    image = _push(
        lab,
        "py",
        "v1",
        base="alpine:3.20.3",
        extra={"/usr/lib/python3.12/site-packages/requests-2.30.0.dist-info/METADATA": _metadata("requests", "2.30.0")},
    )
    lab.clock.advance(minutes=1)
    out = ecr.describe_image_scan_findings(repositoryName="py", imageId={"imageTag": "v1"})
    assert out["imageScanStatus"] == {"status": "ACTIVE", "description": "Continuous scan is selected for image."}
    enhanced = out["imageScanFindings"]["enhancedFindings"]
    assert "findings" not in out["imageScanFindings"]
    python = [
        f
        for f in enhanced
        if f["packageVulnerabilityDetails"]["vulnerablePackages"][0]["packageManager"] == "PYTHONPKG"
    ]
    cve = next(f for f in python if f["packageVulnerabilityDetails"]["vulnerabilityId"] == "CVE-2023-32681")
    pkg = cve["packageVulnerabilityDetails"]["vulnerablePackages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixedInVersion"]) == ("requests", "2.30.0", "2.31.0")
    assert pkg["sourceLayerHash"] == image.layers[-1].digest
    assert cve["findingArn"].startswith("arn:aws:inspector2:us-east-1:123456789012:finding/")
    assert cve["type"] == "PACKAGE_VULNERABILITY" and cve["status"] == "ACTIVE" and cve["fixAvailable"] == "YES"
    assert cve["severity"] == "MEDIUM" and cve["score"] == 6.1
    assert cve["scoreDetails"]["cvss"]["scoringVector"].startswith("CVSS:3.1/")
    os_finding = next(
        f for f in enhanced if f["packageVulnerabilityDetails"]["vulnerablePackages"][0]["packageManager"] == "OS"
    )
    assert os_finding["packageVulnerabilityDetails"]["vulnerablePackages"][0]["release"].startswith("r")
    lab.clock.advance(days=31)
    late = ecr.describe_image_scan_findings(repositoryName="py", imageId={"imageTag": "v1"})
    assert late["imageScanStatus"]["status"] == "SCAN_ELIGIBILITY_EXPIRED"


def test_aws_cli_runs_the_scanning_commands(lab):
    lab.aws("ecr create-repository --repository-name cli")
    _push(lab, "cli", "v1")
    lab.aws("ecr start-image-scan --repository-name cli --image-id imageTag=v1")
    lab.clock.advance(minutes=1)
    out = lab.aws("ecr describe-image-scan-findings --repository-name cli --image-id imageTag=v1")
    text = out if isinstance(out, str) else getattr(out, "stdout", str(out))
    assert "The scan was completed successfully." in text

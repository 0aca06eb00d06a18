"""The ECR scanning operations, as botocore's model and ECR's documentation describe them."""

from __future__ import annotations

from typing import Any

from ecrlab.ecr.model import ImageRecord, Repository
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import paginate
from ecrlab.errors import (
    ImageArchivedException,
    ImageNotFoundException,
    LimitExceededException,
    ScanNotFoundException,
    UnsupportedImageTypeException,
    ValidationException,
)
from ecrlab.scanning.inspector import enhanced_finding
from ecrlab.scanning.scanner import Finding
from ecrlab.scanning.service import (
    SCAN_QUOTA_PERIOD,
    STATUS_DESCRIPTIONS,
    repository_scanning,
    scan_status,
    scannable,
    service_for,
)

__all__ = ["STATUS_DESCRIPTIONS"]


def _image(call: Call, repo: Repository) -> ImageRecord:
    image_id = call.params["imageId"]
    digest, tag = image_id.get("imageDigest"), image_id.get("imageTag")
    found = repo.images.get(repo.image_tags.get(tag, "")) if tag else repo.images.get(digest or "")
    if found is None or (digest and tag and found.digest != digest):
        raise ImageNotFoundException(image_id, repo.name, repo.account)
    return found


def _image_id(call: Call, image: ImageRecord) -> dict[str, str]:
    out = {"imageDigest": image.digest}
    if call.params["imageId"].get("imageTag"):
        out["imageTag"] = call.params["imageId"]["imageTag"]
    return out


# Registry configuration ------------------------------------------------------------------------


@operation("PutRegistryScanningConfiguration", resource="*")
def put_registry_scanning_configuration(call: Call) -> dict[str, Any]:
    scan_type = call.params.get("scanType") or "BASIC"
    rules = call.params.get("rules") or []
    for rule in rules:
        if scan_type == "BASIC" and rule["scanFrequency"] != "SCAN_ON_PUSH":
            raise ValidationException(
                f"Invalid scan frequency {rule['scanFrequency']} for scan type BASIC. "
                "Only SCAN_ON_PUSH is supported with BASIC scanning; repositories that match no rule are scanned "
                "manually"
            )
        if not rule["repositoryFilters"]:
            raise ValidationException("Each scanning rule requires at least one repository filter")
    saved = {
        "scanType": scan_type,
        "rules": [
            {
                "scanFrequency": rule["scanFrequency"],
                "repositoryFilters": [
                    {"filter": f["filter"], "filterType": f["filterType"]} for f in rule["repositoryFilters"]
                ],
            }
            for rule in rules
        ],
    }
    call.registry.scanning_configuration = saved
    return {"registryScanningConfiguration": _copy(saved)}


def _copy(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "scanType": config.get("scanType", "BASIC"),
        "rules": [
            {"scanFrequency": r["scanFrequency"], "repositoryFilters": [dict(f) for f in r["repositoryFilters"]]}
            for r in config.get("rules") or []
        ],
    }


@operation("GetRegistryScanningConfiguration", resource="*")
def get_registry_scanning_configuration(call: Call) -> dict[str, Any]:
    return {"registryId": call.registry_id, "scanningConfiguration": _copy(call.registry.scanning_configuration)}


@operation("BatchGetRepositoryScanningConfiguration", resource="*")
def batch_get_repository_scanning_configuration(call: Call) -> dict[str, Any]:
    registry = call.registry
    configurations, failures = [], []
    for name in call.params["repositoryNames"]:
        repo = registry.repositories.get(name)
        if repo is None:
            failures.append(
                {
                    "repositoryName": name,
                    "failureCode": "REPOSITORY_NOT_FOUND",
                    "failureReason": "REPOSITORY_NOT_FOUND",
                }
            )
            continue
        setting = repository_scanning(registry, repo)
        configurations.append(
            {
                "repositoryArn": repo.arn,
                "repositoryName": repo.name,
                "scanOnPush": setting.scan_on_push,
                "scanFrequency": setting.frequency,
                "appliedScanFilters": [dict(f) for f in setting.applied_filters],
            }
        )
    return {"scanningConfigurations": configurations, "failures": failures}


# Scans -----------------------------------------------------------------------------------------


@operation("StartImageScan")
def start_image_scan(call: Call) -> dict[str, Any]:
    repo = call.repository()
    image = _image(call, repo)
    if not image.active:
        raise ImageArchivedException(image.digest, repo.name, repo.account)
    registry = call.registry
    if registry.scanning_configuration.get("scanType") == "ENHANCED":
        raise ValidationException(
            "This feature is disabled: manual scans are not supported when the registry uses ENHANCED scanning"
        )
    if not scannable(image.manifest):
        raise UnsupportedImageTypeException(
            f"The image with digest '{image.digest}' has media type '{image.media_type}', which is not a "
            "supported image type for scanning"
        )
    service = service_for(call.engine)
    key = (registry.account, registry.region, repo.name, image.digest)
    last = service.last_started.get(key)
    if last is not None and call.now() - last < SCAN_QUOTA_PERIOD:
        raise LimitExceededException("The scan quota per image has been exceeded. Wait and try again.")
    scan = service.start(registry, repo, image.digest, "BASIC", "MANUAL")
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageId": _image_id(call, image),
        "imageScanStatus": {"status": scan.status},
    }


@operation("DescribeImageScanFindings")
def describe_image_scan_findings(call: Call) -> dict[str, Any]:
    repo = call.repository()
    image = _image(call, repo)
    service = service_for(call.engine)
    scan = service.scans.get((repo.account, repo.region, repo.name, image.digest))
    if scan is None:
        shown = ", ".join(f"{k}={v}" for k, v in call.params["imageId"].items() if v)
        raise ScanNotFoundException(
            f"Image scan does not exist for the image with '{{{shown}}}' in the repository with name "
            f"'{repo.name}' in the registry with id '{repo.account}'"
        )
    out: dict[str, Any] = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageId": _image_id(call, image),
        "imageScanStatus": scan_status(scan, call.now()),
    }
    result = scan.result
    if result is None:
        return out
    findings: dict[str, Any] = {"imageScanCompletedAt": scan.completed_at, "findingSeverityCounts": result.counts}
    if result.source_updated_at is not None:
        findings["vulnerabilitySourceUpdatedAt"] = result.source_updated_at
    numbered = list(enumerate(result.findings))
    # Tokens carry a string key: the finding's position, zero-padded so it orders as the findings do.
    page, token = paginate(numbered, lambda item: f"{item[0]:08d}", call.params, 100)
    if scan.scan_type == "ENHANCED":
        findings["enhancedFindings"] = [enhanced_finding(repo, image, scan, i, f) for i, f in page]
    else:
        findings["findings"] = [_basic(f) for _, f in page]
    out["imageScanFindings"] = findings
    if token:
        out["nextToken"] = token
    return out


def _basic(finding: Finding) -> dict[str, Any]:
    attributes = [
        {"key": "package_version", "value": finding.package.version},
        {"key": "package_name", "value": finding.package.name},
    ]
    rating = finding.rating
    if rating.cvss3 is not None:
        attributes += [
            {"key": "CVSS3_VECTOR", "value": rating.cvss3[1]},
            {"key": "CVSS3_SCORE", "value": str(rating.cvss3[0])},
        ]
    if rating.cvss2 is not None:
        attributes += [
            {"key": "CVSS2_VECTOR", "value": rating.cvss2[1]},
            {"key": "CVSS2_SCORE", "value": str(rating.cvss2[0])},
        ]
    out: dict[str, Any] = {
        "name": finding.name,
        "uri": finding.advisory.uri,
        "severity": finding.severity,
        "attributes": attributes,
    }
    if finding.advisory.details:
        out["description"] = finding.advisory.details.strip()
    return out

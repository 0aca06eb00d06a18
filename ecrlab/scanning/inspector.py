"""Amazon Inspector's findings, shaped as ECR returns them (``enhancedFindings``) and Inspector sends them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrlab.ecr.model import Image, Repository
from ecrlab.scanning.scanner import Finding

if TYPE_CHECKING:
    from ecrlab.scanning.service import ImageScan

__all__ = ["enhanced_finding"]


def _v(vector: str) -> str:
    return vector.split("/")[0].removeprefix("CVSS:")


def _split_version(finding: Finding) -> tuple[str, str]:
    """(version, release) as Inspector reports them: apk/dpkg ``1.2.3-r4`` → (``1.2.3``, ``r4``)."""
    version = finding.package.version
    if finding.package.manager == "OS" and "-" in version:
        head, _, release = version.rpartition("-")
        return head, release
    return version, ""


def enhanced_finding(repo: Repository, image: Image, scan: ImageScan, index: int, finding: Finding) -> dict[str, Any]:
    """Finding ``index`` of ``scan`` in botocore's ``EnhancedImageScanFinding`` shape (Inspector's finding)."""
    version, release = _split_version(finding)
    rating = finding.rating
    package: dict[str, Any] = {
        "name": finding.package.name,
        "version": version,
        "release": release,
        "epoch": 0,
        "arch": finding.package.arch,
        "packageManager": finding.package.manager,
        "filePath": finding.package.file_path,
        "sourceLayerHash": finding.package.layer,
    }
    if finding.fixed_in:
        package["fixedInVersion"] = finding.fixed_in
        package["remediation"] = f"Upgrade {finding.package.name} to {finding.fixed_in} or later"
    cvss = []
    if rating.cvss3 is not None:
        score, vector, source = rating.cvss3
        cvss.append({"baseScore": score, "scoringVector": vector, "source": source.upper(), "version": _v(vector)})
    if rating.cvss2 is not None:
        score, vector, source = rating.cvss2
        cvss.append({"baseScore": score, "scoringVector": vector, "source": source.upper(), "version": "2.0"})
    details: dict[str, Any] = {
        "vulnerabilityId": finding.name,
        "source": "ALPINE_SEC_DB" if finding.package.ecosystem == "apk" and not finding.advisory.metrics else "OSV",
        "sourceUrl": finding.advisory.uri,
        "vulnerablePackages": [package],
        "cvss": cvss,
        "referenceUrls": [finding.advisory.uri],
        "relatedVulnerabilities": [a for a in finding.advisory.aliases if a != finding.name],
    }
    if rating.source.startswith("vendor"):
        details["vendorSeverity"] = rating.severity
    out: dict[str, Any] = {
        "awsAccountId": repo.account,
        "description": finding.advisory.details.strip() or finding.name,
        "findingArn": f"arn:aws:inspector2:{repo.region}:{repo.account}:finding/{scan.finding_ids[index]}",
        "firstObservedAt": scan.completed_at,
        "lastObservedAt": scan.completed_at,
        "updatedAt": scan.completed_at,
        "packageVulnerabilityDetails": details,
        "remediation": {
            "recommendation": {
                "text": package.get("remediation", "None Provided"),
            }
        },
        "resources": [
            {
                "id": f"arn:aws:ecr:{repo.region}:{repo.account}:repository/{repo.name}/{image.digest}",
                "type": "AWS_ECR_CONTAINER_IMAGE",
                "details": {
                    "awsEcrContainerImage": {
                        "registry": repo.account,
                        "repositoryName": repo.name,
                        "imageHash": image.digest,
                        "imageTags": list(image.tags),
                        "pushedAt": image.pushed_at,
                        "platform": scan.result.os.display if scan.result and scan.result.os else "",
                    }
                },
            }
        ],
        "severity": rating.severity,
        "status": "ACTIVE",
        "title": f"{finding.name} - {finding.package.name}",
        "type": "PACKAGE_VULNERABILITY",
        "fixAvailable": "YES" if finding.fixed_in else "NO",
    }
    if rating.cvss3 is not None:
        out["score"] = rating.cvss3[0]
        out["scoreDetails"] = {
            "cvss": {
                "score": rating.cvss3[0],
                "scoreSource": rating.cvss3[2].upper(),
                "scoringVector": rating.cvss3[1],
                "version": _v(rating.cvss3[1]),
                "adjustments": [],
            }
        }
    return out

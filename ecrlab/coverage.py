"""The ECR coverage table: every operation of botocore's ECR model and what the sandbox does with it.

``python -m ecrlab.coverage`` rewrites ``docs/ecr-coverage.md``; ``tests/ecr/test_coverage.py`` fails
when the committed table and the engine disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import botocore

import ecrlab.ecr
from ecrlab.ecr.params import service_model

__all__ = ["main", "render"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "ecr-coverage.md"


# Every deliberate difference from real ECR, in plain words: the doc is generated from this list.
DIFFERENCES = (
    (
        "Endpoints are on this machine: the API at `lab.endpoint_url` and every registry on `127.0.0.1:<port>` "
        "(one port per account and region), plain HTTP, not `https://<account>.dkr.ecr.<region>.amazonaws.com`. "
        "`repositoryUri` and `proxyEndpoint` still name the real ECR host, so lesson outputs read as in AWS."
    ),
    (
        "`GetDownloadUrlForLayer` returns a URL on the lab's own registry (`http://127.0.0.1:<port>/ecrlab-layers/...`) "
        "instead of a pre-signed S3 URL; it needs no credentials and stops working after one hour of lab time."
    ),
    (
        "Requests are not signature-checked: unsigned requests and credentials the lab did not issue act as the lab "
        'account\'s administrator (as in moto), so `boto3.client("ecr")` in a notebook works inside the sandbox. '
        "Real ECR rejects unsigned requests and unknown keys."
    ),
    (
        "Nothing the sandbox does is billed, and nothing waits: operations that take time in AWS "
        "(scans, replication, lifecycle expiry within 24 hours) happen on the lab clock."
    ),
    (
        "Image tags: the API accepts what ECR's API accepts (1-300 characters of `[a-zA-Z0-9-_.]`), so a 200-character "
        "tag or one starting with `.` or `-` can be put with `PutImage`, as in ECR. The registry (`/v2/`) speaks the OCI "
        "grammar, which allows at most 128 characters and no leading `.` or `-`: such a tag cannot be pushed or pulled "
        "by tag there (pull it by digest), which is also what an OCI client sees against real ECR."
    ),
    (
        "`SerializationException` messages for a request body of the wrong JSON types follow the wording of AWS's JSON "
        "front end (`NUMBER_VALUE can not be converted to a String`, `Start of list found where not expected`); bodies "
        "nested deeper than 64 levels or larger than 28 MiB are refused the same way."
    ),
    (
        "A restore from the archive (`UpdateImageStorageClass` to `STANDARD`) always takes exactly 20 minutes of lab "
        "time (ECR: 'up to 20 minutes'); nothing is charged for the archive's 90-day minimum storage duration."
    ),
    (
        "A restored image is published as a new push (`ImagePushed`, so scan on push, replication and the "
        "EventBridge 'ECR Image Action' PUSH event see it again), as the User Guide says restored images behave like "
        "newly pushed ones."
    ),
)

# What the evidence said where AWS's documentation does not settle a behaviour.
FINDINGS = (
    (
        "Pull-time update exclusions and IAM: the API reference and the Service Authorization Reference name the "
        "actions `ecr:RegisterPullTimeUpdateExclusion`, `ecr:DeregisterPullTimeUpdateExclusion` and "
        "`ecr:ListPullTimeUpdateExclusions`; the User Guide's 'Managing pull-time update exclusions' calls the first "
        "two `ecr:CreatePullTimeUpdateExclusion` and `ecr:DeletePullTimeUpdateExclusion` (and shows "
        "`create-pull-time-update-exclusion` / `--role-arn` CLI commands that the AWS CLI does not have). The sandbox's "
        "authorizer checks the Service Authorization Reference's names, the ones IAM policies are evaluated against. "
        "A role on the list covers every session of that role; the list belongs to a registry (account and region)."
    ),
    (
        "`lastRecordedPullTime`: the API reference says ECR refreshes it 'at least once every 24 hours', exact for a "
        "daily pull and not for an hourly one. The sandbox records a pull only when the recorded time is 24 hours old "
        "or more (or there is none), the coarsest refresh the wording allows; pulls by an excluded principal never "
        "record."
    ),
    (
        "Archived images: the User Guide documents a 404 for a pull. On the registry that is `MANIFEST_UNKNOWN` (also "
        "while a restore is `ACTIVATING`); `BatchGetImage` lists the image under `failures` with the code "
        "`ImageNotFound` and a reason that says it is archived. `BatchCheckLayerAvailability` reports `ARCHIVED` for a "
        "layer only archived images use, and `GetDownloadUrlForLayer` refuses it with `LayerInaccessibleException`."
    ),
    (
        "`UpdateImageStorageClass` answers `ImageStorageClassUpdateNotSupportedException` (the model names the code, "
        "not its cases) for archiving an image that is not `ACTIVE` or that an `ACTIVE` image index lists, and for "
        "restoring one that is not `ARCHIVED`. The messages of this code, `ImageArchivedException` (`StartImageScan` "
        "of an archived image) and the exclusion errors are the sandbox's own wording: ECR does not document them."
    ),
    (
        "Lifecycle archive rules, as 'Lifecycle policy properties' and 'Archiving an image' state them: `transition` "
        "needs `targetStorageClass: archive`; `storageClass: archive` goes with `sinceImageTransitioned` only, which "
        "may only `expire` and needs `countNumber` of at least 90 (the archive's minimum storage duration). Storage "
        "classes are evaluated apart (the `any`/`untagged` rules are per storage class, as ECR's messages say); an "
        "`ACTIVATING` image is in neither class. `sinceImagePulled` counts from the last recorded pull, or the last "
        "restore when there has been no pull since, or the push."
    ),
    (
        "`imageSizeInBytes`: the API reference says it is 'the size, in bytes, of the image in the repository' and, "
        "for a manifest list or index, 'the max size of all manifests in the list'; its note explains that ECR stores "
        "compressed layers. No documented output pairs a manifest with the size DescribeImages reports for it, so the "
        "sandbox keeps the reading shared by the SDK docs and the Docker note: the sum of the (compressed) layer sizes "
        "of the manifest (config and manifest bytes not counted), and for an index the largest of its manifests' sizes."
    ),
    (
        "Lifecycle and image indexes: `BatchDeleteImage` refuses to delete an image an index still lists "
        "(`ImageReferencedByManifestList`); lifecycle runs and previews follow the same rule, so an image an index lists "
        "is kept while that index stays, and may expire with the index in the same run."
    ),
    (
        "`PutLifecyclePolicy` answers with the policy as ECR stores it (compact JSON, rules in `rulePriority` order), "
        "the same text `GetLifecyclePolicy` returns."
    ),
    (
        "Account settings: `BASIC_SCAN_TYPE_VERSION` (`AWS_NATIVE` default, `CLAIR`), `REGISTRY_POLICY_SCOPE` (`V2` "
        "default, `V1`) and `BLOB_MOUNTING` (`DISABLED` default, `ENABLED`), as the model's documentation and the User "
        "Guide list them; any other name or value is `InvalidParameterException`."
    ),
)


def render() -> str:
    from ecrlab.lab import load_operations

    load_operations()
    model = service_model()
    names = sorted(model.operation_names)
    emulated = [n for n in names if n in ecrlab.ecr.OPERATIONS]
    lines = [
        "# ECR API coverage of the ecrlab sandbox",
        "",
        (
            "Generated by `python -m ecrlab.coverage` from botocore "
            f"{botocore.__version__}'s ECR model ({len(names)} operations); `tests/ecr/test_coverage.py` keeps it true."
        ),
        "",
        (
            f"**{len(emulated)} of {len(names)} operations are emulated** by ecrlab's own ECR engine, with real ECR's "
            "shapes, error codes and limits. Every other operation answers a client error (HTTP 400) with the code "
            "`NotEmulatedException` and a message naming the operation, in-process and through the server alike: "
            "never a 500, and nothing is changed."
        ),
        "",
        "| Operation | Status | IAM action checked | Notes |",
        "|---|---|---|---|",
    ]
    for name in names:
        op = ecrlab.ecr.OPERATIONS.get(name)
        if op is None:
            lines.append(f"| {name} | not emulated | ecr:{name} | answers `NotEmulatedException` |")
        else:
            lines.append(f"| {name} | emulated | {op.action} | {op.notes} |")
    lines += ["", "## Where the sandbox differs from real ECR on purpose", ""]
    lines += [f"- {difference}" for difference in DIFFERENCES]
    lines += ["", "## Findings behind choices the documentation leaves open", ""]
    lines += [f"- {finding}" for finding in FINDINGS]
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render())
    print(f"wrote {DOC.name}: {len(ecrlab.ecr.OPERATIONS)} operations emulated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""StartLifecyclePolicyPreview / GetLifecyclePolicyPreview: shapes, statuses, filter, pages, waiter."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.lifecycle.lifecycle_support import policy, rule

KEEP_ONE_UNTAGGED = policy(rule(1, "untagged", "imageCountMoreThan", 1))


def test_shapes_and_statuses(ecr, images):
    names = images(u1=([], 3), u2=([], 2), u3=([], 1), t=(["v1"], 9))
    started = ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    assert started["status"] == "IN_PROGRESS"
    assert started["lifecyclePolicyText"] == KEEP_ONE_UNTAGGED and started["registryId"] == "123456789012"
    got = ecr.get_lifecycle_policy_preview(repositoryName="app")
    assert got["status"] == "COMPLETE"
    assert got["summary"] == {"expiringImageTotalCount": 2}
    first = got["previewResults"][0]
    assert first == {
        "imageTags": [],
        "imageDigest": names["u1"].digest,
        "imagePushedAt": names["u1"].pushed_at,
        "action": {"type": "EXPIRE"},
        "appliedRulePriority": 1,
        "storageClass": "STANDARD",
    }


def test_waiter_completes(ecr, images):
    images(u1=([], 3), u2=([], 2))
    ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    ecr.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName="app", WaiterConfig={"Delay": 0, "MaxAttempts": 2}
    )


def test_second_start_before_the_first_is_read(ecr, images):
    images(u1=([], 3))
    ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    with pytest.raises(ClientError) as exc:
        ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    assert exc.value.response["Error"]["Code"] == "LifecyclePolicyPreviewInProgressException"
    ecr.get_lifecycle_policy_preview(repositoryName="app")
    assert (
        ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=KEEP_ONE_UNTAGGED)["status"]
        == "IN_PROGRESS"
    )


def test_saved_policy_is_previewed_when_no_text_given(ecr, images):
    images(u1=([], 3), u2=([], 2))
    with pytest.raises(ClientError) as exc:
        ecr.start_lifecycle_policy_preview(repositoryName="app")
    assert exc.value.response["Error"]["Code"] == "LifecyclePolicyNotFoundException"
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    ecr.start_lifecycle_policy_preview(repositoryName="app")
    got = ecr.get_lifecycle_policy_preview(repositoryName="app")
    assert got["summary"]["expiringImageTotalCount"] == 1
    assert got["lifecyclePolicyText"] == ecr.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"]


def test_no_preview_yet(ecr, repo):
    with pytest.raises(ClientError) as exc:
        ecr.get_lifecycle_policy_preview(repositoryName="app")
    assert exc.value.response["Error"]["Code"] == "LifecyclePolicyPreviewNotFoundException"


def test_bad_policy_is_refused_by_the_preview_too(ecr, repo):
    with pytest.raises(ClientError) as exc:
        ecr.start_lifecycle_policy_preview(
            repositoryName="app", lifecyclePolicyText=policy(rule(1, "tagged", "imageCountMoreThan", 1))
        )
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


def test_filter_image_ids_and_pages(ecr, images):
    spec = {f"u{i:02d}": ([], 100 - i) for i in range(12)}
    spec.update({f"t{i:02d}": ([f"v{i}"], 50 - i) for i in range(7)})
    names = images(**spec)
    text = policy(rule(1, "untagged", "imageCountMoreThan", 2), rule(2, "any", "imageCountMoreThan", 3))
    ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=text)
    everything = ecr.get_lifecycle_policy_preview(repositoryName="app")
    assert everything["summary"]["expiringImageTotalCount"] == len(everything["previewResults"]) == 10 + 4
    tagged = ecr.get_lifecycle_policy_preview(repositoryName="app", filter={"tagStatus": "TAGGED"})
    assert {r["imageTags"][0] for r in tagged["previewResults"]} == {"v0", "v1", "v2", "v3"}
    assert all(r["appliedRulePriority"] == 2 for r in tagged["previewResults"])
    untagged = ecr.get_lifecycle_policy_preview(repositoryName="app", filter={"tagStatus": "UNTAGGED"})
    assert len(untagged["previewResults"]) == 10
    by_id = ecr.get_lifecycle_policy_preview(
        repositoryName="app", imageIds=[{"imageTag": "v1"}, {"imageDigest": names["u00"].digest}]
    )
    assert {r["imageDigest"] for r in by_id["previewResults"]} == {names["t01"].digest, names["u00"].digest}
    page = ecr.get_lifecycle_policy_preview(repositoryName="app", maxResults=5)
    assert len(page["previewResults"]) == 5 and "nextToken" in page
    walked = [
        r["imageDigest"]
        for p in ecr.get_paginator("get_lifecycle_policy_preview").paginate(
            repositoryName="app", PaginationConfig={"PageSize": 4}
        )
        for r in p["previewResults"]
    ]
    assert walked == [r["imageDigest"] for r in everything["previewResults"]]
    pushed = [r["imagePushedAt"] for r in everything["previewResults"]]
    assert pushed == sorted(pushed)  # oldest first


def test_cli_preview(lab, images):
    import json
    import shlex

    images(u1=([], 3), u2=([], 2))
    lab.aws(
        "ecr start-lifecycle-policy-preview --repository-name app --lifecycle-policy-text "
        + shlex.quote(KEEP_ONE_UNTAGGED)
    )
    result = lab.aws("ecr get-lifecycle-policy-preview --repository-name app")
    assert result.ok, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "COMPLETE" and out["summary"] == {"expiringImageTotalCount": 1}


def test_bad_next_token(ecr, images):
    from ecrlab.ecr.params import encode_token

    images(u1=([], 3), u2=([], 2))
    ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=KEEP_ONE_UNTAGGED)
    for token in ("garbage", encode_token("app")):
        with pytest.raises(ClientError) as exc:
            ecr.get_lifecycle_policy_preview(repositoryName="app", nextToken=token)
        assert exc.value.response["Error"]["Code"] == "InvalidParameterException"

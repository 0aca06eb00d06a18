"""Lifecycle policy operations: Put/Get/DeleteLifecyclePolicy, Start/GetLifecyclePolicyPreview; the
pull-time update exclusions that ``sinceImagePulled`` depends on register from :mod:`ecrlab.lifecycle.exclusions`.

They register in the engine's operation table (:mod:`ecrlab.ecr.operations`) when the lab loads its
features; the engine itself never imports this package. The rules live beside them in
:mod:`ecrlab.lifecycle`; these handlers only read and write the repository's state and shape the answers
as botocore's model has them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ecrlab.ecr.events import PolicyChanged
from ecrlab.ecr.model import Repository
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import decode_token, encode_token, invalid_token
from ecrlab.errors import (
    LifecyclePolicyNotFoundException,
    LifecyclePolicyPreviewInProgressException,
    LifecyclePolicyPreviewNotFoundException,
)
from ecrlab.lifecycle import exclusions  # noqa: F401  (registers the pull-time update exclusion operations)
from ecrlab.lifecycle.evaluation import bulk_allocation, evaluate_lifecycle_policy
from ecrlab.lifecycle.policy import canonical_text, parse_lifecycle_policy
from ecrlab.lifecycle.preview import preview_of, result_shape, start_preview

__all__: list[str] = []

# A policy never evaluated reports the epoch, as ECR's CloudTrail records show ("lastEvaluatedAt": 0).
_NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _saved_policy(repo: Repository) -> str:
    if repo.lifecycle_policy_text is None:
        raise LifecyclePolicyNotFoundException(repo.name, repo.account)
    return repo.lifecycle_policy_text


def _policy_answer(repo: Repository) -> dict[str, Any]:
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "lifecyclePolicyText": _saved_policy(repo),
        "lastEvaluatedAt": repo.lifecycle_evaluated_at or _NEVER,
    }


def _position(token: str) -> int:
    after = decode_token(token)
    if not after.isdigit():
        raise invalid_token()
    return int(after)


@operation(
    "PutLifecyclePolicy",
    notes="every documented rule checked, archive transitions included; runs daily on the lab clock",
)
def put_lifecycle_policy(call: Call) -> dict[str, Any]:
    repo = call.repository()
    text = call.params["lifecyclePolicyText"]
    policy = parse_lifecycle_policy(text)
    repo.lifecycle_policy_id = call.engine.new_id()
    repo.lifecycle_policy_version += 1
    repo.lifecycle_policy_text = canonical_text(policy)
    repo.lifecycle_evaluated_at = None
    call.emit(
        PolicyChanged(
            repo.account, repo.region, call.now(), "lifecycle", repo.name, repo.lifecycle_policy_text, call.principal
        )
    )
    # ECR answers with the text as it stored it (compact, rules in priority order), as Get does.
    return {"registryId": repo.account, "repositoryName": repo.name, "lifecyclePolicyText": repo.lifecycle_policy_text}


@operation("GetLifecyclePolicy", notes="rules in priority order; lastEvaluatedAt from the last run")
def get_lifecycle_policy(call: Call) -> dict[str, Any]:
    return _policy_answer(call.repository())


@operation("DeleteLifecyclePolicy", notes="returns the deleted policy")
def delete_lifecycle_policy(call: Call) -> dict[str, Any]:
    repo = call.repository()
    out = _policy_answer(repo)
    repo.lifecycle_policy_text = None
    repo.lifecycle_evaluated_at = None
    call.emit(PolicyChanged(repo.account, repo.region, call.now(), "lifecycle", repo.name, None, call.principal))
    return out


@operation("StartLifecyclePolicyPreview", notes="same evaluator as the daily run; IN_PROGRESS until first read")
def start_lifecycle_policy_preview(call: Call) -> dict[str, Any]:
    repo = call.repository()
    text = call.params.get("lifecyclePolicyText") or _saved_policy(repo)
    current = preview_of(repo)
    if current is not None and current.status == "IN_PROGRESS":
        raise LifecyclePolicyPreviewInProgressException()
    policy = parse_lifecycle_policy(text)
    with bulk_allocation():
        preview = start_preview(
            repo, text, evaluate_lifecycle_policy(policy, list(repo.images.values()), call.engine.clock.stamp())
        )
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "lifecyclePolicyText": text,
        "status": preview.status,
    }


@operation("GetLifecyclePolicyPreview", notes="filter, imageIds, pages, summary; waiter works")
def get_lifecycle_policy_preview(call: Call) -> dict[str, Any]:
    repo = call.repository()
    preview = preview_of(repo)
    if preview is None:
        raise LifecyclePolicyPreviewNotFoundException(repo.name, repo.account)
    preview.status = "COMPLETE"
    p = call.params
    results = preview.select((p.get("filter") or {}).get("tagStatus"), p.get("imageIds"))
    # The results are a fixed snapshot, so a token can name a position in them: each page is a
    # slice, not a scan (a preview can hold 100,000 images).
    start = _position(p["nextToken"]) + 1 if p.get("nextToken") else 0
    size = p.get("maxResults") or 100
    page = results[start : start + size]
    token = encode_token(str(start + size - 1)) if start + size < len(results) else None
    out: dict[str, Any] = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "lifecyclePolicyText": preview.policy_text,
        "status": preview.status,
        "previewResults": [result_shape(result) for result in page],
        "summary": preview.summary(),
    }
    if token:
        out["nextToken"] = token
    return out

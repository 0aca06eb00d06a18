"""Lifecycle policy previews: what a policy would expire, kept per repository as ECR keeps it.

``StartLifecyclePolicyPreview`` evaluates the policy at the moment it is started, with the same
evaluator the daily run uses, so a preview and the run that follows (with nothing pushed, pulled or
deleted in between) expire the same images. Real ECR computes a preview in the background; the lab
finishes it at once but reports it ``IN_PROGRESS`` until it is first read, so a second start before
anyone looked is refused with ``LifecyclePolicyPreviewInProgressException`` as in ECR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecrlab.lifecycle.evaluation import Evaluation

if TYPE_CHECKING:
    from ecrlab.ecr.model import Repository

__all__ = ["Preview", "preview_of", "result_shape", "start_preview"]


# One image the preview would expire or archive, as it was when the preview started: (tags, digest,
# pushed_at, rulePriority, transitions, storage class it is in). Plain tuples: a preview can hold 100,000.
_Result = tuple[tuple[str, ...], str, datetime, int, bool, str]


def result_shape(result: _Result) -> dict[str, Any]:
    """A result as GetLifecyclePolicyPreview lists it (``storageClass`` is where the image is now)."""
    tags, digest, pushed_at, priority, transitions, storage = result
    return {
        "imageTags": list(tags),
        "imageDigest": digest,
        "imagePushedAt": pushed_at,
        "action": {"type": "TRANSITION", "targetStorageClass": "ARCHIVE"} if transitions else {"type": "EXPIRE"},
        "appliedRulePriority": priority,
        "storageClass": storage,
    }


@dataclass
class Preview:
    """One repository's latest preview."""

    policy_text: str
    started_at: datetime
    results: list[_Result] = field(default_factory=list)  # oldest first, as they would expire
    status: str = "IN_PROGRESS"

    def summary(self) -> dict[str, Any]:
        # transitioningImageTotalCounts appears only when some image would be archived (the model says so).
        archiving = sum(1 for r in self.results if r[4])
        out: dict[str, Any] = {"expiringImageTotalCount": len(self.results) - archiving}
        if archiving:
            out["transitioningImageTotalCounts"] = [{"targetStorageClass": "ARCHIVE", "imageTotalCount": archiving}]
        return out

    def select(self, tag_status: str | None, image_ids: list[dict[str, str]] | None) -> list[_Result]:
        """The results matching GetLifecyclePolicyPreview's ``filter`` and ``imageIds``."""
        out = self.results
        if tag_status == "TAGGED":
            out = [r for r in out if r[0]]
        elif tag_status == "UNTAGGED":
            out = [r for r in out if not r[0]]
        if image_ids:
            digests = {i["imageDigest"] for i in image_ids if i.get("imageDigest")}
            tags = {i["imageTag"] for i in image_ids if i.get("imageTag")}
            out = [r for r in out if r[1] in digests or tags.intersection(r[0])]
        return out


def start_preview(repo: Repository, text: str, evaluation: Evaluation) -> Preview:
    # One pass, oldest first as ECR expires them (a preview can hold 100,000 results).
    images, expired = evaluation.images, evaluation.expired
    transitions = {r.priority for r in evaluation.policy.rules if r.transitions}
    results: list[_Result] = []
    for i in sorted(expired, reverse=True):
        image = images[i]
        storage = "ARCHIVE" if image.status == "ARCHIVED" else "STANDARD"
        results.append(
            (tuple(image.tags), image.digest, image.pushed_at, expired[i], expired[i] in transitions, storage)
        )
    preview = Preview(text, evaluation.at, results)
    repo.lifecycle_preview = preview
    return preview


def preview_of(repo: Repository) -> Preview | None:
    return repo.lifecycle_preview

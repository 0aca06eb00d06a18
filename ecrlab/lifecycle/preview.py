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

__all__ = ["Preview", "preview_of", "start_preview"]

_KEY = "lifecycle_preview"


@dataclass(frozen=True)
class _Result:
    """One image the preview would expire, as it was when the preview started."""

    tags: tuple[str, ...]
    digest: str
    pushed_at: datetime
    priority: int

    def as_api(self) -> dict[str, Any]:
        return {
            "imageTags": list(self.tags),
            "imageDigest": self.digest,
            "imagePushedAt": self.pushed_at,
            "action": {"type": "EXPIRE"},
            "appliedRulePriority": self.priority,
            "storageClass": "STANDARD",
        }


@dataclass
class Preview:
    """One repository's latest preview."""

    policy_text: str
    started_at: datetime
    results: list[_Result] = field(default_factory=list)  # oldest first, as they would expire
    status: str = "IN_PROGRESS"

    def summary(self) -> dict[str, int]:
        return {"expiringImageTotalCount": len(self.results)}

    def select(self, tag_status: str | None, image_ids: list[dict[str, str]] | None) -> list[_Result]:
        """The results matching GetLifecyclePolicyPreview's ``filter`` and ``imageIds``."""
        out = self.results
        if tag_status == "TAGGED":
            out = [r for r in out if r.tags]
        elif tag_status == "UNTAGGED":
            out = [r for r in out if not r.tags]
        if image_ids:
            digests = {i["imageDigest"] for i in image_ids if i.get("imageDigest")}
            tags = {i["imageTag"] for i in image_ids if i.get("imageTag")}
            out = [r for r in out if r.digest in digests or tags.intersection(r.tags)]
        return out


def start_preview(repo: Repository, text: str, evaluation: Evaluation) -> Preview:
    results = [_Result(tuple(image.tags), image.digest, image.pushed_at, p) for image, p in evaluation.expired_images()]
    preview = Preview(text, evaluation.at, results)
    repo.extra[_KEY] = preview
    return preview


def preview_of(repo: Repository) -> Preview | None:
    return repo.extra.get(_KEY)

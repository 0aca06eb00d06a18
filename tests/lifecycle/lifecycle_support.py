"""Helpers for the lifecycle tests: images put straight into a repository's state, policy texts, previews."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from ecrlab.ecr.model import Image, Repository

MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"


def make_image(
    name: str, tags: Sequence[str], pushed_at: datetime, sequence: int = 0, pulled_at: datetime | None = None
) -> Image:
    """An image whose manifest (and so digest) is unique to ``name``."""
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_TYPE, "annotations": {"name": name}}).encode()
    return Image(
        digest="sha256:" + hashlib.sha256(manifest).hexdigest(),
        manifest=manifest,
        media_type=MEDIA_TYPE,
        pushed_at=pushed_at,
        size=len(manifest),
        tags=list(tags),
        last_pulled_at=pulled_at,
        sequence=sequence,
    )


def add_image(repo: Repository, image: Image) -> Image:
    repo.images[image.digest] = image
    for tag in image.tags:
        repo.image_tags[tag] = image.digest
    return image


def policy(*rules: dict) -> str:
    """Lifecycle policy text from rules written as dicts (padded to ECR's 100-character minimum if need be)."""
    return json.dumps({"rules": list(rules)}, indent=2)


def rule(priority: int, tag_status: str, count_type: str, count: int, **selection) -> dict:
    sel = {"tagStatus": tag_status, **selection, "countType": count_type, "countNumber": count}
    if count_type != "imageCountMoreThan" and "countUnit" not in selection:
        sel["countUnit"] = "days"
    return {"rulePriority": priority, "description": f"rule {priority}", "selection": sel, "action": {"type": "expire"}}


def preview(ecr, text: str | None = None, **kwargs) -> dict:
    """Start a preview and return its full result (all pages)."""
    args = {"repositoryName": "app"}
    if text is not None:
        args["lifecyclePolicyText"] = text
    ecr.start_lifecycle_policy_preview(**args)
    pages = ecr.get_paginator("get_lifecycle_policy_preview").paginate(repositoryName="app", **kwargs)
    return pages.build_full_result()

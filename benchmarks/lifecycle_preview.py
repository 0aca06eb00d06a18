"""Lifecycle preview over 100,000 images with 10 rules (aim: under 0.5 s).

Run: ``python benchmarks/lifecycle_preview.py [--images N]``. Prints the time to evaluate the policy
(the work StartLifecyclePolicyPreview does) and the time of the whole API round trip through boto3
(Start + every page of GetLifecyclePolicyPreview). There is no peer to compare with: moto stores
lifecycle policies but never evaluates them and has no preview operations.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import time
from datetime import timedelta

import ecrlab
from ecrlab.ecr.model import Image
from ecrlab.lifecycle import evaluate_lifecycle_policy, parse_lifecycle_policy

RULES = [
    {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
    {"tagStatus": "tagged", "tagPrefixList": ["release-"], "countType": "imageCountMoreThan", "countNumber": 50},
    {"tagStatus": "tagged", "tagPatternList": ["prod-*-eu"], "countType": "imageCountMoreThan", "countNumber": 20},
    {
        "tagStatus": "tagged",
        "tagPatternList": ["prod-*"],
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 180,
    },
    {
        "tagStatus": "tagged",
        "tagPrefixList": ["feature-", "ci-"],
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 14,
    },
    {"tagStatus": "tagged", "tagPatternList": ["*-rc*"], "countType": "imageCountMoreThan", "countNumber": 10},
    {
        "tagStatus": "tagged",
        "tagPrefixList": ["ci-"],
        "countType": "sinceImagePulled",
        "countUnit": "days",
        "countNumber": 30,
    },
    {"tagStatus": "tagged", "tagPatternList": ["v*.*.*"], "countType": "imageCountMoreThan", "countNumber": 100},
    {"tagStatus": "tagged", "tagPrefixList": ["dev"], "countType": "imageCountMoreThan", "countNumber": 5},
    {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20000},
]
TEXT = json.dumps(
    {"rules": [{"rulePriority": i + 1, "selection": s, "action": {"type": "expire"}} for i, s in enumerate(RULES)]}
)


def fill(repo, count: int, now) -> None:
    rnd = random.Random(7)
    kinds = [
        lambda n: [],
        lambda n: [f"release-{n}"],
        lambda n: [f"prod-{n}-eu", f"v1.{n % 50}.{n}"],
        lambda n: [f"prod-{n}-us"],
        lambda n: [f"feature-{n}", f"ci-{n}"],
        lambda n: [f"v2.{n}-rc{n % 3}"],
        lambda n: [f"ci-{n}"],
        lambda n: [f"dev{n}"],
    ]
    for n in range(count):
        manifest = f'{{"n":{n}}}'.encode()
        tags = rnd.choice(kinds)(n)
        pushed = now - timedelta(minutes=rnd.randrange(0, 400 * 24 * 60))
        pulled = pushed + timedelta(days=rnd.randrange(0, 30)) if rnd.random() < 0.5 else None
        image = Image(
            "sha256:" + hashlib.sha256(manifest).hexdigest(),
            manifest,
            "application/vnd.oci.image.manifest.v1+json",
            pushed,
            1,
            tags,
            last_pulled_at=pulled,
            sequence=n,
        )
        repo.images[image.digest] = image
        for tag in tags:
            repo.image_tags[tag] = image.digest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with ecrlab.start(deterministic=True) as lab:
        ecr = lab.client("ecr")
        ecr.create_repository(repositoryName="bench")
        repo = lab.engine.repository(lab.account_id, lab.region, "bench")
        fill(repo, args.images, lab.clock.now())
        policy = parse_lifecycle_policy(TEXT)
        images = list(repo.images.values())
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = evaluate_lifecycle_policy(policy, images, lab.clock.now())
            times.append(time.perf_counter() - start)
        print(f"images: {len(images):,}  rules: {len(policy.rules)}  expiring: {len(result.expired):,}")
        print(
            f"evaluate (preview engine): median {statistics.median(times):.3f} s, best {min(times):.3f} s over {args.repeat} runs"
        )
        start = time.perf_counter()
        ecr.start_lifecycle_policy_preview(repositoryName="bench", lifecyclePolicyText=TEXT)
        started = time.perf_counter() - start
        pages = ecr.get_paginator("get_lifecycle_policy_preview").paginate(repositoryName="bench")
        listed = sum(len(p["previewResults"]) for p in pages)
        total = time.perf_counter() - start
        print(
            f"StartLifecyclePolicyPreview via boto3: {started:.3f} s; + reading all {listed:,} results in pages of 100: {total:.3f} s"
        )


if __name__ == "__main__":
    main()

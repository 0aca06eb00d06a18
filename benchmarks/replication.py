"""Pushes replicated to 3 destinations, side by side with the same pushes and no replication.

Run: ``python benchmarks/replication.py [--pushes N] [--repeat N]``. Each run starts a deterministic lab and
pushes N images (two layers each, one of them shared, as builds of one service share their base) through the
registry's HTTP data plane:

- *no replication*: the pushes alone;
- *3 destinations*: the same pushes with a configuration sending them to us-west-2 and eu-west-1 of the same
  account and to a second account of the lab (whose registry policy allows it); the lab clock is then
  moved past the replication delay, and the time is taken when every destination of every push is COMPLETE
  (copies run on the lab clock: moving it runs them all, so this measures the copying work itself).

moto, the only in-process peer, copies nothing on replication (its PutReplicationConfiguration stores the
configuration and no image ever arrives), so there is no peer to run beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import ecrlab
from ecrlab import images
from ecrlab.images import RegistryClient
from ecrlab.replication import replication_statuses

PARTNER = "210987654321"


def _images(count: int) -> list[images.Image]:
    base = images.base_image("alpine:3.20.3")
    return [
        images.ImageBuilder(base).copy_bytes(f"build {n}\n".encode() * 64, "/app/BUILD").build() for n in range(count)
    ]


def run(builds: list[images.Image], replicate: bool) -> tuple[float, float]:
    """(seconds pushing, seconds until every copy is COMPLETE: 0 without replication)."""
    with ecrlab.start(deterministic=True) as lab:
        ecr = lab.client("ecr")
        ecr.create_repository(repositoryName="bench/app")
        if replicate:
            partner = lab.account(PARTNER).client("ecr")
            partner.put_registry_policy(
                policyText=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{lab.account_id}:root"},
                                "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
                                "Resource": "*",
                            }
                        ],
                    }
                )
            )
            destinations = [("us-west-2", lab.account_id), ("eu-west-1", lab.account_id), (lab.region, PARTNER)]
            ecr.put_replication_configuration(
                replicationConfiguration={
                    "rules": [{"destinations": [{"region": r, "registryId": a} for r, a in destinations]}]
                }
            )
        started = time.perf_counter()
        with RegistryClient.for_lab(lab) as client:
            for n, build in enumerate(builds):
                client.push(build, "bench/app", f"b{n}")
        pushed = time.perf_counter()
        if not replicate:
            return pushed - started, 0.0
        lab.clock.advance(minutes=5)
        for build in builds:
            statuses = replication_statuses(lab.engine, lab.account_id, lab.region, "bench/app", build.digest)
            assert [s.status for s in statuses] == ["COMPLETE"] * 3, statuses
        done = time.perf_counter()
        assert lab.engine.events.failures == []
        return pushed - started, done - pushed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    builds = _images(args.pushes)
    plain, pushing, copying = [], [], []
    for _ in range(args.repeat):
        plain.append(run(builds, replicate=False)[0])
        push_time, copy_time = run(builds, replicate=True)
        pushing.append(push_time)
        copying.append(copy_time)
    print(f"{args.pushes} pushes, median of {args.repeat} runs")
    print(f"  no replication:              pushes {statistics.median(plain):.2f} s")
    print(
        f"  3 destinations:              pushes {statistics.median(pushing):.2f} s, "
        f"then all COMPLETE after {statistics.median(copying):.2f} s more "
        f"(total {statistics.median(p + c for p, c in zip(pushing, copying)):.2f} s)"
    )


if __name__ == "__main__":
    main()

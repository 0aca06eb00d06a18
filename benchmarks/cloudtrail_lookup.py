"""CloudTrail LookupEvents over 100,000 records of real ECR calls.

The trail is filled by the engine itself: 100 ``CreateRepository`` calls, then ``DescribeRepositories`` of one
repository at a time (every tenth call by an IAM user, the rest by the administrator), each recorded by the trail
like any call; ``LookupEvents`` is then timed through boto3 (in-process moto transport), as a notebook calls it:

- the newest page (50 records, no filter);
- a filter on ``EventName`` that matches only the oldest 100 records (the whole history is scanned);
- a filter on ``Username`` matching one record in ten, every page of a time window of 500 records;
- a ``ResourceName`` filter, first page.

Run: ``python benchmarks/cloudtrail_lookup.py`` (``--records N``, ``--repeat N``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import ecrlab
from ecrlab.ecr.model import Principal

ACCOUNT = "123456789012"


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, max) seconds of ``repeat`` runs of ``fn``."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), max(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with ecrlab.start(deterministic=True) as lab:
        iam = lab.client("iam")
        iam.create_user(UserName="reader")
        iam.attach_user_policy(
            UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
        )
        reader = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/reader", account=ACCOUNT, kind="user", name="reader")
        start = time.perf_counter()
        for n in range(100):
            lab.engine.call("CreateRepository", {"repositoryName": f"team/app{n}"}, lab.admin, lab.region)
        for n in range(args.records - 100):
            who = reader if n % 10 == 0 else lab.admin
            lab.engine.call("DescribeRepositories", {"repositoryNames": [f"team/app{n % 100}"]}, who, lab.region)
            if n % 1000 == 0:
                lab.clock.advance(seconds=1)  # deterministic mode stamps calls with a still clock otherwise
        filled = time.perf_counter() - start
        assert len(lab.trail.records) == args.records
        cloudtrail = lab.client("cloudtrail")
        by = lambda key, value: [{"AttributeKey": key, "AttributeValue": value}]
        window_end = lab.trail.records[5_000]["eventTime"]
        window_start = window_end  # one second of lab time: the clock stands still between advances
        cases: list[tuple[str, Callable[[], object]]] = [
            ("newest page, no filter", lambda: cloudtrail.lookup_events()),
            (
                "EventName=CreateRepository (the oldest 100 records), first page",
                lambda: cloudtrail.lookup_events(LookupAttributes=by("EventName", "CreateRepository")),
            ),
            (
                "Username=reader in one second of lab time, every page",
                lambda: list(
                    cloudtrail.get_paginator("lookup_events").paginate(
                        LookupAttributes=by("Username", "reader"), StartTime=window_start, EndTime=window_end
                    )
                ),
            ),
            (
                "ResourceName=team/app7, first page",
                lambda: cloudtrail.lookup_events(LookupAttributes=by("ResourceName", "team/app7")),
            ),
        ]
        print(f"{args.records:,} records recorded in {filled:.1f} s ({args.records / filled:,.0f} calls/s)")
        for label, fn in cases:
            median, worst = timed(fn, args.repeat)
            print(f"{label}: median {median * 1000:.1f} ms, max {worst * 1000:.1f} ms")


if __name__ == "__main__":
    main()

"""Policy decisions per second, at three depths, in one run:

1. ``evaluate()`` alone: a request against parsed identity and repository policies (the engine's core);
2. ``authorizer.decide()``: the same, plus reading the principal's policies and tags from moto's IAM and the
   repository policy from the ECR engine (what every request pays);
3. a whole request: ``ListImages`` through boto3 (in-process moto transport) as an IAM user, decided and run.

Run: ``python benchmarks/policy_decisions.py`` (``--seconds N`` per measurement, default 2).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import ecrlab
from ecrlab.access.evaluation import IDENTITY, RESOURCE, Policy, Request, evaluate
from ecrlab.access.identities import principal_for_arn

ACCOUNT = "123456789012"
REPO = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/app"


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, int]:
    fn()  # warm caches
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        n += 50
    return n / elapsed, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    identity = [
        Policy.from_text(
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:ListImages"],
                            "Resource": "*",
                        },
                        {
                            "Effect": "Deny",
                            "Action": "ecr:Delete*",
                            "Resource": "*",
                            "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "ops"}},
                        },
                    ],
                }
            ),
            "reader",
            IDENTITY,
        )
    ]
    resource = [
        Policy.from_text(
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                            "Action": ["ecr:BatchGetImage"],
                        },
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "ecr:PutImage",
                            "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ci-*"}},
                        },
                    ],
                }
            ),
            "repo",
            RESOURCE,
        )
    ]
    request = Request(
        f"arn:aws:iam::{ACCOUNT}:user/reader",
        ACCOUNT,
        "ecr:ListImages",
        REPO,
        ACCOUNT,
        {"aws:principaltag/team": "dev", "aws:sourceip": "10.0.0.1"},
    )
    results = [("evaluate() on parsed policies", *rate(lambda: evaluate(request, identity, resource), args.seconds))]

    with ecrlab.start(deterministic=True) as lab:
        ecr, iam = lab.client("ecr"), lab.client("iam")
        ecr.create_repository(repositoryName="team/app")
        ecr.set_repository_policy(
            repositoryName="team/app",
            policyText=json.dumps({"Version": "2012-10-17", "Statement": [dict(s) for s in resource[0].statements]}),
        )
        iam.create_user(UserName="reader")
        iam.attach_user_policy(
            UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
        )
        iam.put_user_policy(UserName="reader", PolicyName="extra", PolicyDocument=json.dumps(identity[0].document))
        principal = principal_for_arn(f"arn:aws:iam::{ACCOUNT}:user/reader")
        decide = lab.engine.authorizer.decide
        results.append(
            (
                "authorizer.decide() with IAM lookups",
                *rate(lambda: decide(principal, "ecr:ListImages", REPO, region=lab.region), args.seconds),
            )
        )
        client = lab.session(user="reader").client("ecr")
        results.append(
            (
                "ListImages through boto3, decided and run",
                *rate(lambda: client.list_images(repositoryName="team/app"), args.seconds),
            )
        )

    print(f"{'what':<44} {'decisions/s':>12} {'count':>8}")
    for name, per_second, n in results:
        print(f"{name:<44} {per_second:>12,.0f} {n:>8}")


if __name__ == "__main__":
    main()

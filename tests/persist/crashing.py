"""A lab with a data directory that kills itself (SIGKILL) in the middle of a lifecycle run or a replication
copy, for tests/persist/test_crash.py: ``python crashing.py DIR lifecycle|replication``.

It prints each pushed image as ``PUSHED <tag> <digest>`` once the push was answered, then ``ARMED`` before
starting the work it dies in; an exit status of -9 (killed) is what the test expects of it."""

from __future__ import annotations

import json
import os
import signal
import sys

import ecrlab
from ecrlab.images import ImageBuilder, RegistryClient

IMAGES = 6  # the lifecycle policy keeps 2 of them


def _die_after(module: object, name: str, calls: int) -> None:
    """Make ``module.name`` kill the process, uncleanly, once it has run ``calls`` times."""
    original = getattr(module, name)
    count = 0

    def dying(*args: object, **kwargs: object) -> object:
        nonlocal count
        result = original(*args, **kwargs)
        count += 1
        if count >= calls:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(module, name, dying)


def main(data_dir: str, scenario: str) -> None:
    lab = ecrlab.start(deterministic=True, data_dir=data_dir)
    ecr = lab.client("ecr")
    ecr.create_repository(repositoryName="app")
    if scenario == "replication":
        ecr.put_replication_configuration(
            replicationConfiguration={
                "rules": [{"destinations": [{"region": "us-west-2", "registryId": lab.account_id}]}]
            }
        )
    with RegistryClient.for_lab(lab) as registry:
        for n in range(IMAGES if scenario == "lifecycle" else 1):
            image = ImageBuilder().copy_bytes(f"image {n}\n".encode() * 1000, f"/n{n}.txt").build()
            registry.push(image, "app", f"v{n}")
            print("PUSHED", f"v{n}", image.digest, flush=True)
    if scenario == "lifecycle":
        rule = {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2}
        policy = {"rules": [{"rulePriority": 1, "selection": rule, "action": {"type": "expire"}}]}
        ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=json.dumps(policy))
        from ecrlab.lifecycle import execution

        _die_after(execution, "delete_image", 2)  # two of the four expiries done, in memory
        print("ARMED", flush=True)
        lab.clock.advance(days=1)  # the daily run at midnight
    else:
        from ecrlab.replication import copier

        # The image and its blobs are in the destination, in memory; the copy has not finished.
        _die_after(copier, "_copy", 1)
        print("ARMED", flush=True)
        lab.clock.advance(minutes=5)  # the copy is due 30 seconds after the push
    print("SURVIVED", flush=True)  # the test fails on this: the process was to die above


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

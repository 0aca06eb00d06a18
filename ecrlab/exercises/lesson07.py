"""Exercises for notebooks/07-replication.ipynb: configure replication, open a partner account to it,
watch a push arrive, and say what is (not) replicated.

The checks read the lab as a learner would: DescribeRegistry, the partner account's registry policy (judged
by the policy engine, not by its text), DescribeImageReplicationStatus and the destinations' images.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.exercises.core import Incorrect, NotAttempted, Problem
from ecrlab.exercises.reset import reset_lab

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["PARTNER", "REPLICATED_OR_NOT", "q1", "q2", "q3", "q4", "reset", "setup"]

#: The partner account of exercise 2: another account of the same lab.
PARTNER = "210987654321"
#: The things exercise 4 asks about.
REPLICATED_OR_NOT = (
    "a new image pushed",
    "a tag put on an image already pushed",
    "an image deleted",
    "a repository policy",
    "a lifecycle policy",
    "an image pushed before the configuration existed",
)
_REPLICATED = {"a new image pushed", "a tag put on an image already pushed"}


def setup(lab: Lab) -> str:
    """The exercises' starting point: repositories `prod/web` and `dev/web`, no replication configuration and
    no partner registry policy yet (what the lesson configured is cleared, so the checks see your work).
    Returns what it did, for the notebook to show."""
    ecr = lab.client("ecr")
    ecr.put_replication_configuration(replicationConfiguration={"rules": []})
    _delete_registry_policy(lab.account(PARTNER).client("ecr"))
    have = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
    for name in ("prod/web", "dev/web"):
        if name not in have:
            ecr.create_repository(repositoryName=name)
    return (
        "exercise set-up: prod/web and dev/web exist; no replication configuration; "
        f"no registry policy in account {PARTNER}"
    )


def _delete_registry_policy(ecr: Any) -> None:
    try:
        ecr.delete_registry_policy()
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "RegistryPolicyNotFoundException":
            raise


def reset(lab: Lab) -> str:
    """Start lesson 07 over (see :mod:`ecrlab.exercises.reset`): besides what every lesson resets, the
    replication configuration, creation templates and replicas in the other regions this lesson used."""
    faces = [lab, *lab.accounts]
    for face in faces:
        for region in _REGIONS:
            ecr = face.client("ecr", region_name=region)
            ecr.put_replication_configuration(replicationConfiguration={"rules": []})
            for template in ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]:
                ecr.delete_repository_creation_template(prefix=template["prefix"])
            if region != lab.region:
                for page in ecr.get_paginator("describe_repositories").paginate():
                    for repo in page["repositories"]:
                        ecr.delete_repository(repositoryName=repo["repositoryName"], force=True)
                _delete_registry_policy(ecr)
    return reset_lab(lab)


#: The regions lesson 07 replicates between.
_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


def _destinations(lab: Lab, repository: str) -> set[tuple[str, str]]:
    rules = lab.client("ecr").describe_registry()["replicationConfiguration"]["rules"]
    out = set()
    for rule in rules:
        filters = rule.get("repositoryFilters") or []
        if not filters or any(repository.startswith(f["filter"]) for f in filters):
            out |= {(d["registryId"], d["region"]) for d in rule["destinations"]}
    return out


class SameAccount(Problem):
    title = (
        "Replicate every repository whose name starts with `prod` to us-west-2 in your own account (and nothing else)."
    )
    hints = (
        (
            "The API is `PutReplicationConfiguration` (`aws ecr put-replication-configuration`); there is no "
            "`create-replication-configuration` in ECR."
        ),
        (
            "One rule: `destinations` [{region: us-west-2, registryId: lab.account_id}] and `repositoryFilters` "
            "[{filter: 'prod', filterType: 'PREFIX_MATCH'}]."
        ),
    )
    solution_text = "One rule, one destination, one PREFIX_MATCH filter:"
    solution_code = (
        "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
        "    'destinations': [{'region': 'us-west-2', 'registryId': lab.account_id}],\n"
        "    'repositoryFilters': [{'filter': 'prod', 'filterType': 'PREFIX_MATCH'}],\n"
        "}]})\n"
        "ex.q1.check()"
    )
    wrong_answers = (
        (
            "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
            "    'destinations': [{'region': 'us-west-2', 'registryId': lab.account_id}]}]})\n"
            "ex.q1.check()"
        ),
        (
            "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
            "    'destinations': [{'region': 'us-west-2', 'registryId': lab.account_id}],\n"
            "    'repositoryFilters': [{'filter': 'dev', 'filterType': 'PREFIX_MATCH'}]}]})\n"
            "ex.q1.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        prod, dev = _destinations(lab, "prod/web"), _destinations(lab, "dev/web")
        if not prod and not dev:
            raise NotAttempted("DescribeRegistry shows no replication rule yet.")
        if (lab.account_id, "us-west-2") not in prod:
            raise Incorrect(
                "a push to `prod/web` would not reach us-west-2 in your account: check the rule's destination."
            )
        if (lab.account_id, "us-west-2") in dev:
            raise Incorrect("`dev/web` would replicate too: add a PREFIX_MATCH filter `prod` to the rule.")
        return "pushes to prod… repositories now replicate to us-west-2; dev… ones stay home."


class Partner(Problem):
    title = (
        f"Let your account replicate into the partner account {PARTNER} (us-east-1), creating repositories there, "
        "and send `prod` pushes there too."
    )
    hints = (
        (
            "Two sides: the partner's registry policy (`lab.account(ex.PARTNER).client('ecr').put_registry_policy`) must "
            "allow your account's root `ecr:ReplicateImage` and `ecr:CreateRepository`; your configuration names the partner."
        ),
        "Keep your us-west-2 destination: PutReplicationConfiguration replaces the whole configuration.",
    )
    solution_text = "The partner allows it; your rule gains a second destination:"
    solution_code = (
        "partner = lab.account(ex.PARTNER).client('ecr')\n"
        "partner.put_registry_policy(policyText=json.dumps({'Version': '2012-10-17', 'Statement': [{\n"
        "    'Sid': 'ReplicationFromSource', 'Effect': 'Allow',\n"
        "    'Principal': {'AWS': f'arn:aws:iam::{lab.account_id}:root'},\n"
        "    'Action': ['ecr:ReplicateImage', 'ecr:CreateRepository'], 'Resource': '*'}]}))\n"
        "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
        "    'destinations': [{'region': 'us-west-2', 'registryId': lab.account_id},\n"
        "                     {'region': 'us-east-1', 'registryId': ex.PARTNER}],\n"
        "    'repositoryFilters': [{'filter': 'prod', 'filterType': 'PREFIX_MATCH'}],\n"
        "}]})\n"
        "ex.q2.check()"
    )
    wrong_answers = (
        (  # the policy in the source account, where it opens nothing for replication into the partner
            "ecr.put_registry_policy(policyText=json.dumps({'Version': '2012-10-17', 'Statement': [{\n"
            "    'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{lab.account_id}:root'},\n"
            "    'Action': ['ecr:ReplicateImage', 'ecr:CreateRepository'], 'Resource': '*'}]}))\n"
            "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
            "    'destinations': [{'region': 'us-east-1', 'registryId': ex.PARTNER}]}]})\n"
            "ex.q2.check()"
        ),
        (  # ReplicateImage alone: the partner's repository cannot be created
            "lab.account(ex.PARTNER).client('ecr').put_registry_policy(policyText=json.dumps({\n"
            "    'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow',\n"
            "    'Principal': {'AWS': f'arn:aws:iam::{lab.account_id}:root'},\n"
            "    'Action': 'ecr:ReplicateImage', 'Resource': '*'}]}))\n"
            "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
            "    'destinations': [{'region': 'us-east-1', 'registryId': ex.PARTNER}]}]})\n"
            "ex.q2.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        lab.account(PARTNER)
        if (PARTNER, "us-east-1") not in _destinations(lab, "prod/web"):
            raise NotAttempted(f"your configuration does not send `prod/web` pushes to {PARTNER} in us-east-1 yet.")
        authorizer = lab.engine.authorizer
        for action in ("ecr:ReplicateImage", "ecr:CreateRepository"):
            decision = authorizer.replication_decision(lab.account_id, PARTNER, "us-east-1", "prod/web", action)
            if not decision.allowed:
                raise Incorrect(
                    f"the partner's registry policy does not allow your account {action}: "
                    "replication would FAIL there. (The policy belongs in the partner account, not yours.)"
                )
        return "the partner's registry policy lets your account replicate and create repositories there."


class WatchItArrive(Problem):
    title = "Push an image to `prod/web` (tag `v1`) and move the lab clock until it is COMPLETE in every destination."
    hints = (
        "Push with the lesson's `push(repository, text, tag)` helper, then `lab.clock.advance(minutes=1)`.",
        "`ecr.describe_image_replication_status(repositoryName='prod/web', imageId={'imageTag': 'v1'})` shows where it stands.",
    )
    solution_text = "Push, then let the lab's time pass:"
    solution_code = "push('prod/web', 'web v1', 'v1')\nlab.clock.advance(minutes=1)\nex.q3.check()"
    wrong_answers = (
        "push('prod/web', 'web v1', 'v1')\nex.q3.check()",  # checked before the copy had time to land
        "push('dev/web', 'web v1', 'v1')\nex.q3.check()",  # a repository no rule covers
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        ecr = lab.client("ecr")
        try:
            answer_ = ecr.describe_image_replication_status(repositoryName="prod/web", imageId={"imageTag": "v1"})
        except ClientError:
            raise NotAttempted("there is no image tagged `v1` in `prod/web` yet.") from None
        statuses = answer_["replicationStatuses"]
        if not statuses:
            raise Incorrect("`prod/web:v1` has no replication status: was it pushed before the configuration existed?")
        waiting = [s for s in statuses if s["status"] != "COMPLETE"]
        if waiting:
            shown = ", ".join(f"{s['registryId']}/{s['region']}: {s['status']}" for s in waiting)
            raise Incorrect(f"not everywhere yet ({shown}): move the clock on, or fix what FAILED.")
        digest = answer_["imageId"]["imageDigest"]
        return f"`prod/web:v1` ({digest[:19]}…) arrived in {len(statuses)} destination(s), same digest everywhere."


class WhatIsReplicated(Problem):
    title = "Which of `ex.REPLICATED_OR_NOT` does ECR replicate? Answer with a list of them."
    takes_answer = True
    hints = ("Replication copies pushes made after the configuration exists: nothing else.",)
    solution_text = "Pushes only: new images and tags put on them."
    solution_code = "ex.q4.check(['a new image pushed', 'a tag put on an image already pushed'])"
    wrong_answers = (
        "ex.q4.check(['a new image pushed', 'a tag put on an image already pushed', 'an image deleted'])",
        "ex.q4.check(['a new image pushed', 'an image pushed before the configuration existed'])",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            raise Incorrect("answer with a list of entries from `ex.REPLICATED_OR_NOT`.")
        given = {str(a) for a in answer}
        unknown = given - set(REPLICATED_OR_NOT)
        if unknown:
            raise Incorrect(
                f"{sorted(unknown)} is not in `ex.REPLICATED_OR_NOT`: copy the entries as they are written."
            )
        if given == _REPLICATED:
            return "only pushes travel: deletes, policies and what was there before stay where they are."
        wrong = sorted(given - _REPLICATED)
        if wrong:
            raise Incorrect(f"{wrong[0]!r} is not replicated: each registry keeps its own policies and deletions.")
        raise Incorrect("something that is replicated is missing from your list.")


q1 = SameAccount()
q2 = Partner()
q3 = WatchItArrive()
q4 = WhatIsReplicated()

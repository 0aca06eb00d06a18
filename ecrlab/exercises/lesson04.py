"""Exercises for notebooks/04-lifecycle-policies.ipynb: write, predict, run and repair lifecycle policies.

The checks read the lab as a learner would (GetLifecyclePolicy, DescribeImages, the event log) and
judge a policy by what it does, with the sandbox's evaluator, not by its exact text: any policy that
expires the same images on the repository and on a set of made-up images is right.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.display import utc
from ecrlab.ecr.model import ImageRecord
from ecrlab.errors import Incorrect, NotAttempted, ServiceError
from ecrlab.exercises.core import Problem
from ecrlab.exercises.reset import reset_lab
from ecrlab.lifecycle import LifecyclePolicy, evaluate_lifecycle_policy, parse_lifecycle_policy
from ecrlab.oci import OCI_MANIFEST, sha256_digest

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["BROKEN_POLICY", "GUIDE_IMAGES", "PROD_THEN_ANY", "q1", "q2", "q3", "q4", "q5", "reset"]


def _rule(priority: int, selection: dict[str, Any], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"rulePriority": priority}
    if description:
        out["description"] = description
    return {**out, "selection": selection, "action": {"type": "expire"}}


_RELEASES_AND_BUILDS = json.dumps(
    {
        "rules": [
            _rule(
                1,
                {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["release-"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 3,
                },
            ),
            _rule(2, {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}),
        ]
    }
)

#: The repository of the User Guide's multiple-rules example: name -> (tags, pushed N days ago).
GUIDE_IMAGES = {"A": (["beta-1", "prod-1"], 10), "B": (["beta-2", "prod-2"], 9), "C": (["beta-3"], 8)}

#: Exercise 2's policy on the guide's images: one the lesson never previews.
PROD_THEN_ANY = json.dumps(
    {
        "rules": [
            _rule(
                1,
                {"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 2},
                "keep the 2 newest prod images",
            ),
            _rule(2, {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}, "keep 1 image"),
        ]
    },
    indent=2,
)

#: A policy ECR refuses, for exercise 4.
BROKEN_POLICY = json.dumps(
    {
        "rules": [
            _rule(
                1,
                {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30},
                "anything older than 30 days",
            ),
            _rule(
                2,
                {
                    "tagStatus": "TAGGED",
                    "tagPrefixList": ["v"],
                    "countType": "imageCountMoreThan",
                    "countUnit": "days",
                    "countNumber": 5,
                },
                "keep the 5 newest versions",
            ),
        ]
    },
    indent=2,
)


def _image(name: str, tags: list[str], pushed_at: datetime, sequence: int) -> ImageRecord:
    manifest = json.dumps({"exercise": name}).encode()
    return ImageRecord(
        sha256_digest(manifest),
        manifest,
        OCI_MANIFEST,
        pushed_at,
        0,
        tags,
        sequence=sequence,
    )


def _made_up_images(now: datetime) -> list[ImageRecord]:
    """Releases, builds, hotfixes and untagged images of many ages: a policy's fingerprint."""
    kinds = [
        ["release-{n}"],
        [],
        ["release-{n}", "latest-{n}"],
        ["build-{n}"],
        [],
        ["release-{n}-hotfix"],
        ["xrelease-{n}"],
    ]
    return [
        _image(f"made-up-{n}", [t.format(n=n) for t in kinds[n % len(kinds)]], now - timedelta(hours=11 * n + 1), n)
        for n in range(40)
    ]


def _saved(lab: Lab, repository: str) -> str:
    ecr = lab.client("ecr")
    try:
        return ecr.get_lifecycle_policy(repositoryName=repository)["lifecyclePolicyText"]
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "LifecyclePolicyNotFoundException":
            raise NotAttempted(
                f"`{repository}` has no lifecycle policy yet: save one with `put_lifecycle_policy`."
            ) from None
        if code == "RepositoryNotFoundException":
            raise NotAttempted(
                f"there is no repository `{repository}`: run the notebook's setup cells first."
            ) from None
        raise


def _outcome(policy: LifecyclePolicy, images: Iterable[Any], now: datetime) -> dict[str, int]:
    return evaluate_lifecycle_policy(policy, list(images), now).expired_digests()


class KeepReleases(Problem):
    title = (
        "Save a lifecycle policy on `shop/web` that keeps the 3 newest images with a tag starting `release-` "
        "and expires untagged images pushed more than 7 days ago."
    )
    hints = (
        (
            "Two rules: a `tagged` one with `tagPrefixList` and `imageCountMoreThan`, an `untagged` one with "
            "`sinceImagePushed` (which needs `countUnit: days`)."
        ),
        (
            "Policy JSON is lower case (`tagged`, `expire`); give each rule its own `rulePriority`, then "
            "`ecr.put_lifecycle_policy(repositoryName='shop/web', lifecyclePolicyText=json.dumps(policy))`."
        ),
    )
    solution_text = "One rule per kind of image:"
    solution_code = (
        "import json\n"
        "policy = {'rules': [\n"
        "    {'rulePriority': 1, 'description': 'keep the 3 newest releases',\n"
        "     'selection': {'tagStatus': 'tagged', 'tagPrefixList': ['release-'],\n"
        "                   'countType': 'imageCountMoreThan', 'countNumber': 3},\n"
        "     'action': {'type': 'expire'}},\n"
        "    {'rulePriority': 2, 'description': 'untagged builds go after a week',\n"
        "     'selection': {'tagStatus': 'untagged', 'countType': 'sinceImagePushed',\n"
        "                   'countUnit': 'days', 'countNumber': 7},\n"
        "     'action': {'type': 'expire'}},\n"
        "]}\n"
        "ecr.put_lifecycle_policy(repositoryName='shop/web', lifecyclePolicyText=json.dumps(policy))\n"
        "ex.q1.check()"
    )
    wrong_answers = (
        (
            "policy = {'rules': [\n"
            "    {'rulePriority': 1, 'selection': {'tagStatus': 'tagged', 'tagPrefixList': ['release-'],\n"
            "     'countType': 'imageCountMoreThan', 'countNumber': 3}, 'action': {'type': 'expire'}},\n"
            "    {'rulePriority': 2, 'selection': {'tagStatus': 'untagged', 'countType': 'imageCountMoreThan',\n"
            "     'countNumber': 7}, 'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/web', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q1.check()"
        ),
        (
            "policy = {'rules': [\n"
            "    {'rulePriority': 1, 'selection': {'tagStatus': 'any', 'countType': 'imageCountMoreThan',\n"
            "     'countNumber': 3}, 'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/web', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q1.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        theirs = parse_lifecycle_policy(_saved(lab, "shop/web"))
        ours = parse_lifecycle_policy(_RELEASES_AND_BUILDS)
        now = lab.clock.now()
        repo = lab.engine.repository(lab.account_id, lab.region, "shop/web")
        for images, where in (
            (repo.images.values(), "on `shop/web`"),
            (_made_up_images(now), "on a made-up repository"),
        ):
            got, want = _outcome(theirs, images, now), _outcome(ours, images, now)
            if got != want:
                by_digest = {im.digest: im for im in images}
                extra = sorted(", ".join(by_digest[d].tags) or "an untagged image" for d in set(got) - set(want))
                spared = sorted(", ".join(by_digest[d].tags) or "an untagged image" for d in set(want) - set(got))
                parts = []
                if extra:
                    parts.append(f"it would also expire {'; '.join(extra[:3])}")
                if spared:
                    parts.append(f"it would keep {'; '.join(spared[:3])}, which should go")
                raise Incorrect(f"{where}, {' and '.join(parts)}. Preview it to see image by image.")
        going = _outcome(theirs, repo.images.values(), now)
        return f"the saved policy keeps the 3 newest releases and drops week-old builds: {len(going)} image(s) of `shop/web` would expire today."


class PredictAnyRule(Problem):
    title = (
        "On the User Guide's images (`GUIDE_IMAGES`), which images would `PROD_THEN_ANY` expire? "
        "Answer with a list of names, e.g. `['A']`, or `[]`."
    )
    takes_answer = True
    hints = (
        "Rule 1 looks only at images with a `prod…` tag, and keeps the newest 2 of them.",
        (
            "Rule 2 (`any`) counts all three and marks all but the newest; but an image that matches the tag "
            "selection of a higher-priority rule can never be expired by a lower one."
        ),
    )
    solution_text = (
        "Rule 1 sees A and B and keeps both; rule 2 marks A and B (C is its newest), but both match rule 1's "
        "selection, so rule 2 may not expire them. Nothing expires:"
    )
    solution_code = "expiring = []\nex.q2.check(expiring)"
    wrong_answers = ("expiring = ['A', 'B']\nex.q2.check(expiring)", "expiring = ['A']\nex.q2.check(expiring)")

    def assess(self, lab: Lab, answer: Any) -> str:
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            raise Incorrect("answer with a list of image names, like `['A', 'C']` (or `[]` for none).")
        given = {str(a).strip().upper() for a in answer}
        if not given <= set(GUIDE_IMAGES):
            raise Incorrect(
                f"the images are {', '.join(GUIDE_IMAGES)}; {sorted(given - set(GUIDE_IMAGES))} is not one of them."
            )
        now = lab.clock.now()
        images = {
            n: _image(f"guide-{n}", tags, now - timedelta(days=days), i)
            for i, (n, (tags, days)) in enumerate(GUIDE_IMAGES.items())
        }
        expired = _outcome(parse_lifecycle_policy(PROD_THEN_ANY), images.values(), now)
        truth = {n for n, im in images.items() if im.digest in expired}
        if given == truth:
            return (
                "nothing expires: rule 2 counts A and B, but they match rule 1's `prod` selection, so only rule 1 "
                "could expire them, and it keeps its newest two."
            )
        if given == {"A", "B"}:
            raise Incorrect(
                "rule 2 would mark A and B, but a lower-priority rule may not expire an image that matches the "
                "selection of a higher-priority one."
            )
        if "C" in given:
            raise Incorrect("C is the newest image: rule 2 keeps the newest one, and rule 1 never sees C.")
        raise Incorrect("not quite: work out rule 1 alone first (how many `prod` images are there?).")


class TimeTravel(Problem):
    title = "Let the saved policy on `shop/web` act: move the lab clock on until its daily evaluation has run."
    hints = (
        "The lab evaluates saved policies at midnight UTC (lab time), when `lab.clock.advance(...)` passes it.",
        "`lab.clock.advance(days=1)` always crosses one midnight.",
    )
    solution_text = "Travel one day; the evaluation at midnight expires the images and logs it:"
    solution_code = "lab.clock.advance(days=1)\nex.q3.check()"
    wrong_answers = (
        "lab.clock.advance(hours=1)\nex.q3.check()",
        "ecr.start_lifecycle_policy_preview(repositoryName='shop/web')\nex.q3.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        _saved(lab, "shop/web")
        when = lab.client("ecr").get_lifecycle_policy(repositoryName="shop/web")["lastEvaluatedAt"]
        if when.timestamp() == 0:
            raise NotAttempted(
                "the policy has not been evaluated yet: the clock has not passed a midnight since you saved it."
            )
        events = [
            e
            for e in lab.trail.records
            if e["eventName"] == "PolicyExecutionEvent" and e["serviceEventDetails"]["repositoryName"] == "shop/web"
        ]
        gone = sum(len(e["serviceEventDetails"]["lifecycleEventImageActions"]) for e in events)
        if not events:
            raise Incorrect(
                f"the policy ran at {utc(when)} but expired nothing: did you save the policy of exercise 1?"
            )
        return f"the policy ran at {utc(when)} and expired {gone} image(s); CloudTrail-style PolicyExecutionEvent records say which and why."


class FixBrokenPolicy(Problem):
    title = "`BROKEN_POLICY` is refused by ECR. Fix it and save it on `shop/api`, keeping what each rule means."
    hints = (
        (
            "Try `ecr.put_lifecycle_policy(repositoryName='shop/api', lifecyclePolicyText=BROKEN_POLICY)` and read the "
            "message: it names the rule that is wrong. Fix, repeat."
        ),
        (
            "Three faults: enum values are lower case in policy JSON; `imageCountMoreThan` takes no `countUnit`; "
            "a `tagStatus: any` rule must have the highest `rulePriority` number."
        ),
    )
    solution_text = "Lower-case `tagged`, drop `countUnit` from the count rule, and let the `any` rule come last:"
    solution_code = (
        "import json\n"
        "fixed = json.loads(ex.BROKEN_POLICY)\n"
        "any_rule, versions = fixed['rules']\n"
        "versions['selection']['tagStatus'] = 'tagged'\n"
        "del versions['selection']['countUnit']\n"
        "versions['rulePriority'], any_rule['rulePriority'] = 1, 2\n"
        "ecr.put_lifecycle_policy(repositoryName='shop/api', lifecyclePolicyText=json.dumps(fixed))\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        # ECR accepts these, but they no longer mean what BROKEN_POLICY meant
        (
            "fixed = json.loads(ex.BROKEN_POLICY)\n"
            "versions = fixed['rules'][1]\n"
            "versions['selection']['tagStatus'] = 'tagged'\n"
            "del versions['selection']['countUnit']\n"
            "fixed['rules'] = [dict(versions, rulePriority=1)]\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/api', lifecyclePolicyText=json.dumps(fixed))\n"
            "ex.q4.check()"
        ),
        (
            "fixed = json.loads(ex.BROKEN_POLICY)\n"
            "any_rule, versions = fixed['rules']\n"
            "versions['selection']['tagStatus'] = 'tagged'\n"
            "del versions['selection']['countUnit']\n"
            "any_rule['selection']['tagStatus'] = 'untagged'\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/api', lifecyclePolicyText=json.dumps(fixed))\n"
            "ex.q4.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        try:
            policy = parse_lifecycle_policy(_saved(lab, "shop/api"))
        except ServiceError as exc:  # a saved policy always parses; kept for a clear message if not
            raise Incorrect(str(exc)) from None
        if len(policy.rules) != 2:
            raise Incorrect(f"the saved policy has {len(policy.rules)} rule(s); keep both rules of `BROKEN_POLICY`.")
        first, last = policy.rules
        wanted_first = (
            first.tag_status,
            first.tag_prefixes or first.tag_patterns,
            first.count_type,
            first.count_number,
        )
        if wanted_first not in {
            ("tagged", ("v",), "imageCountMoreThan", 5),
            ("tagged", ("v*",), "imageCountMoreThan", 5),
        }:
            raise Incorrect(
                "the first rule should still keep the 5 newest images tagged `v…` (tagged, prefix `v`, imageCountMoreThan 5)."
            )
        if (last.tag_status, last.count_type, last.count_number) != ("any", "sinceImagePushed", 30):
            raise Incorrect("the last rule should still expire any image pushed more than 30 days ago.")
        return "ECR accepted it: versions are protected by rule 1, and everything else goes after 30 days."


_ARCHIVE_UNPULLED = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePulled",
                    "countUnit": "days",
                    "countNumber": 30,
                },
                "action": {"type": "transition", "targetStorageClass": "archive"},
            },
            {
                "rulePriority": 2,
                "selection": {
                    "tagStatus": "any",
                    "storageClass": "archive",
                    "countType": "sinceImageTransitioned",
                    "countUnit": "days",
                    "countNumber": 180,
                },
                "action": {"type": "expire"},
            },
        ]
    }
)


def _archive_fingerprint(now: datetime) -> list[ImageRecord]:
    """Images in both storage classes, of many push, pull and archive ages."""
    out = []
    for n in range(36):
        image = _image(f"archive-{n}", [f"job-{n}"] if n % 3 else [], now - timedelta(days=10 * n + 1), n)
        if n % 2:
            image.last_pulled_at = now - timedelta(days=2 * n)
        if n % 4 == 3:
            image.status, image.last_archived_at = "ARCHIVED", now - timedelta(days=15 * n)
        out.append(image)
    return out


class ArchiveUnpulled(Problem):
    title = (
        "Save a lifecycle policy on `shop/jobs` that moves images nobody has pulled for 30 days to the archive, "
        "and deletes archived images once they have been in the archive for 180 days."
    )
    hints = (
        (
            "Two rules: a `transition` rule (`targetStorageClass: archive`) on `sinceImagePulled`, and an `expire` "
            "rule on `sinceImageTransitioned`, which selects from `storageClass: archive`."
        ),
        "Both count in days (`countUnit: days`); an archive rule may not expire anything archived under 90 days.",
    )
    solution_text = "Archive by pull age, then expire from the archive by time spent there:"
    solution_code = (
        "import json\n"
        "policy = {'rules': [\n"
        "    {'rulePriority': 1, 'description': 'archive what nobody pulled for 30 days',\n"
        "     'selection': {'tagStatus': 'any', 'countType': 'sinceImagePulled', 'countUnit': 'days',\n"
        "                   'countNumber': 30},\n"
        "     'action': {'type': 'transition', 'targetStorageClass': 'archive'}},\n"
        "    {'rulePriority': 2, 'description': 'delete after 180 days in the archive',\n"
        "     'selection': {'tagStatus': 'any', 'storageClass': 'archive', 'countType': 'sinceImageTransitioned',\n"
        "                   'countUnit': 'days', 'countNumber': 180},\n"
        "     'action': {'type': 'expire'}},\n"
        "]}\n"
        "ecr.put_lifecycle_policy(repositoryName='shop/jobs', lifecyclePolicyText=json.dumps(policy))\n"
        "ex.q5.check()"
    )
    wrong_answers = (
        # deletes instead of archiving
        (
            "policy = {'rules': [\n"
            "    {'rulePriority': 1, 'selection': {'tagStatus': 'any', 'countType': 'sinceImagePulled',\n"
            "     'countUnit': 'days', 'countNumber': 30}, 'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/jobs', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q5.check()"
        ),
        # archives by push age, not by pull age
        (
            "policy = {'rules': [\n"
            "    {'rulePriority': 1, 'selection': {'tagStatus': 'any', 'countType': 'sinceImagePushed',\n"
            "     'countUnit': 'days', 'countNumber': 30},\n"
            "     'action': {'type': 'transition', 'targetStorageClass': 'archive'}},\n"
            "    {'rulePriority': 2, 'selection': {'tagStatus': 'any', 'storageClass': 'archive',\n"
            "     'countType': 'sinceImageTransitioned', 'countUnit': 'days', 'countNumber': 180},\n"
            "     'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/jobs', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q5.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        theirs = parse_lifecycle_policy(_saved(lab, "shop/jobs"))
        ours = parse_lifecycle_policy(_ARCHIVE_UNPULLED)
        now = lab.clock.now()
        images = _archive_fingerprint(now)
        got = evaluate_lifecycle_policy(theirs, images, now)
        want = evaluate_lifecycle_policy(ours, images, now)
        if got.transitioned_digests() != want.transitioned_digests():
            if not got.transitioned_digests():
                raise Incorrect("the policy archives nothing: use a `transition` action to the `archive` class.")
            raise Incorrect(
                "it archives other images than those unpulled for 30 days: count with `sinceImagePulled` "
                "(an image never pulled counts from its push)."
            )
        if got.expired_digests() != want.expired_digests():
            raise Incorrect(
                "it deletes other images than those archived for more than 180 days: expire from "
                "`storageClass: archive` with `sinceImageTransitioned`, and nothing from the standard class."
            )
        return (
            "images nobody pulls go to the archive after 30 days (cheaper, but not pullable until restored), and "
            "leave it for good after 180 days there."
        )


q1 = KeepReleases()
q2 = PredictAnyRule()
q3 = TimeTravel()
q4 = FixBrokenPolicy()
q5 = ArchiveUnpulled()


def reset(lab: Lab) -> str:
    """Start lesson 04 over (see :mod:`ecrlab.exercises.reset`)."""
    return reset_lab(lab)

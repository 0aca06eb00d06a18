"""Exercises for notebooks/08-versioning-and-rollback.ipynb: immutable versions with moving pointers,
retagging, "what was deployed then", rolling back, and a keep-last-N policy that spares tags in use.

``setup(lab)`` gives `shop/api` a release history: eight releases ``1.0.0`` … ``1.7.0``, one a day, each
also tagged with its git commit (``git-…``) and ``latest``; ``prod`` deployed every other day. The checks
read the lab as a learner would (DescribeRepositories, DescribeImages, the lifecycle policy judged by the
sandbox's evaluator) and the history from the engine's event stream.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab import images
from ecrlab.ecr.images import tag_is_immutable
from ecrlab.exercises.core import Incorrect, NotAttempted, Problem
from ecrlab.exercises.reset import reset_lab
from ecrlab.images.client import RegistryClient
from ecrlab.lifecycle import evaluate_lifecycle_policy, parse_lifecycle_policy
from ecrlab.widgets.image_timeline import ImageTimeline

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["PROTECTED", "RELEASES", "git_sha", "last_tuesday", "q1", "q2", "q3", "q4", "q5", "reset", "setup"]

REPOSITORY = "shop/api"
RELEASES = tuple(f"1.{n}.0" for n in range(8))
#: The tags a keep-last-N policy must never expire (exercise 5).
PROTECTED = ("latest", "prod", "stable")


def git_sha(release: str) -> str:
    """The (made-up, stable) commit a release was built from: ``git-`` and 7 hex digits."""
    return "git-" + hashlib.sha1(release.encode()).hexdigest()[:7]


def _image(release: str) -> images.Image:
    return (
        images.ImageBuilder(images.base_image("alpine:3.20.3"))
        .copy_bytes(f"shop api {release}\n".encode(), "/app/VERSION")
        .label(**{"org.opencontainers.image.version": release, "org.opencontainers.image.revision": git_sha(release)})
        .build()
    )


def setup(lab: Lab) -> None:
    """Push the release history of `shop/api` over eight days of lab time (does nothing if it is there)."""
    ecr = lab.client("ecr")
    if REPOSITORY in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}:
        return
    ecr.create_repository(repositoryName=REPOSITORY)
    for day, release in enumerate(RELEASES):
        if day:
            lab.clock.advance(days=1)
        image = _image(release)
        with RegistryClient.for_lab(lab) as client:  # a fresh token each day: tokens last 12 hours
            client.push(image, REPOSITORY, release)
        manifest = image.manifest.decode()
        for tag in (git_sha(release), "latest", *(["prod"] if day % 2 == 0 else [])):
            ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest, imageTag=tag)


def reset(lab: Lab) -> str:
    """Start lesson 08 over (see :mod:`ecrlab.exercises.reset`); ``setup(lab)`` then builds the history
    of `shop/api` again, at the lab's current time."""
    return reset_lab(lab)


def last_tuesday(lab: Lab) -> datetime:
    """Noon UTC of the last Tuesday before the lab's current time."""
    now = lab.clock.now()
    tuesday = now.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=(now.weekday() - 1) % 7)
    return tuesday if tuesday < now else tuesday - timedelta(days=7)


def _digest(lab: Lab, tag: str) -> str | None:
    try:
        found = lab.client("ecr").describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])
    except ClientError:
        return None
    return found["imageDetails"][0]["imageDigest"]


def _repo(lab: Lab) -> Any:
    try:
        return lab.engine.repository(lab.account_id, lab.region, REPOSITORY)
    except Exception:  # noqa: BLE001 - any lookup failure means the setup cell has not run
        raise NotAttempted("run the exercises' setup cell first (`ex.setup(lab)`).") from None


class Immutable(Problem):
    title = "Make `shop/api`'s tags immutable, except `latest` and `prod`, which must keep moving."
    hints = (
        "`PutImageTagMutability` with `imageTagMutability='IMMUTABLE_WITH_EXCLUSION'`.",
        (
            "`imageTagMutabilityExclusionFilters=[{'filterType': 'WILDCARD', 'filter': 'latest'}, {'filterType': "
            "'WILDCARD', 'filter': 'prod'}]`."
        ),
    )
    solution_text = "Immutable, with two exclusion filters:"
    solution_code = (
        "ecr.put_image_tag_mutability(repositoryName='shop/api', imageTagMutability='IMMUTABLE_WITH_EXCLUSION',\n"
        "    imageTagMutabilityExclusionFilters=[{'filterType': 'WILDCARD', 'filter': 'latest'},\n"
        "                                        {'filterType': 'WILDCARD', 'filter': 'prod'}])\n"
        "ex.q1.check()"
    )
    wrong_answers = (
        "ecr.put_image_tag_mutability(repositoryName='shop/api', imageTagMutability='IMMUTABLE')\nex.q1.check()",
        (
            "ecr.put_image_tag_mutability(repositoryName='shop/api', imageTagMutability='MUTABLE_WITH_EXCLUSION',\n"
            "    imageTagMutabilityExclusionFilters=[{'filterType': 'WILDCARD', 'filter': 'latest'},\n"
            "                                        {'filterType': 'WILDCARD', 'filter': 'prod'}])\n"
            "ex.q1.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        repo = _repo(lab)
        if repo.tag_mutability == "MUTABLE":
            raise NotAttempted("`shop/api` is still MUTABLE.")
        for tag in ("1.9.0", git_sha("1.9.0"), "stable"):
            if not tag_is_immutable(repo, tag):
                raise Incorrect(f"a tag like `{tag}` could still be moved: versions must be immutable.")
        for tag in ("latest", "prod"):
            if tag_is_immutable(repo, tag):
                raise Incorrect(f"`{tag}` could no longer move: exclude it from immutability.")
        return "versions and commits are fixed for good; `latest` and `prod` still move."


class Retag(Problem):
    title = "Tag the image `1.4.0` also as `stable`, without pushing it again."
    hints = (
        "`BatchGetImage` returns the manifest; `PutImage` with that manifest and a new `imageTag` adds the tag.",
        "The manifest bytes are unchanged, so the digest (and the image's push time) stay the same.",
    )
    solution_text = "Read the manifest, put it back with the new tag:"
    solution_code = (
        "found = ecr.batch_get_image(repositoryName='shop/api', imageIds=[{'imageTag': '1.4.0'}])['images'][0]\n"
        "try:\n"
        "    ecr.put_image(repositoryName='shop/api', imageManifest=found['imageManifest'], imageTag='stable')\n"
        "except ecr.exceptions.ImageAlreadyExistsException:\n"
        "    pass  # it is tagged stable already\n"
        "ex.q2.check()"
    )
    wrong_answers = (
        (  # a new tag made of the old one: `stable` itself never appears
            "found = ecr.batch_get_image(repositoryName='shop/api', imageIds=[{'imageTag': '1.4.0'}])['images'][0]\n"
            "ecr.put_image(repositoryName='shop/api', imageManifest=found['imageManifest'], imageTag='1.4.0-stable')\n"
            "ex.q2.check()"
        ),
        "ex.q2.check()",  # nothing done yet
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        _repo(lab)
        stable, release = _digest(lab, "stable"), _digest(lab, "1.4.0")
        if stable is None:
            raise NotAttempted("no image is tagged `stable` yet.")
        if stable != release:
            raise Incorrect("`stable` names another image than `1.4.0`.")
        return f"`stable` and `1.4.0` are one image ({stable[:19]}…): same digest, same push time, nothing uploaded."


class DeployedThen(Problem):
    title = "Which digest did `prod` name last Tuesday at 12:00 UTC (`ex.last_tuesday(lab)`)? Answer with it."
    takes_answer = True
    hints = (
        (
            "`prod` moved on release days. DescribeImages lists each release's `imagePushedAt`; the deployment in force "
            "then was the last one made before that moment."
        ),
        "Or ask the timeline: `ImageTimeline('shop/api', lab).tag_at('prod', ex.last_tuesday(lab))`.",
    )
    solution_text = "The timeline answers it directly (it reads the repository's history on the event stream):"
    solution_code = (
        "from ecrlab.widgets import ImageTimeline\n"
        "ex.q3.check(ImageTimeline('shop/api', lab).tag_at('prod', ex.last_tuesday(lab)))"
    )
    wrong_answers = (
        (  # where prod points now
            "now = ecr.describe_images(repositoryName='shop/api', imageIds=[{'imageTag': 'prod'}])['imageDetails'][0]\n"
            "ex.q3.check(now['imageDigest'])"
        ),
        "ex.q3.check('prod')",  # a tag moves: a digest is what was deployed
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        _repo(lab)
        when = last_tuesday(lab)
        truth = ImageTimeline(REPOSITORY, lab).tag_at("prod", when)
        if truth is None:
            raise NotAttempted("`prod` named nothing last Tuesday in this lab: run `ex.reset(lab); ex.setup(lab)`.")
        if str(answer).strip() == truth:
            return f"on {when:%A %Y-%m-%d %H:%M} UTC `prod` was {truth[:19]}…: deploy that digest to reproduce it."
        if str(answer).strip() == _digest(lab, "prod"):
            raise Incorrect("that is where `prod` points now; the question is where it pointed then.")
        raise Incorrect("not that digest: which deployment was the last before that moment?")


class Rollback(Problem):
    title = "`prod` is broken. Roll it back to the release deployed before it (`1.4.0`) by moving the tag."
    hints = (
        "Moving a tag is a `PutImage` of the older image's manifest with `imageTag='prod'`.",
        "With tag immutability on, `prod` must be one of the exclusions (exercise 1).",
    )
    solution_text = "Put the older manifest back under `prod`:"
    solution_code = (
        "older = ecr.batch_get_image(repositoryName='shop/api', imageIds=[{'imageTag': '1.4.0'}])['images'][0]\n"
        "try:\n"
        "    ecr.put_image(repositoryName='shop/api', imageManifest=older['imageManifest'], imageTag='prod')\n"
        "except ecr.exceptions.ImageAlreadyExistsException:\n"
        "    pass  # prod names 1.4.0 already\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        (  # one release back from the broken one, not the one deployed before it
            "older = ecr.batch_get_image(repositoryName='shop/api', imageIds=[{'imageTag': '1.5.0'}])['images'][0]\n"
            "ecr.put_image(repositoryName='shop/api', imageManifest=older['imageManifest'], imageTag='prod')\n"
            "ex.q4.check()"
        ),
        "ex.q4.check()",  # nothing moved yet
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        _repo(lab)
        prod, older = _digest(lab, "prod"), _digest(lab, "1.4.0")
        if prod == older:
            return "`prod` names 1.4.0 again; a deployment by digest (`shop/api@sha256:…`) would not have needed this."
        if prod == _digest(lab, "1.6.0"):
            raise NotAttempted("`prod` still names 1.6.0.")
        raise Incorrect("`prod` moved, but not to `1.4.0`.")


class KeepLastN(Problem):
    title = (
        "Save a lifecycle policy on `shop/api` keeping the 3 newest images and never expiring one tagged "
        + ", ".join(f"`{t}`" for t in PROTECTED)
    )
    hints = (
        (
            "An image a higher-priority rule selects is never expired by a lower one: give each protected tag a rule "
            "that selects it and keeps a huge count."
        ),
        "Last rule: `tagStatus: any`, `imageCountMoreThan: 3`.",
    )
    solution_text = "One protecting rule per tag in use, then keep-last-3 for everything:"
    solution_code = (
        "def keep(priority, tag):\n"
        "    return {'rulePriority': priority, 'description': f'never expire {tag}',\n"
        "            'selection': {'tagStatus': 'tagged', 'tagPatternList': [tag],\n"
        "                          'countType': 'imageCountMoreThan', 'countNumber': 10000},\n"
        "            'action': {'type': 'expire'}}\n"
        "policy = {'rules': [keep(1, 'latest'), keep(2, 'prod'), keep(3, 'stable'),\n"
        "    {'rulePriority': 4, 'description': 'keep the 3 newest',\n"
        "     'selection': {'tagStatus': 'any', 'countType': 'imageCountMoreThan', 'countNumber': 3},\n"
        "     'action': {'type': 'expire'}}]}\n"
        "ecr.put_lifecycle_policy(repositoryName='shop/api', lifecyclePolicyText=json.dumps(policy))\n"
        "ex.q5.check()"
    )
    wrong_answers = (
        (  # keeps the newest 3 but expires the rollback target and `stable`
            "policy = {'rules': [{'rulePriority': 1, 'selection': {'tagStatus': 'any',\n"
            "    'countType': 'imageCountMoreThan', 'countNumber': 3}, 'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/api', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q5.check()"
        ),
        (  # entries of one tagPatternList are ANDed: no image carries all three tags, so nothing is protected
            "policy = {'rules': [\n"
            "    {'rulePriority': 1, 'selection': {'tagStatus': 'tagged', 'tagPatternList': ['latest', 'prod', 'stable'],\n"
            "     'countType': 'imageCountMoreThan', 'countNumber': 10000}, 'action': {'type': 'expire'}},\n"
            "    {'rulePriority': 2, 'selection': {'tagStatus': 'any', 'countType': 'imageCountMoreThan',\n"
            "     'countNumber': 3}, 'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/api', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q5.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        repo = _repo(lab)
        if not repo.lifecycle_policy_text:
            raise NotAttempted("`shop/api` has no lifecycle policy yet.")
        now = lab.clock.now()
        everything = list(repo.images.values())
        expired = evaluate_lifecycle_policy(
            parse_lifecycle_policy(repo.lifecycle_policy_text), everything, now
        ).expired_digests()
        newest = sorted(everything, key=lambda i: (i.pushed_at, i.sequence), reverse=True)[:3]
        keep = {i.digest for i in newest} | {i.digest for i in everything if set(i.tags) & set(PROTECTED)}
        for image in everything:
            shown = ", ".join(t for t in image.tags if not t.startswith("git-")) or image.digest[:19]
            if image.digest in keep and image.digest in expired:
                raise Incorrect(
                    f"the policy would expire {shown}, which is among the newest 3 or carries a tag in use."
                )
            if image.digest not in keep and image.digest not in expired:
                raise Incorrect(f"the policy would keep {shown}: only the newest 3 and the tags in use should stay.")
        return f"it would expire {len(expired)} old release(s) and keep {len(keep)}, tags in use included."


q1 = Immutable()
q2 = Retag()
q3 = DeployedThen()
q4 = Rollback()
q5 = KeepLastN()

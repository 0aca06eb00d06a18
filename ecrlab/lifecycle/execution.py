"""Running a saved lifecycle policy: images really deleted, ``lastEvaluatedAt`` moved, CloudTrail told.

Real ECR evaluates a repository's policy about once a day and expires "within 24 hours". The lab
does it on the lab clock: every time ``lab.clock.advance(...)`` carries the clock past midnight UTC
(lab time), each repository with a saved policy is evaluated *at that midnight*, once per midnight
crossed, in order. :func:`run_now` runs a policy on demand at the current lab time.

Each run that expires images is published on the engine's event stream: an ``ImageDeleted`` per image
and one ``LifecyclePolicyExecuted``, which the lab's trail records as ECR's ``PolicyExecutionEvent``
service events. A run that expires nothing changes only ``lastEvaluatedAt``: CloudTrail has no image
action to report.

``transition`` rules move the images they mark to the archive (``lastArchivedAt`` set, no ImageDeleted);
the run's ``PolicyExecutionEvent`` lists them with the rule that archived them.

``sinceImagePulled`` rules read each image's last recorded pull, which :func:`track_pulls` keeps from
the ``ImagePulled`` events of both planes, as ECR records ``lastRecordedPullTime``: not on every pull but
at least once every 24 hours (API reference, ``ImageDetail``): a pull less than :data:`PULL_TIME_REFRESH`
after the recorded one leaves it as it is (inferred: the smallest refresh the documented "at least once
every 24 hours" allows, so a daily pull shows its exact time and an hourly one does not), and a pull by a
principal on the registry's pull-time update exclusion list never moves it.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

from ecrlab.ecr.archive import archive_image
from ecrlab.ecr.events import ImageDeleted, ImagePulled, LifecyclePolicyExecuted
from ecrlab.lifecycle.evaluation import Evaluation, bulk_allocation, evaluate_lifecycle_policy
from ecrlab.lifecycle.exclusions import excluded
from ecrlab.lifecycle.policy import LifecyclePolicy, parse_lifecycle_policy

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine
    from ecrlab.ecr.model import ImageRecord, Repository

__all__ = ["PULL_TIME_REFRESH", "LabFace", "attach", "daily_runs", "run_now", "run_policy", "track_pulls"]

#: A pull this soon after the recorded one does not move ``lastRecordedPullTime``.
PULL_TIME_REFRESH = timedelta(hours=24)


class LabFace(Protocol):
    """What :func:`run_now` needs of a lab (an ``ecrlab.Lab``): lifecycle sits below the lab's layer."""

    engine: Engine
    account_id: str
    region: str


log = logging.getLogger(__name__)
_COUNT_TYPE_WORDS = {
    "imageCountMoreThan": "Image count more than",
    "sinceImagePushed": "Since image pushed",
    "sinceImagePulled": "Since image pulled",
    "sinceImageTransitioned": "Since image transitioned",
}


def delete_image(repo: Repository, image: ImageRecord) -> None:
    """Remove an expired image and every tag on it, as BatchDeleteImage would."""
    repo.images.pop(image.digest, None)
    for tag in image.tags:
        if repo.image_tags.get(tag) == image.digest:
            del repo.image_tags[tag]


def _millis(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1000)


def _policy_details(policy: LifecyclePolicy, repo: Repository, last_evaluated: datetime | None) -> dict[str, Any]:
    rules = []
    for rule in policy.rules:
        selection: dict[str, Any] = {
            "tagStatus": rule.tag_status.capitalize(),
            "tagPrefixList": list(rule.tag_prefixes),
            "countType": _COUNT_TYPE_WORDS[rule.count_type],
            "countNumber": rule.count_number,
        }
        if rule.tag_patterns:
            selection["tagPatternList"] = list(rule.tag_patterns)
        if rule.count_unit:
            selection["countUnit"] = rule.count_unit
        if rule.storage_class_given:
            selection["storageClass"] = rule.storage_class
        rules.append(
            {
                "rulePriority": rule.priority,
                "description": rule.description,
                "lifecycleEventSelection": selection,
                "action": rule.action,
            }
        )
    return {
        "lifecycleEventRules": rules,
        "lastEvaluatedAt": _millis(last_evaluated),
        "policyVersion": repo.lifecycle_policy_version or 1,
        "policyId": repo.lifecycle_policy_id,
    }


def _publish(
    engine: Engine, repo: Repository, policy: LifecyclePolicy, evaluation: Evaluation, last_evaluated: datetime | None
) -> None:
    """Tell the event stream: each expired image as an ImageDeleted, and the run as ECR's service event."""
    actions = []
    expired = {image.digest for image, _ in evaluation.expired_images()}
    for image, priority in evaluation.expired_images() + evaluation.transitioned_images():
        if image.digest in expired:
            engine.events.enqueue(
                ImageDeleted(
                    repo.account, repo.region, evaluation.at, repo.name, image.digest, tuple(image.tags), "lifecycle"
                )
            )
        actions.append(
            {
                "lifecycleEventImage": {
                    "digest": image.digest,
                    "tagStatus": "Tagged" if image.tags else "Untagged",
                    "tagList": list(image.tags[:100]),  # ECR includes at most 100 tags per image
                    "pushedAt": _millis(image.pushed_at),
                },
                "rulePriority": priority,
            }
        )
    engine.events.enqueue(
        LifecyclePolicyExecuted(
            repo.account,
            repo.region,
            evaluation.at,
            repository=repo.name,
            repository_arn=repo.arn,
            policy=_policy_details(policy, repo, last_evaluated),
            actions=tuple(actions),
        )
    )


def run_policy(engine: Engine, repo: Repository, at: datetime) -> Evaluation | None:
    """Evaluate the repository's saved policy at ``at`` and carry it out; None if it has no policy."""
    with engine.lock:
        if repo.lifecycle_policy_text is None:
            return None
        policy = parse_lifecycle_policy(repo.lifecycle_policy_text)
        with bulk_allocation():
            evaluation = evaluate_lifecycle_policy(policy, list(repo.images.values()), at)
            for image, _ in evaluation.expired_images():
                delete_image(repo, image)
            for image, _ in evaluation.transitioned_images():
                archive_image(image, at)
        last = repo.lifecycle_evaluated_at
        repo.lifecycle_evaluated_at = at
        if evaluation.expired:
            _publish(engine, repo, policy, evaluation, last)
    engine.events.deliver()
    return evaluation


def daily_runs(before: datetime, after: datetime) -> list[datetime]:
    """The midnights (UTC) in ``(before, after]``: when the lab's daily evaluations happen."""
    day = before.astimezone(timezone.utc).date() + timedelta(days=1)
    out = []
    while (moment := datetime.combine(day, time(0), tzinfo=timezone.utc)) <= after:
        out.append(moment)
        day += timedelta(days=1)
    return out


def track_pulls(engine: Engine) -> None:
    """Record each image's last pull time from the event stream (what ``sinceImagePulled`` reads)."""

    def on_pull(event: ImagePulled) -> None:
        with engine.lock:
            registry = engine.registry(event.account, event.region)
            if excluded(registry, event.principal):
                return
            repo = registry.repositories.get(event.repository)
            image = repo.images.get(event.digest) if repo is not None else None
            if image is not None and (
                image.last_pulled_at is None or event.time - image.last_pulled_at >= PULL_TIME_REFRESH
            ):
                image.last_pulled_at = event.time

    engine.events.subscribe(on_pull, ImagePulled)


def attach(engine: Engine) -> None:
    """Run every saved policy at each daily evaluation the lab clock passes, and track pull times."""
    track_pulls(engine)

    def on_advance(before: datetime, after: datetime) -> None:
        for moment in daily_runs(before, after):
            with engine.lock:
                for registry in list(engine.registries.values()):
                    for repo in list(registry.repositories.values()):
                        _run_isolated(engine, repo, moment)

    engine.clock.on_advance(on_advance)


def _run_isolated(engine: Engine, repo: Repository, at: datetime) -> None:
    """One repository's daily run: a failure is logged and stops neither the clock nor any other
    repository's policy (in ECR each repository's evaluation is its own)."""
    try:
        run_policy(engine, repo, at)
    except Exception:
        log.exception("lifecycle policy of repository %s (registry %s) failed at %s", repo.name, repo.account, at)


def run_now(lab: LabFace, repository_name: str, registry_id: str | None = None) -> Evaluation | None:
    """Run a repository's saved policy now (lab time), as the daily evaluation would."""
    engine = lab.engine
    repo = engine.repository(registry_id or lab.account_id, lab.region, repository_name)
    return run_policy(engine, repo, engine.clock.stamp())

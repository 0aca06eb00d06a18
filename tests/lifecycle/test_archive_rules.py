"""Lifecycle rules of the archive family: ``transition`` to the archive, ``sinceImageTransitioned`` expiry after
the 90-day minimum, storage classes evaluated apart, and previews that show both actions."""

from __future__ import annotations

from ecrlab.lifecycle import run_now
from tests.lifecycle.lifecycle_support import policy, preview, rule


def transition(r: dict) -> dict:
    return {**r, "action": {"type": "transition", "targetStorageClass": "archive"}}


ARCHIVE_THEN_EXPIRE = policy(
    transition(rule(1, "tagged", "imageCountMoreThan", 2, tagPatternList=["v*"])),
    rule(2, "any", "sinceImageTransitioned", 90, storageClass="archive"),
)


def test_transition_archives_what_it_marks_and_preview_says_so(lab, ecr, repo, images):
    made = images(v1=(["v1"], 40), v2=(["v2"], 30), v3=(["v3"], 20), v4=(["v4"], 10))
    result = preview(ecr, ARCHIVE_THEN_EXPIRE)
    shown = {
        r["imageDigest"]: (r["action"], r["storageClass"], r["appliedRulePriority"]) for r in result["previewResults"]
    }
    archive = ({"type": "TRANSITION", "targetStorageClass": "ARCHIVE"}, "STANDARD", 1)
    assert shown == {made["v1"].digest: archive, made["v2"].digest: archive}
    assert result["summary"] == {
        "expiringImageTotalCount": 0,
        "transitioningImageTotalCounts": [{"targetStorageClass": "ARCHIVE", "imageTotalCount": 2}],
    }

    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=ARCHIVE_THEN_EXPIRE)
    run_now(lab, "app")
    statuses = {
        d["imageTags"][0]: d
        for d in ecr.describe_images(repositoryName="app", filter={"imageStatus": "ANY"})["imageDetails"]
    }
    assert {t: d["imageStatus"] for t, d in statuses.items()} == {
        "v1": "ARCHIVED",
        "v2": "ARCHIVED",
        "v3": "ACTIVE",
        "v4": "ACTIVE",
    }
    assert statuses["v1"]["lastArchivedAt"] and "lastArchivedAt" not in statuses["v3"]
    # archived images no longer count for the standard rules: the next run archives nothing more
    run_now(lab, "app")
    assert len(ecr.describe_images(repositoryName="app")["imageDetails"]) == 2

    # the archive rule expires them only once they have been archived for more than 90 days
    lab.clock.advance(days=89)
    assert len(ecr.describe_images(repositoryName="app", filter={"imageStatus": "ARCHIVED"})["imageDetails"]) == 2
    lab.clock.advance(days=2)
    assert ecr.describe_images(repositoryName="app", filter={"imageStatus": "ARCHIVED"})["imageDetails"] == []
    assert len(ecr.describe_images(repositoryName="app")["imageDetails"]) == 2
    executed = [r for r in lab.trail.records if r.get("eventName") == "PolicyExecutionEvent"]
    assert len(executed) == 2  # the run that archived, and the one that expired 91 days later
    rules = executed[0]["serviceEventDetails"]["lifecycleEventPolicy"]["lifecycleEventRules"]
    assert [r["action"] for r in rules] == ["transition", "expire"]


def test_sinceimagepulled_counts_from_the_last_restore(lab, ecr, repo, images):
    made = images(old=(["old"], 200, 150))
    image = made["old"]
    image.status, image.last_archived_at = "ARCHIVED", lab.clock.now()
    text = policy(transition(rule(1, "any", "sinceImagePulled", 30)))
    assert preview(ecr, text)["previewResults"] == []  # archived: the standard rules do not see it
    image.status, image.last_activated_at = "ACTIVE", lab.clock.now()
    assert preview(ecr, text)["previewResults"] == []  # restored today: not "unpulled for 30 days"
    lab.clock.advance(days=31)
    assert [r["imageDigest"] for r in preview(ecr, text)["previewResults"]] == [image.digest]

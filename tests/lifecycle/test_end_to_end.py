"""Lifecycle policies over images pushed and pulled through the sandbox's real registry."""

from __future__ import annotations

import pytest

from ecrlab.errors import RegistryClientError
from ecrlab.images import RegistryClient
from tests.images.random_images import random_image
from tests.lifecycle.lifecycle_support import policy, preview, rule


class Registry:
    """Logs in afresh for each request: ECR tokens last 12 hours and these tests travel in time."""

    def __init__(self, lab) -> None:
        self.lab = lab

    def _client(self) -> RegistryClient:
        return RegistryClient.for_lab(self.lab)

    def push(self, name: str, tag: str | None) -> str:
        client = self._client()
        try:
            return client.push(random_image(layers=0, shared=[name.encode()]), "app", tag).digest
        finally:
            client.close()

    def get_manifest(self, reference: str) -> bytes:
        client = self._client()
        try:
            return client.get_manifest("app", reference)[0]
        finally:
            client.close()


@pytest.fixture
def registry(lab, ecr):
    ecr.create_repository(repositoryName="app")
    return Registry(lab)


def test_keep_last_three_releases_and_drop_untagged_after_a_week(lab, ecr, registry):
    digests = {}
    for n in range(1, 7):
        digests[f"v{n}"] = registry.push(f"release {n}", f"v{n}")
        digests[f"build{n}"] = registry.push(f"build {n}", None)
        lab.clock.advance(days=2)  # no policy yet: the daily runs have nothing to do
    text = policy(
        rule(1, "tagged", "imageCountMoreThan", 3, tagPatternList=["v*"]),
        rule(2, "untagged", "sinceImagePushed", 7),
    )
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    previewed = {r["imageDigest"]: r["appliedRulePriority"] for r in preview(ecr)["previewResults"]}
    expected = {digests[f"v{n}"]: 1 for n in (1, 2, 3)} | {digests[f"build{n}"]: 2 for n in (1, 2, 3)}
    assert previewed == expected
    lab.clock.advance(hours=15)  # 09:00 to 00:00 the next day: the saved policy runs at midnight
    described = ecr.describe_images(repositoryName="app")["imageDetails"]
    left = {d["imageDigest"] for d in described}
    assert left == set(digests.values()) - set(expected)
    assert sorted(t for d in described for t in d.get("imageTags", [])) == ["v4", "v5", "v6"]
    event = next(e for e in lab.trail.records if e["eventName"] == "PolicyExecutionEvent")
    assert {
        a["lifecycleEventImage"]["digest"] for a in event["serviceEventDetails"]["lifecycleEventImageActions"]
    } <= set(expected)
    with pytest.raises(RegistryClientError) as gone:
        registry.get_manifest("v1")  # gone from the data plane too
    assert gone.value.status == 404 and gone.value.code == "MANIFEST_UNKNOWN"


def test_since_image_pulled_follows_real_pulls(lab, ecr, registry):
    old = registry.push("old but used", "used")
    unused = registry.push("old and unused", "unused")
    lab.clock.advance(days=20)
    registry.get_manifest("used")  # a pull through the registry records lastRecordedPullTime
    pulled = {
        d["imageDigest"]: d.get("lastRecordedPullTime")
        for d in ecr.describe_images(repositoryName="app")["imageDetails"]
    }
    assert pulled[old] is not None and pulled[unused] is None
    text = policy(rule(1, "tagged", "sinceImagePulled", 10, tagPatternList=["*"]))
    result = preview(ecr, text)
    assert [r["imageDigest"] for r in result["previewResults"]] == [unused]

"""ECR's EventBridge events on moto's default bus, delivered by rules to SQS with the real envelope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any, ClassVar

from ecrlab.ecr.events import Event
from ecrlab.images import ImageBuilder
from ecrlab.images import RegistryClient as ImagesClient
from tests.images.random_images import random_image
from tests.lifecycle.lifecycle_support import policy, rule
from tests.monitoring.conftest import drain, queue_behind_rule

IMAGE_ACTIONS = {"source": ["aws.ecr"], "detail-type": ["ECR Image Action"]}


def test_push_event_has_the_real_envelope(lab, registry, repo):
    url = queue_behind_rule(lab, IMAGE_ACTIONS)
    digest = registry.push(random_image(), repo, "v1").digest
    (event,) = drain(lab, url)
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["version"] == "0" and event["detail-type"] == "ECR Image Action" and event["source"] == "aws.ecr"
    assert event["account"] == "123456789012" and event["region"] == "us-east-1" and event["resources"] == []
    pushed = lab.client("ecr").describe_images(repositoryName=repo)["imageDetails"][0]["imagePushedAt"]
    assert event["time"] == pushed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["detail"] == {
        "result": "SUCCESS",
        "repository-name": repo,
        "image-digest": digest,
        "action-type": "PUSH",
        "image-tag": "v1",
    }


def test_events_arrive_in_order_once_each(lab, ecr, registry, repo):
    url = queue_behind_rule(lab, IMAGE_ACTIONS)
    first = registry.push(random_image(), repo, "v1").digest
    second = registry.push(random_image(), repo, "v2").digest
    ecr.put_image(repositoryName=repo, imageManifest=registry.get_manifest(repo, "v1")[0].decode(), imageTag="stable")
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v2"}])
    seen = [
        (e["detail"]["action-type"], e["detail"]["image-digest"], e["detail"].get("image-tag")) for e in drain(lab, url)
    ]
    assert seen == [("PUSH", first, "v1"), ("PUSH", second, "v2"), ("PUSH", first, "stable"), ("DELETE", second, "v2")]


def test_a_pattern_on_the_detail_filters(lab, registry, repo):
    url = queue_behind_rule(lab, {**IMAGE_ACTIONS, "detail": {"action-type": ["DELETE"]}}, name="deletes")
    registry.push(random_image(), repo, "v1")
    assert drain(lab, url) == []
    lab.client("ecr").batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    assert [e["detail"]["action-type"] for e in drain(lab, url)] == ["DELETE"]


def test_lifecycle_expiries_are_not_eventbridge_events(lab, ecr, registry, repo):
    for _ in range(3):
        registry.push(random_image(layer_size=16), repo)
    url = queue_behind_rule(lab, {"source": ["aws.ecr"]})
    ecr.put_lifecycle_policy(
        repositoryName=repo, lifecyclePolicyText=policy(rule(1, "untagged", "imageCountMoreThan", 1))
    )
    lab.clock.advance(days=1)
    assert len(ecr.list_images(repositoryName=repo)["imageIds"]) == 1  # two expired...
    assert drain(lab, url) == []  # ...and only CloudTrail knows


@dataclass(frozen=True)
class _ScanDone(Event):
    """A feature's event following the convention: ``detail_type`` and ``to_eventbridge()``."""

    detail_type: ClassVar[str] = "ECR Image Scan"
    repository: str
    digest: str

    def to_eventbridge(self) -> tuple[dict[str, Any], list[str]]:
        arn = f"arn:aws:ecr:{self.region}:{self.account}:repository/{self.repository}"
        return {"scan-status": "COMPLETE", "repository-name": self.repository, "image-digest": self.digest}, [arn]


def test_other_features_events_reach_the_bus_by_convention(lab, repo):
    url = queue_behind_rule(lab, {"source": ["aws.ecr"], "detail-type": ["ECR Image Scan"]}, name="scans")
    lab.engine.events.publish(_ScanDone("123456789012", "us-east-1", lab.clock.now(), repo, "sha256:" + "a" * 64))
    (event,) = drain(lab, url)
    assert event["detail"]["scan-status"] == "COMPLETE"
    assert event["resources"] == [f"arn:aws:ecr:us-east-1:123456789012:repository/{repo}"]
    assert lab.monitoring.eventbridge.sent[-1][3] == "ECR Image Scan"


def test_the_cli_sees_the_rule_and_the_queue(lab, registry, repo):
    url = queue_behind_rule(lab, IMAGE_ACTIONS)
    registry.push(random_image(), repo, "v1")
    rules = lab.aws("events list-rules")
    assert rules.ok and "ecr-events" in rules.stdout
    received = lab.aws(f"sqs receive-message --queue-url {url}")
    assert received.ok, received.stderr
    assert '\\"ECR Image Action\\"' in received.stdout or "ECR Image Action" in received.stdout


def test_a_scan_on_push_reaches_the_bus_as_ecr_image_scan(lab, ecr):
    ecr.create_repository(repositoryName="scanned/app", imageScanningConfiguration={"scanOnPush": True})
    url = queue_behind_rule(lab, {"source": ["aws.ecr"], "detail-type": ["ECR Image Scan"]}, name="scans")
    image = ImageBuilder().copy_bytes(b"scan me", "/app/data.txt").build()  # real tar layers, as a scanner reads
    with ImagesClient.for_lab(lab) as client:
        digest = client.push(image, "scanned/app", "v1").digest
    lab.clock.advance(minutes=10)  # scans take time on the lab clock
    (event,) = drain(lab, url)
    assert event["resources"] == ["arn:aws:ecr:us-east-1:123456789012:repository/scanned/app"]
    detail = event["detail"]
    assert (detail["repository-name"], detail["image-digest"], detail["image-tags"]) == ("scanned/app", digest, ["v1"])
    assert (
        detail["scan-status"]
        == ecr.describe_image_scan_findings(repositoryName="scanned/app", imageId={"imageDigest": digest})[
            "imageScanStatus"
        ]["status"]
    )
    assert isinstance(detail["finding-severity-counts"], dict)

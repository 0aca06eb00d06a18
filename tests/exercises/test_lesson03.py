"""Lesson 03's checks look at the lab's ECR and tell plausible wrong answers apart from right ones."""

from __future__ import annotations

from ecrlab import images
from ecrlab.exercises import lesson03 as ex
from ecrlab.images import RegistryClient


def _app(content: bytes = b"my app\n") -> images.Image:
    return images.ImageBuilder(images.base_image("alpine:3.20.3")).copy_bytes(content, ex.APP_FILE).build()


def test_q1_wants_the_asked_image_under_v1(lab, ecr):
    assert ex.q1.evaluate().kind == "not-attempted"
    ecr.create_repository(repositoryName="lesson03/app")
    with RegistryClient.for_lab(lab) as client:
        client.push(_app(), "lesson03/app", "latest")
        assert "no `v1`" in ex.q1.evaluate().text
        client.push(images.ImageBuilder().copy_bytes(b"x", ex.APP_FILE).build(), "lesson03/app", "v1")
        assert "alpine:3.20.3" in ex.q1.evaluate().text
        client.push(images.ImageBuilder(images.base_image("alpine:3.20.3")).label(a="b").build(), "lesson03/app", "v1")
        assert ex.APP_FILE in ex.q1.evaluate().text
        client.push(_app(), "lesson03/app", "v1")
    assert ex.q1.evaluate().correct


def test_q2_tells_ecrs_digest_from_the_local_one(lab, ecr):
    ecr.create_repository(repositoryName="lesson03/team")
    mine = ex.my_build()
    with RegistryClient.for_lab(lab) as client:
        client.push(mine, "lesson03/team", "latest")
    ex.teammate_pushes(lab)
    now = ecr.describe_images(repositoryName="lesson03/team", imageIds=[{"imageTag": "latest"}])["imageDetails"][0]
    assert now["imageDigest"] != mine.digest
    assert "local build" in ex.q2.evaluate(mine.digest).text
    assert "sha256:" in ex.q2.evaluate(now["imageDigest"].split(":")[1]).text
    assert ex.q2.evaluate(now["imageDigest"]).correct


def test_q3_and_q4(lab, ecr):
    for name in ("lesson03/app", "lesson03/copy"):
        ecr.create_repository(repositoryName=name)
    with RegistryClient.for_lab(lab) as client:
        client.push(_app(), "lesson03/app", "v1")
        ecr.put_image_tag_mutability(
            repositoryName="lesson03/app",
            imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "v*"}],
        )
        assert ex.q3.evaluate().kind == "incorrect"
        ecr.put_image_tag_mutability(repositoryName="lesson03/app", imageTagMutability="IMMUTABLE")
        assert ex.q3.evaluate().correct
        client.push(images.ImageBuilder(_app()).label(rebuilt="yes").build(), "lesson03/copy", "v1")
        assert "another digest" in ex.q4.evaluate().text
        client.push(client.pull("lesson03/app", "v1"), "lesson03/copy", "v1")
    assert ex.q4.evaluate().correct

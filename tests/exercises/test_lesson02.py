"""Lesson 02's checks: computed digests, built images, and what is really in the lab's ECR."""

from __future__ import annotations

import hashlib

from ecrlab import images
from ecrlab.exercises import lesson02 as ex
from ecrlab.images import RegistryClient


def test_q1_digest(lab):
    base = images.base_image("alpine:3.18.0")
    assert ex.q1.evaluate().kind == "not-attempted"
    assert ex.q1.evaluate("sha256:" + hashlib.sha256(base.manifest).hexdigest()).correct
    assert "sha256:" in ex.q1.evaluate(hashlib.sha256(base.manifest).hexdigest()).text
    assert "config" in ex.q1.evaluate(base.config.digest).text
    assert "layer" in ex.q1.evaluate(base.layers[0].digest).text
    assert ex.q1.evaluate("sha256:" + "0" * 64).kind == "incorrect"


def test_q2_image(lab):
    base = images.base_image("alpine:3.18.9")
    right = images.ImageBuilder(base).copy_bytes(b"hello\n", "/app/hello.txt").label(team="web").build()
    assert ex.q2.evaluate(right).correct
    wrong_base = (
        images.ImageBuilder(images.base_image("alpine:3.20.3"))
        .copy_bytes(b"hello\n", "/app/hello.txt")
        .label(team="web")
        .build()
    )
    assert "alpine:3.18.9" in ex.q2.evaluate(wrong_base).text
    no_label = images.ImageBuilder(base).copy_bytes(b"hello\n", "/app/hello.txt").build()
    assert "team=web" in ex.q2.evaluate(no_label).text
    wrong_text = images.ImageBuilder(base).copy_bytes(b"hi", "/app/hello.txt").label(team="web").build()
    assert "b'hi'" in ex.q2.evaluate(wrong_text).text
    assert ex.q2.evaluate("an image").kind == "incorrect"


def test_q3_q4_solutions_pass_and_states_are_checked(lab):
    assert ex.q3.evaluate().kind == "not-attempted"
    ecr = lab.client("ecr")
    ecr.create_repository(repositoryName="lesson02/hello")
    assert ex.q3.evaluate().kind == "not-attempted"
    RegistryClient.for_lab(lab).push(images.ImageBuilder().copy_bytes(b"x", "/x").build(), "lesson02/hello", "v1")
    assert ex.q3.evaluate().kind == "incorrect"
    hello = (
        images.ImageBuilder(images.base_image("alpine:3.18.9"))
        .copy_bytes(b"hello\n", "/app/hello.txt")
        .label(team="web")
        .build()
    )
    RegistryClient.for_lab(lab).push(hello, "lesson02/hello", "v1")
    assert ex.q3.evaluate().correct

    assert ex.q4.evaluate().kind == "not-attempted"
    ecr.create_repository(repositoryName="lesson02/multi")
    per_platform = [
        images.ImageBuilder(platform=p).copy_bytes(p.encode(), "/platform.txt").build()
        for p in ("linux/amd64", "linux/arm64")
    ]
    RegistryClient.for_lab(lab).push(images.build_index(per_platform), "lesson02/multi", "latest")
    assert ex.q4.evaluate().correct
    RegistryClient.for_lab(lab).push(images.ImageBuilder().copy_bytes(b"x", "/x").build(), "lesson02/multi", "latest")
    assert "single image" in ex.q4.evaluate().text

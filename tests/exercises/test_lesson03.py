"""Lesson 03's checks look at the lab's ECR; each solution passes its own check."""

from __future__ import annotations

from ecrlab import images
from ecrlab.exercises import lesson03 as ex
from ecrlab.images import RegistryClient, TextProgress


def _run(code: str, lab, **names) -> dict:
    namespace = {
        "images": images,
        "RegistryClient": RegistryClient,
        "lab": lab,
        "ecr": lab.client("ecr"),
        "default_progress": TextProgress,
        **names,
    }
    exec("\n".join(line for line in code.splitlines() if ".check(" not in line), namespace)  # noqa: S102 (runs the solution text shown to learners)
    return namespace


def test_solutions_in_order(lab):
    for problem in (ex.q1, ex.q3, ex.q4):
        assert problem.evaluate().kind == "not-attempted"
    _run(ex.q1.solution_code, lab)
    assert ex.q1.evaluate().correct

    namespace = _run(ex.q2.solution_code, lab)
    digest = namespace["details"][0]["imageDigest"]
    assert ex.q2.evaluate(digest).correct
    assert "sha256:" in ex.q2.evaluate(digest.split(":")[1]).text
    assert ex.q2.evaluate("sha256:" + "0" * 64).kind == "incorrect"

    assert ex.q3.evaluate().kind == "incorrect"
    _run(ex.q3.solution_code, lab)
    assert ex.q3.evaluate().correct

    _run(ex.q4.solution_code, lab)
    assert ex.q4.evaluate().correct


def test_q4_rejects_a_rebuilt_copy(lab):
    ecr = lab.client("ecr")
    client = RegistryClient.for_lab(lab)
    for name in ("lesson03/app", "lesson03/copy"):
        ecr.create_repository(repositoryName=name)
    client.push(images.ImageBuilder().copy_bytes(b"1", "/a").build(), "lesson03/app", "v1")
    client.push(images.ImageBuilder().copy_bytes(b"1", "/a").label(rebuilt="yes").build(), "lesson03/copy", "v1")
    assert "another digest" in ex.q4.evaluate().text

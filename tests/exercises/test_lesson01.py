"""Lesson 01's checks inspect the lab's real state."""

from __future__ import annotations

from ecrlab.exercises import lesson01 as ex


def test_q1_not_attempted_then_mutable_then_right(ecr):
    assert ex.q1.evaluate().kind == "not-attempted"
    ecr.create_repository(repositoryName="web/frontend")
    verdict = ex.q1.evaluate()
    assert verdict.kind == "incorrect" and "MUTABLE" in verdict.text
    ecr.put_image_tag_mutability(repositoryName="web/frontend", imageTagMutability="IMMUTABLE")
    assert ex.q1.evaluate().correct


def test_q1_spots_a_lookalike_name(ecr):
    ecr.create_repository(repositoryName="web-frontend", imageTagMutability="IMMUTABLE")
    verdict = ex.q1.evaluate()
    assert verdict.kind == "incorrect" and "`web-frontend`" in verdict.text


def test_q1_exclusions_are_not_enough(ecr):
    ecr.create_repository(
        repositoryName="web/frontend",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )
    assert ex.q1.evaluate().kind == "incorrect"


def test_q2_reads_the_repository_tags(ecr):
    assert ex.q2.evaluate().kind == "not-attempted"
    arn = ecr.create_repository(repositoryName="web/frontend")["repository"]["repositoryArn"]
    assert ex.q2.evaluate().kind == "not-attempted"
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "Team", "Value": "storefront"}])
    assert "case-sensitive" in ex.q2.evaluate().text
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "shop"}])
    assert "`shop`" in ex.q2.evaluate().text
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "storefront"}])
    assert ex.q2.evaluate().correct


def test_q3_truth_comes_from_the_engine(ecr, lab):
    accepted = [n for n in ex.CANDIDATE_NAMES if ex.accepted_by_ecr(n)]
    # cross-check the engine's verdicts against the real API
    for name in ex.CANDIDATE_NAMES:
        try:
            ecr.create_repository(repositoryName=name)
            created = True
        except Exception:
            created = False
        assert created == (name in accepted), name
    assert ex.q3.evaluate(accepted).correct
    assert sorted(accepted) == ["ab", "my-repository", "team/app", "web.frontend"]


def test_q3_feedback(lab):
    assert "uppercase" in ex.q3.evaluate(["MyRepository", "ab", "my-repository", "team/app", "web.frontend"]).text
    assert "left out `web.frontend`" in ex.q3.evaluate(["ab", "my-repository", "team/app"]).text
    assert "not among" in ex.q3.evaluate(["nope"]).text
    assert "list of names" in ex.q3.evaluate("ab").text


def test_q4_needs_a_recorded_delete(ecr, lab):
    assert ex.q4.evaluate().kind == "incorrect"  # never created, never deleted
    ecr.create_repository(repositoryName="old/service")
    assert ex.q4.evaluate().kind == "not-attempted"
    ecr.delete_repository(repositoryName="old/service")
    verdict = ex.q4.evaluate()
    assert verdict.correct and "2026-01-05T09:00:" in verdict.text

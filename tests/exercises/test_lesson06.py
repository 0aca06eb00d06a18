"""Lesson 06's exercises outside the notebook: the reset, and checks that judge behaviour, not text."""

from __future__ import annotations

from ecrlab.exercises import lesson06


def _rule(*filters: str) -> list[dict]:
    return [
        {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters],
        }
    ]


def test_reset_also_puts_the_registry_back_on_basic_scanning_without_rules(lab, ecr):
    ecr.create_repository(repositoryName="prod-api")
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=_rule("prod-*"))
    summary = lesson06.reset(lab)
    assert summary.startswith("lab reset: 1 repositories")
    assert ecr.get_registry_scanning_configuration()["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}
    assert ecr.describe_repositories()["repositories"] == []


def test_team_filter_is_judged_by_the_repositories_it_scans(lab, ecr):
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=_rule("team-*"))
    assert lesson06.q1.evaluate().correct
    # Two filters that together scan exactly the team- repositories are right too.
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=_rule("team-a*", "team-*"))
    assert lesson06.q1.evaluate().correct
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=_rule("team"))
    verdict = lesson06.q1.evaluate()
    assert verdict.kind == "incorrect" and "steam-engine" in verdict.text
    # The deprecated repository setting still scans on push: the check looks at real repositories too.
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=_rule("team-*"))
    ecr.create_repository(repositoryName="legacy", imageScanningConfiguration={"scanOnPush": True})
    verdict = lesson06.q1.evaluate()
    assert verdict.kind == "incorrect" and "legacy" in verdict.text


def test_gate_and_base_image_answers_are_checked_against_the_data(lab):
    assert lesson06.q2.evaluate("not a function").kind == "incorrect"
    assert lesson06.q2.evaluate(lambda repository, tag: True).kind == "not-attempted"  # no ci/app yet
    assert lesson06.q3.evaluate("alpine:9.9").kind == "incorrect"
    from ecrlab import images
    from ecrlab.scanning import Scanner

    scanner = Scanner()
    clean = [
        n
        for n in images.BASE_IMAGES
        if set(scanner.scan(images.base_image(n).layers, enhanced=False).counts) <= {"LOW"}
    ]
    assert lesson06.q3.evaluate(clean[0]).correct
    for later in clean[1:]:
        assert lesson06.q3.evaluate(later).kind == "incorrect"

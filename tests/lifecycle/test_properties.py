"""Properties of the evaluator that must hold for any repository and any valid policy (hypothesis)."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecrlab.clock import DETERMINISTIC_START, LabClock
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.model import Repository
from ecrlab.errors import InvalidParameterException
from ecrlab.lifecycle import LifecyclePolicy, evaluate_lifecycle_policy, parse_lifecycle_policy, run_policy
from ecrlab.lifecycle.preview import start_preview
from tests.lifecycle.lifecycle_support import add_image, make_image

NOW = DETERMINISTIC_START
TAGS = ["prod-1", "prod-2", "beta-1", "beta-2", "dev", "latest", "v1.0", "v2.0-rc"]
ENTRIES = ["prod", "beta", "v", "dev", "latest", "prod*", "*-1", "v*.*", "*", "b*-*"]

image_specs = st.lists(
    st.tuples(
        st.lists(st.sampled_from(TAGS), max_size=3, unique=True),
        st.integers(min_value=0, max_value=60 * 24),  # pushed this many hours ago
        st.one_of(st.none(), st.integers(min_value=0, max_value=60 * 24)),  # pulled this many hours ago
    ),
    max_size=25,
)


@st.composite
def rules(draw, priority: int, status: str | None = None) -> dict:
    status = status or draw(st.sampled_from(["tagged", "tagged", "untagged"]))
    selection: dict = {"tagStatus": status}
    if status == "tagged":
        key = draw(st.sampled_from(["tagPrefixList", "tagPatternList"]))
        selection[key] = draw(st.lists(st.sampled_from(ENTRIES), min_size=1, max_size=2, unique=True))
    count_type = draw(st.sampled_from(["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"]))
    selection["countType"] = count_type
    if count_type != "imageCountMoreThan":
        selection["countUnit"] = "days"
    selection["countNumber"] = draw(st.integers(min_value=1, max_value=40 if count_type != "imageCountMoreThan" else 6))
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


@st.composite
def policies(draw, max_rules: int = 4) -> LifecyclePolicy:
    priorities = sorted(
        draw(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=max_rules, unique=True))
    )
    raw = [draw(rules(p)) for p in priorities[:-1]]
    raw.append(draw(rules(priorities[-1], draw(st.sampled_from(["tagged", "untagged", "any"])))))
    untagged = [r for r in raw if r["selection"]["tagStatus"] == "untagged"]
    for extra in untagged[1:]:  # ECR allows one untagged rule: make the others tagged
        extra["selection"] = {
            "tagStatus": "tagged",
            "tagPrefixList": ["v"],
            **{k: v for k, v in extra["selection"].items() if k.startswith("count")},
        }
    text = json.dumps({"rules": raw}).ljust(100)
    return parse_lifecycle_policy(text)


def repository(specs) -> Repository:
    repo = Repository("app", "123456789012", "us-east-1", NOW)
    for n, (tags, pushed_hours, pulled_hours) in enumerate(specs):
        pulled = (
            NOW - timedelta(hours=pulled_hours) if pulled_hours is not None and pulled_hours <= pushed_hours else None
        )
        add_image(
            repo,
            make_image(
                f"img-{n}",
                [t for t in tags if t not in repo.image_tags],
                NOW - timedelta(hours=pushed_hours),
                n,
                pulled,
            ),
        )
    return repo


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(image_specs, policies())
def test_an_image_is_expired_by_at_most_one_rule_and_only_by_a_rule_that_selects_it(specs, policy):
    result = evaluate_lifecycle_policy(policy, list(repository(specs).images.values()), NOW)
    for index, priority in result.expired.items():
        assert index in result.selected[priority]
        # and no higher-priority rule selects it (it would have protected it)
        assert not any(index in result.selected[r.priority] for r in policy.rules if r.priority < priority)
    digests = [image.digest for image, _ in result.expired_images()]
    assert len(digests) == len(set(digests))


@FAST
@given(image_specs, policies())
def test_preview_equals_execution(specs, policy):
    text = json.dumps({"rules": [r.as_json() for r in policy.rules]}).ljust(100)
    repo = repository(specs)
    previewed = start_preview(
        repo, text, evaluate_lifecycle_policy(parse_lifecycle_policy(text), list(repo.images.values()), NOW)
    )
    repo.lifecycle_policy_text = text
    engine = Engine(LabClock(deterministic=True), seed=1)
    executed = run_policy(engine, repo, NOW)
    assert {digest: priority for _, digest, _, priority, *_ in previewed.results} == executed.expired_digests()
    assert not set(executed.expired_digests()) & set(repo.images)  # really deleted


@FAST
@given(image_specs, policies())
def test_a_count_rule_keeps_its_newest_matching_images(specs, policy):
    result = evaluate_lifecycle_policy(policy, list(repository(specs).images.values()), NOW)
    for rule in policy.rules:
        if rule.count_type != "imageCountMoreThan":
            continue
        newest = sorted(result.selected[rule.priority])[: rule.count_number]  # indexes run newest first
        # neither this rule nor a lower one may expire them; only a higher rule can
        for index in newest:
            assert result.expired.get(index, 0) < rule.priority
        if rule == policy.rules[0]:
            kept = [i for i in result.selected[rule.priority] if i not in result.expired]
            assert len(kept) >= min(rule.count_number, len(result.selected[rule.priority]))


@FAST
@given(image_specs, policies(max_rules=3), st.data())
def test_adding_a_lower_priority_rule_never_spares_an_image(specs, policy, data):
    images = list(repository(specs).images.values())
    before = evaluate_lifecycle_policy(policy, images, NOW).expired_digests()
    last = policy.rules[-1]
    if last.tag_status == "any":
        return  # nothing may come after an "any" rule
    extra = data.draw(
        rules(last.priority + data.draw(st.integers(1, 5)), data.draw(st.sampled_from(["tagged", "any"])))
    )
    text = json.dumps({"rules": [r.as_json() for r in policy.rules] + [extra]}).ljust(100)
    try:
        bigger = parse_lifecycle_policy(text)
    except InvalidParameterException:
        return
    after = evaluate_lifecycle_policy(bigger, images, NOW).expired_digests()
    for digest, priority in before.items():
        assert after.get(digest) == priority


@FAST
@given(image_specs, st.integers(min_value=1, max_value=6))
def test_a_lone_count_rule_leaves_exactly_its_number(specs, count):
    policy = parse_lifecycle_policy(
        json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
                        "action": {"type": "expire"},
                    }
                ]
            }
        )
    )
    repo = repository(specs)
    result = evaluate_lifecycle_policy(policy, list(repo.images.values()), NOW)
    assert len(repo.images) - len(result.expired) == min(count, len(repo.images))
    survivors = {img.pushed_at for i, img in enumerate(result.images) if i not in result.expired}
    expired = {img.pushed_at for img, _ in result.expired_images()}
    assert not survivors or not expired or min(survivors) >= max(expired)  # the oldest go first


def naive_selects(rule, tags: list[str]) -> bool:
    import re

    from ecrlab.lifecycle.evaluation import pattern_regex

    if rule.tag_status == "any":
        return True
    if rule.tag_status == "untagged":
        return not tags
    prefixes = all(any(t.startswith(p) for t in tags) for p in rule.tag_prefixes)
    patterns = all(any(re.fullmatch(pattern_regex(p), t) for t in tags) for p in rule.tag_patterns)
    return bool(tags) and prefixes and patterns


@FAST
@given(image_specs, policies())
def test_tag_index_selects_what_a_plain_scan_selects(specs, policy):
    result = evaluate_lifecycle_policy(policy, list(repository(specs).images.values()), NOW)
    for rule in policy.rules:
        expected = {i for i, image in enumerate(result.images) if naive_selects(rule, image.tags)}
        assert result.selected[rule.priority] == expected

"""The lifecycle builder: form and JSON editing, errors inside the widget, a live picture of the images."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ecrlab.widgets import LifecycleBuilder
from tests.lifecycle.lifecycle_support import add_image, make_image, policy, rule


@pytest.fixture
def filled(lab, ecr):
    ecr.create_repository(repositoryName="app")
    repo = lab.engine.repository(lab.account_id, lab.region, "app")
    now = lab.clock.now()
    for n, (tags, days) in enumerate([(["v1"], 9), (["v2"], 7), (["v3"], 5), ([], 4), ([], 1)]):
        add_image(repo, make_image(f"i{n}", tags, now - timedelta(days=days), n))
    return repo


def fates(builder):
    return builder.picture.value.count("expired by rule")


def test_form_edits_update_the_picture(lab, filled):
    builder = LifecycleBuilder(lab, "app")
    assert len(builder.rules) == 1
    first = builder.rules[0]
    assert first.tag_status.value == "untagged" and first.count_number.value == 1
    assert fates(builder) == 1  # the older untagged image
    first.tag_status.value = "tagged"
    assert "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED." in builder.message.value
    assert "InvalidParameterException" in builder.message.value
    first.tag_list.value = "v*"
    assert "Valid policy" in builder.message.value
    assert fates(builder) == 2  # v1 and v2 beyond the newest one
    first.count_number.value = 2
    assert fates(builder) == 1
    assert json.loads(builder.json.value)["rules"][0]["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["v*"],
        "countType": "imageCountMoreThan",
        "countNumber": 2,
    }


def test_rules_added_and_removed(lab, filled):
    builder = LifecycleBuilder(lab, "app")
    builder.add_rule.click()
    second = builder.rules[1]
    assert second.priority.value == 2
    assert "Only one rule can select Untagged images" in builder.message.value
    second.tag_status.value = "any"
    second.count_type.value = "sinceImagePushed"
    second.count_number.value = 6
    assert "Valid policy" in builder.message.value
    assert fates(builder) == 3  # untagged i3 by rule 1; v1, v2 by rule 2
    second.remove.click()
    assert len(builder.rules) == 1 and fates(builder) == 1


def test_json_editing_and_errors_inside_the_widget(lab, filled):
    builder = LifecycleBuilder(lab, "app")
    builder.json.value = policy(
        rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["v"]), rule(2, "any", "sinceImagePushed", 3)
    )
    builder.use_json.click()
    assert [r.priority.value for r in builder.rules] == [1, 2]
    assert builder.rules[0].list_kind.value == "tagPrefixList"
    assert "expired by rule 2" in builder.picture.value and "expired by rule 1" in builder.picture.value
    builder.json.value = "{not json"
    builder.use_json.click()
    assert "InvalidParameterException" in builder.message.value and "Traceback" not in builder.message.value
    builder.json.value = policy(rule(1, "any", "imageCountMoreThan", 1), rule(2, "untagged", "imageCountMoreThan", 1))
    builder.use_json.click()
    assert "Rule for tagStatus=ANY must have the lowest priority" in builder.message.value
    builder.json.value = policy(
        {**rule(1, "any", "sinceImagePushed", 30), "action": {"type": "transition", "targetStorageClass": "archive"}}
    )
    builder.use_json.click()
    assert "expire rules only" in builder.message.value and [r.priority.value for r in builder.rules] == [1, 2]


def test_kept_images_say_why(lab, filled):
    builder = LifecycleBuilder(
        lab,
        "app",
        policy(
            rule(1, "tagged", "imageCountMoreThan", 5, tagPatternList=["v*"]),
            rule(2, "any", "imageCountMoreThan", 1),
        ),
    )
    assert "matches the selection of higher-priority rule 1" in builder.picture.value
    assert builder.picture.value.count("expired by rule 2") == 1  # only the old untagged image


def test_save_puts_the_policy_and_reports_refusals(lab, ecr, filled):
    builder = LifecycleBuilder(lab, "app")
    builder.save.click()
    assert "Saved with PutLifecyclePolicy" in builder.message.value
    assert (
        json.loads(ecr.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"])["rules"][0]["rulePriority"]
        == 1
    )
    reopened = LifecycleBuilder(lab, "app")  # starts from the saved policy
    assert len(reopened.rules) == 1
    reopened.rules[0].count_number.value = 0
    reopened.save.click()
    assert "InvalidParameterException" in reopened.message.value
    assert "repository='app'" in repr(reopened)

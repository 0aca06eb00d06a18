"""The User Guide's lifecycle examples give the User Guide's answers, through the real boto3 API."""

from __future__ import annotations

from tests.lifecycle.lifecycle_support import policy, preview, rule


def expiring(result: dict, names: dict) -> list[str]:
    by_digest = {image.digest: name for name, image in names.items()}
    return sorted(by_digest[r["imageDigest"]] for r in result["previewResults"])


def abc(images):
    return images(A=(["beta-1", "prod-1"], 10), B=(["beta-2", "prod-2"], 9), C=(["beta-3"], 8))


def test_multiple_rules_example_a_prod_first(ecr, images):
    names = abc(images)
    text = policy(
        rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["prod"]),
        rule(2, "tagged", "imageCountMoreThan", 1, tagPrefixList=["beta"]),
    )
    result = preview(ecr, text)
    # Rule 2 marks A and B, but both match rule 1's selection, so only rule 1's A goes.
    assert expiring(result, names) == ["A"]
    assert [r["appliedRulePriority"] for r in result["previewResults"]] == [1]
    assert result["summary"] == {"expiringImageTotalCount": 1}


def test_multiple_rules_example_b_beta_first(ecr, images):
    names = abc(images)
    text = policy(
        rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["beta"]),
        rule(2, "tagged", "imageCountMoreThan", 1, tagPrefixList=["prod"]),
    )
    result = preview(ecr, text)
    assert expiring(result, names) == ["A", "B"]
    assert {r["appliedRulePriority"] for r in result["previewResults"]} == {1}


def test_multiple_tags_in_one_rule_example_a(ecr, images):
    names = images(
        A=(["alpha-1"], 12),
        B=(["beta-1"], 11),
        C=(["alpha-2", "beta-2"], 10),
        D=(["alpha-3"], 4),
        E=(["beta-3"], 3),
        F=(["alpha-4", "beta-4"], 2),
    )
    text = policy(rule(1, "tagged", "sinceImagePushed", 5, tagPrefixList=["alpha", "beta"]))
    assert expiring(preview(ecr, text), names) == ["C"]


def test_multiple_tags_in_one_rule_example_b(ecr, images):
    names = images(
        A=(["alpha-1", "beta-1", "gamma-1"], 10), B=(["alpha-2", "beta-2"], 9), C=(["alpha-3", "beta-3", "gamma-2"], 8)
    )
    text = policy(rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["alpha", "beta"]))
    assert expiring(preview(ecr, text), names) == ["A", "B"]


def test_untagged_older_than_14_days(ecr, images):
    names = images(old=([], 15), edge=([], 13), new=([], 1), tagged_old=(["v1"], 30))
    text = policy(rule(1, "untagged", "sinceImagePushed", 14))
    assert expiring(preview(ecr, text), names) == ["old"]


def test_keep_only_one_untagged_image(ecr, images):
    names = images(u1=([], 5), u2=([], 4), u3=([], 3), t=(["latest"], 10))
    text = policy(rule(1, "untagged", "imageCountMoreThan", 1))
    result = preview(ecr, text)
    assert expiring(result, names) == ["u1", "u2"]
    # oldest first: the order in which ECR expires them
    assert [r["imageDigest"] for r in result["previewResults"]] == [names["u1"].digest, names["u2"].digest]


def test_pattern_list_is_anded_across_the_images_tags(ecr, images):
    names = images(
        both=(["prod-1", "web-1"], 6),
        prod_only=(["prod-2"], 5),
        one_tag_both=(["prodweb"], 4),
        both_new=(["prod-3", "web-3"], 1),
    )
    text = policy(rule(1, "tagged", "sinceImagePushed", 2, tagPatternList=["prod*", "*web*"]))
    # prod_only lacks a *web* tag; one_tag_both has one tag matching both patterns (selected too)
    assert expiring(preview(ecr, text), names) == ["both", "one_tag_both"]


def test_pattern_without_wildcard_is_exact(ecr, images):
    names = images(exact=(["latest"], 9), longer=(["latest-1"], 8))
    text = policy(rule(1, "tagged", "sinceImagePushed", 1, tagPatternList=["latest"]))
    assert expiring(preview(ecr, text), names) == ["exact"]


def test_any_rule_spares_images_a_higher_rule_selects(ecr, images):
    # the common "protect prod, cap the rest" policy
    names = images(p1=(["prod-1"], 9), p2=(["prod-2"], 8), d1=(["dev-1"], 7), d2=(["dev-2"], 6), u=([], 5))
    text = policy(
        rule(1, "tagged", "imageCountMoreThan", 9999, tagPrefixList=["prod"]),
        rule(2, "any", "imageCountMoreThan", 2),
    )
    # rule 2 counts all five (newest first: u, d2, d1, p2, p1), keeps u and d2 and marks d1, p2, p1;
    # the prod images match rule 1's selection, so only d1 goes
    assert expiring(preview(ecr, text), names) == ["d1"]

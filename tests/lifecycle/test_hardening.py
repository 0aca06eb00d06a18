"""Lifecycle rules that must never break the lab: huge day counts, one repository's failure, image indexes."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from ecrlab.ecr.model import Image
from ecrlab.lifecycle import execution
from ecrlab.lifecycle.evaluation import days_before
from ecrlab.oci import OCI_INDEX
from tests.lifecycle.lifecycle_support import add_image, make_image, policy, preview, rule

MILLION_DAYS = rule(1, "any", "sinceImagePushed", 1_000_000)


def test_a_million_days_is_accepted_and_saturates(ecr, repo, images, lab):
    images(old=(["v1"], 400), new=(["v2"], 1))
    text = policy(MILLION_DAYS)
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    lab.clock.advance(days=3)  # crosses midnights: each runs the policy
    assert {t for i in repo.images.values() for t in i.tags} == {"v1", "v2"}
    result = preview(ecr, text)
    assert result["status"] == "COMPLETE" and result["previewResults"] == []
    assert ecr.get_lifecycle_policy(repositoryName="app")["lastEvaluatedAt"].year > 1970


@pytest.mark.parametrize("days", [1_000_000, 10**12, 10**30])
def test_days_before_saturates_at_the_earliest_instant(lab, days):
    moment = days_before(lab.clock.now(), days)
    assert moment.year == 1 and moment.tzinfo is not None


def test_days_before_is_exact_when_it_can_be(lab):
    now = lab.clock.now()
    assert days_before(now, 30) == now - timedelta(days=30)


def test_one_repository_failing_does_not_stop_the_others(ecr, lab, monkeypatch, caplog):
    for name in ("aaa", "bbb", "ccc"):
        ecr.create_repository(repositoryName=name)
        ecr.put_lifecycle_policy(
            repositoryName=name, lifecyclePolicyText=policy(rule(1, "untagged", "imageCountMoreThan", 1))
        )
    real = execution.run_policy

    def broken_for_bbb(engine, repo, at):
        if repo.name == "bbb":
            raise RuntimeError("a bug in one repository's run")
        return real(engine, repo, at)

    monkeypatch.setattr(execution, "run_policy", broken_for_bbb)
    with caplog.at_level(logging.ERROR, logger="ecrlab.lifecycle.execution"):
        lab.clock.advance(days=2)
    evaluated = {n: ecr.get_lifecycle_policy(repositoryName=n)["lastEvaluatedAt"].year for n in ("aaa", "bbb", "ccc")}
    assert evaluated["aaa"] > 1970 and evaluated["ccc"] > 1970 and evaluated["bbb"] == 1970
    assert any("bbb" in record.getMessage() for record in caplog.records)


def _index(children: list[Image], name: str) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": c.media_type, "digest": c.digest, "size": len(c.manifest)} for c in children],
            "annotations": {"name": name},
        }
    ).encode()


def _add_index(repo, lab, children, tags, days, sequence) -> Image:
    raw = _index(children, "index-" + "-".join(tags or ["untagged"]))
    image = Image(
        digest="sha256:" + hashlib.sha256(raw).hexdigest(),
        manifest=raw,
        media_type=OCI_INDEX,
        pushed_at=lab.clock.now() - timedelta(days=days),
        size=0,
        tags=list(tags),
        sequence=sequence,
    )
    return add_image(repo, image)


def test_lifecycle_keeps_an_image_an_index_still_lists(ecr, repo, lab):
    # The index's children are untagged (as a multi-platform push leaves them); the index is tagged
    # and not selected by the untagged rule, so it stays and so must they.
    amd = add_image(repo, make_image("amd64", [], lab.clock.now() - timedelta(days=30), 0))
    arm = add_image(repo, make_image("arm64", [], lab.clock.now() - timedelta(days=30), 1))
    loose = add_image(repo, make_image("loose", [], lab.clock.now() - timedelta(days=30), 2))
    index = _add_index(repo, lab, [amd, arm], ["v1"], 29, 3)
    text = policy(rule(1, "untagged", "sinceImagePushed", 7))
    result = preview(ecr, text)
    assert [r["imageDigest"] for r in result["previewResults"]] == [loose.digest]
    # BatchDeleteImage refuses the same children for the same reason.
    refused = ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": amd.digest}])["failures"]
    assert refused[0]["failureCode"] == "ImageReferencedByManifestList"
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    lab.clock.advance(days=1)
    assert set(repo.images) == {amd.digest, arm.digest, index.digest}
    assert all(repo.images[d].manifest for d in parse_children(repo.images[index.digest])), (
        "every manifest the index lists is still there"
    )


def parse_children(index: Image) -> list[str]:
    return [m["digest"] for m in json.loads(index.manifest)["manifests"]]


def test_an_index_that_expires_takes_its_children_with_it(ecr, repo, lab):
    amd = add_image(repo, make_image("amd64", [], lab.clock.now() - timedelta(days=30), 0))
    _add_index(repo, lab, [amd], [], 29, 1)  # untagged too: both expire in one run
    result = preview(ecr, policy(rule(1, "untagged", "sinceImagePushed", 7)))
    assert len(result["previewResults"]) == 2


def test_put_lifecycle_policy_returns_the_stored_text(ecr, repo):
    text = policy(rule(2, "any", "imageCountMoreThan", 5), rule(1, "untagged", "sinceImagePushed", 3))
    put = ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)["lifecyclePolicyText"]
    assert put == ecr.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"]
    assert put != text and [r["rulePriority"] for r in json.loads(put)["rules"]] == [1, 2]


def test_a_deeply_nested_policy_is_refused_cleanly(ecr, repo):
    text = '{"rules": ' + "[" * 15000 + "]" * 15000 + "}"  # within the 30,720-character limit
    with pytest.raises(ClientError) as exc:
        ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

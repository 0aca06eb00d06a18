"""Lesson 04's exercises: each solution passes its own check; wrong attempts get specific feedback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ecrlab.exercises import lesson04
from ecrlab.images import RegistryClient
from tests.images.random_images import random_image


def setup_shop(lab) -> None:
    """What the notebook's setup cells do: releases and untagged builds pushed over two weeks."""
    ecr = lab.client("ecr")
    ecr.create_repository(repositoryName="shop/web")
    ecr.create_repository(repositoryName="shop/api")
    for day in range(1, 8):
        client = RegistryClient.for_lab(lab)
        client.push(random_image(layers=0, shared=[f"web release {day}".encode()]), "shop/web", f"release-1.{day}")
        client.push(random_image(layers=0, shared=[f"web build {day}".encode()]), "shop/web", None)
        client.close()
        lab.clock.advance(days=2)


def test_feedback_on_wrong_attempts(lab):
    setup_shop(lab)
    ecr = lab.client("ecr")
    assert lesson04.q1.evaluate().kind == "not-attempted"
    keep_five = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["release-"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    ecr.put_lifecycle_policy(repositoryName="shop/web", lifecyclePolicyText=json.dumps(keep_five))
    feedback = lesson04.q1.evaluate()
    assert feedback.kind == "incorrect" and "should go" in feedback.text
    assert lesson04.q3.evaluate().kind == "not-attempted"
    assert lesson04.q2.evaluate([]).correct
    assert "higher-priority" in lesson04.q2.evaluate(["A", "B"]).text
    assert lesson04.q2.evaluate(["A"]).kind == "incorrect"
    assert lesson04.q2.evaluate("AB").kind == "incorrect"
    assert lesson04.q2.evaluate(["D"]).kind == "incorrect"
    with pytest.raises(ClientError):
        ecr.put_lifecycle_policy(repositoryName="shop/api", lifecyclePolicyText=lesson04.BROKEN_POLICY)
    assert lesson04.q4.evaluate().kind == "not-attempted"


NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "04-lifecycle-policies.ipynb"
MACHINE_PATH = re.compile(r"(/tmp/|/root/|/home/|/work/|/Users/|[A-Z]:\\\\)")


def test_notebook_asks_every_question_and_is_committed_clean():
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    source = "\n".join("".join(c["source"]) for c in cells)
    assert set(re.findall(r"ex\.(q\d+)\.check\(", source)) == {n for n in lesson04.__all__ if n.startswith("q")}
    for cell in cells:
        assert cell["execution_count"] is not None
        for output in cell["outputs"]:
            assert output["output_type"] != "error" and output.get("name") != "stderr", cell["source"]
            text = json.dumps(output.get("data", output.get("text", "")))
            assert "Traceback" not in text and not MACHINE_PATH.search(text)

"""The committed lessons use their exercises as the modules define them, and their outputs are clean."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# Every lesson notebook ``NN-topic.ipynb`` has its exercises in ``ecrlab.exercises.lessonNN``.
LESSONS = {path.name: f"lesson{path.name[:2]}" for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))}
NOTEBOOK_LINK = re.compile(r"\]\(([^)#]+\.ipynb)")
MACHINE_PATH = re.compile(r"(/tmp/|/root/|/home/|/work/|/Users/|[A-Z]:\\\\)")


def cells(name: str) -> list[dict]:
    return json.loads((NOTEBOOKS / name).read_text())["cells"]


@pytest.mark.parametrize(("name", "module"), LESSONS.items())
def test_every_question_asked_exists_and_every_question_is_asked(name, module):
    source = "\n".join("".join(c["source"]) for c in cells(name) if c["cell_type"] == "code")
    assert f"lesson{module[-2:]} as ex" in source
    asked = set(re.findall(r"ex\.(q\d+)\.check\(", source))
    defined = {n for n in importlib.import_module(f"ecrlab.exercises.{module}").__all__ if re.fullmatch(r"q\d+", n)}
    assert asked == defined


@pytest.mark.parametrize("name", LESSONS)
def test_outputs_are_executed_clean_and_free_of_machine_paths(name):
    code_cells = [c for c in cells(name) if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code_cells), "commit the lesson executed"
    for cell in code_cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error", cell["source"]
            assert output.get("name") != "stderr", cell["source"]
            text = json.dumps(output.get("data", output.get("text", "")))
            assert "Traceback" not in text
            assert not MACHINE_PATH.search(text), text[:200]


def test_there_are_lessons():
    assert len(LESSONS) >= 6


@pytest.mark.parametrize("name", LESSONS)
def test_links_between_lessons_lead_somewhere(name):
    for cell in cells(name):
        if cell["cell_type"] == "markdown":
            for target in NOTEBOOK_LINK.findall("".join(cell["source"])):
                assert (NOTEBOOKS / target).is_file(), f"{name} links to missing {target}"

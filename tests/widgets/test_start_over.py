"""The Start over button: nothing happens until it is clicked; then the lesson's reset runs and says what it did."""

from __future__ import annotations

from ecrlab.exercises import lesson01
from ecrlab.widgets import StartOver


def test_click_resets_and_static_render_says_what_it_will_do(lab, ecr):
    ecr.create_repository(repositoryName="to-go")
    w = StartOver(lesson01.reset, lab)
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"].startswith("[Start over] deletes every repository")
    assert "<b>[Start over]</b>" in bundle["text/html"]
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == ["to-go"]
    w.button.click()
    assert ecr.describe_repositories()["repositories"] == []
    assert "lab reset: 1 repositories" in w.message.value

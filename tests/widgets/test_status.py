"""The status widget shows the lab's facts and follows its clock."""

from __future__ import annotations

from ecrlab.widgets import LabStatus


def test_shows_account_region_endpoints_and_clock(lab, ecr):
    ecr.create_repository(repositoryName="one")
    w = LabStatus(lab)
    facts = dict(w.rows)
    assert facts["Account"] == "123456789012"
    assert facts["Region"] == "us-east-1"
    assert facts["Registry"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert facts["API endpoint"] == lab.endpoint_url
    assert facts["Repositories"] == "1"
    assert facts["Lab clock"].startswith("2026-01-05T09:00:")
    assert lab.endpoint_url in w.panel.value


def test_follows_clock_and_refresh(lab, ecr):
    w = LabStatus(lab)
    lab.clock.advance(days=30)
    assert dict(w.rows)["Lab clock"].startswith("2026-02-04T09:00:")
    ecr.create_repository(repositoryName="two")
    w.refresh_button.click()
    assert dict(w.rows)["Repositories"] == "1"


def test_text_form_has_no_port(lab):
    w = LabStatus(lab)
    port = lab.endpoint_url.rsplit(":", 1)[1]
    assert port not in repr(w)
    assert repr(w).startswith("LabStatus(account=123456789012, region=us-east-1, lab clock=2026-01-05T09:00:00Z")


def test_after_stop_says_so(lab):
    w = LabStatus(lab)
    lab.stop()
    w.refresh_button.click()
    assert "stopped" in w.message.value


def test_repository_count_follows_the_event_stream(lab, ecr):
    from ecrlab.widgets import LabStatus

    w = LabStatus(lab)
    ecr.create_repository(repositoryName="counted")
    assert ("Repositories", "1") in w.rows
    ecr.delete_repository(repositoryName="counted")
    assert ("Repositories", "0") in w.rows

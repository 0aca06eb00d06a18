"""The repository browser, driven as a learner would: type, click, read the table and the message."""

from __future__ import annotations

import pytest

from ecrlab.errors import LabError
from ecrlab.widgets import RepositoryBrowser


def rows(widget):
    return [r["repositoryName"] for r in widget.repositories]


def test_bad_name_shows_ecrs_message_and_changes_nothing(lab, ecr):
    w = RepositoryBrowser(lab)
    w.name.value = "MyRepository"
    w.create_button.click()
    assert "InvalidParameterException" in w.message.value
    assert "repositoryName" in w.message.value
    assert ecr.describe_repositories()["repositories"] == []
    assert "No repositories yet" in w.table.value


def test_create_shows_in_table_with_settings(lab, ecr):
    w = RepositoryBrowser(lab)
    w.name.value = "web/frontend"
    w.mutability.value = "IMMUTABLE"
    w.create_button.click()
    assert "Created 123456789012.dkr.ecr.us-east-1.amazonaws.com/web/frontend" in w.message.value
    assert rows(w) == ["web/frontend"]
    assert "data-repository='web/frontend'" in w.table.value and "IMMUTABLE" in w.table.value
    assert "2026-01-05T09:00:00Z" in w.table.value
    assert w.name.value == ""
    (repo,) = ecr.describe_repositories()["repositories"]
    assert repo["imageTagMutability"] == "IMMUTABLE"


def test_duplicate_and_missing_names_show_the_service_errors(lab):
    w = RepositoryBrowser(lab)
    w.name.value = "app"
    w.create_button.click()
    w.name.value = "app"
    w.create_button.click()
    assert "RepositoryAlreadyExistsException" in w.message.value
    w.name.value = "ghost"
    w.delete_button.click()
    assert "RepositoryNotFoundException" in w.message.value
    w.name.value = "x"
    w.create_button.click()  # botocore refuses this one before sending it
    assert "min length: 2" in w.message.value


def test_delete_and_refresh_follow_changes_made_elsewhere(lab, ecr):
    w = RepositoryBrowser(lab)
    ecr.create_repository(repositoryName="made/elsewhere")
    assert rows(w) == ["made/elsewhere"]
    w.refresh_button.click()
    assert rows(w) == ["made/elsewhere"]
    w.name.value = "made/elsewhere"
    w.delete_button.click()
    assert "Deleted made/elsewhere" in w.message.value
    assert rows(w) == []


def test_repr_is_stable_text(lab, ecr):
    ecr.create_repository(repositoryName="ab")
    w = RepositoryBrowser(lab)
    assert repr(w) == "RepositoryBrowser(repositories: ab)"
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == repr(w)


def test_needs_a_running_lab():
    with pytest.raises(LabError, match="ecrlab.start"):
        RepositoryBrowser()


def test_after_the_lab_stops_the_widget_says_so(lab):
    w = RepositoryBrowser(lab)
    lab.stop()
    w.name.value = "app"
    w.create_button.click()
    assert "This lab has stopped" in w.message.value


def test_table_follows_changes_made_elsewhere(lab, ecr):
    """The table redraws from the engine's event stream: a repository created or deleted by a boto3 call
    in another cell, or in another account, is shown (or not) without pressing Refresh."""
    w = RepositoryBrowser(lab)
    ecr.create_repository(repositoryName="from-boto3")
    assert rows(w) == ["from-boto3"]
    lab.account("210987654321").client("ecr").create_repository(repositoryName="elsewhere")
    assert rows(w) == ["from-boto3"]
    ecr.delete_repository(repositoryName="from-boto3")
    assert rows(w) == []
    w.close()
    ecr.create_repository(repositoryName="after-close")
    assert rows(w) == []

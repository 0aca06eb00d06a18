"""The monitoring dashboard redraws from real pulls and pushes and answers "who pushed this image?"."""

from __future__ import annotations

from ecrlab.images import RegistryClient
from ecrlab.widgets import MonitoringDashboard
from tests.images.random_images import random_image


def test_dashboard_follows_pulls_trail_and_events(lab, registry, repo):
    board = MonitoringDashboard(lab)
    assert "No pulls yet" in board.pulls.value and "No events yet" in board.feed.value
    registry.push(random_image(), repo, "v1")
    for _ in range(3):
        registry.get_manifest(repo, "v1")
    assert "<td style='text-align:left;padding:2px 8px;white-space:nowrap'>3</td>" in board.pulls.value
    assert "BatchGetImage" in board.trail.value and "PutImage" in board.trail.value
    assert "ECR Image Action" in board.feed.value and "PUSH" in board.feed.value
    board.close()


def test_who_pushed_an_image(lab, registry, repo):
    iam = lab.client("iam")
    iam.create_user(UserName="carol")
    iam.attach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")
    carol = RegistryClient.for_lab(lab, lab.session(user="carol"))
    digest = carol.push(random_image(), repo, "v7").digest
    carol.close()
    board = MonitoringDashboard(lab)
    board.repository.value, board.image.value = repo, "v7"
    board.who_button.click()
    assert "pushed to team/app by carol (IAMUser)" in board.message.value
    board.image.value = digest
    (record,) = board.who_pushed()
    assert record["userIdentity"]["userName"] == "carol"
    board.image.value = "v8"
    board.who_button.click()
    assert "no PutImage of v8" in board.message.value
    board.close()

"""The replication map and the image timeline, driven from code as a learner's clicks would."""

from __future__ import annotations

from ecrlab.widgets import ImageTimeline, ReplicationMap
from tests.replication.helpers import allow_replication_from, client_for, image

OTHER = "210987654321"


def test_replication_map_follows_pushes_and_their_status(lab, ecr):
    ecr.create_repository(repositoryName="web")
    view = ReplicationMap(lab)
    assert "No replication configuration" in view.rules.value
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [
                {
                    "destinations": [
                        {"region": "us-west-2", "registryId": lab.account_id},
                        {"region": lab.region, "registryId": OTHER},
                    ],
                    "repositoryFilters": [{"filter": "web", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    lab.account(OTHER)
    view.refresh_button.click()
    assert "web* → 123456789012 / us-west-2, 210987654321 / us-east-1" in view.rules.value
    with client_for(lab, ecr) as client:
        pushed = client.push(image("map"), "web", "v1")
    # Redrawn by the push itself, no click needed.
    assert view.statuses() == [
        ("web", pushed.digest, lab.account_id, "us-west-2", "IN_PROGRESS"),
        ("web", pushed.digest, OTHER, lab.region, "IN_PROGRESS"),
    ]
    lab.clock.advance(minutes=1)
    assert [s[-1] for s in view.statuses()] == ["COMPLETE", "FAILED"]
    assert "FAILED (ACCESS_DENIED)" in view.table.value
    allow_replication_from(lab.account(OTHER).client("ecr"), lab.account_id)
    with client_for(lab, ecr) as client:
        client.push(image("map 2"), "web", "v2")
    lab.clock.advance(minutes=1)
    assert [s[-1] for s in view.statuses()][:2] == ["COMPLETE", "COMPLETE"]
    view.repository.value = "nope"
    view.refresh_button.click()
    assert "RepositoryNotFoundException" in view.message.value
    view.close()


def test_timeline_shows_tags_moving_and_answers_what_a_tag_named_then(lab, ecr):
    ecr.create_repository(repositoryName="app")
    with client_for(lab, ecr) as client:
        one = client.push(image("1"), "app", "latest")
    timeline = ImageTimeline("app", lab)  # history from before it was made is there too
    first_moment = lab.clock.now()
    lab.clock.advance(days=1)
    with client_for(lab, ecr) as client:  # a day later: a fresh token (they last 12 hours)
        two = client.push(image("2"), "app", "latest")
    manifest = ecr.batch_get_image(repositoryName="app", imageIds=[{"imageDigest": one.digest}])["images"][0]
    ecr.put_image(repositoryName="app", imageManifest=manifest["imageManifest"], imageTag="stable")
    assert [e.what for e in timeline.entries] == ["pushed", "moved", "pushed", "tagged"]
    assert timeline.tag_at("latest", first_moment) == one.digest
    assert timeline.tag_at("latest", lab.clock.now()) == two.digest
    assert timeline.tags_at(lab.clock.now()) == {"latest": two.digest, "stable": one.digest}
    assert f"data-digest='{one.digest}'" in timeline.grid.value
    assert timeline.current == {one.digest: ["stable"], two.digest: ["latest"]}
    ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": one.digest}])
    assert timeline.entries[-1].what == "deleted"
    assert "gone" in timeline.grid.value
    timeline.close()

"""Display helpers: UTC times, stable JSON, tables and caught AWS errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from dateutil.tz import tzlocal

from ecrlab.display import error_parts, expect_error, frame, lifecycle_chart, show, table, utc


def test_utc_converts_any_zone():
    moment = datetime(2026, 1, 5, 10, 30, tzinfo=timezone(timedelta(hours=1, minutes=30)))
    assert utc(moment) == "2026-01-05T09:00:00Z"
    assert utc(datetime(2026, 1, 5, 9, 0, 0, 250000)) == "2026-01-05T09:00:00.250Z"
    assert utc(datetime(2026, 1, 5, 9, tzinfo=timezone.utc).astimezone(tzlocal())) == "2026-01-05T09:00:00Z"
    assert utc(None) == ""


def test_show_drops_metadata_and_uses_utc(ecr):
    response = ecr.create_repository(repositoryName="team/app")
    assert "ResponseMetadata" in response
    text = str(show(response))
    assert "ResponseMetadata" not in text and "RequestId" not in text
    assert '"createdAt": "2026-01-05T09:00:00Z"' in text


def test_table_text_and_html(ecr):
    ecr.create_repository(repositoryName="bb")
    ecr.create_repository(repositoryName="a/long-name")
    t = table(ecr.describe_repositories()["repositories"], ["repositoryName", "createdAt"])
    assert str(t).splitlines() == [
        "repositoryName  createdAt",
        "--------------  --------------------",
        "a/long-name     2026-01-05T09:00:01Z",
        "bb              2026-01-05T09:00:00Z",
    ]
    assert "<td style='text-align:left'>a/long-name</td>" in t._repr_html_()
    assert str(table([], empty="nothing")) == "nothing"
    assert table([{"k": "<b>"}])._repr_html_().count("&lt;b&gt;") == 1


def test_expect_error_prints_code_and_message(ecr, capsys):
    with expect_error() as caught:
        ecr.create_repository(repositoryName="MyRepository")
    assert caught.code == "InvalidParameterException"
    assert capsys.readouterr().out.startswith("InvalidParameterException: Invalid parameter at 'repositoryName'")
    with expect_error() as nothing:
        pass
    assert not nothing and capsys.readouterr().out == "(no error)\n"


def test_expect_error_lets_bugs_through():
    with pytest.raises(KeyError), expect_error():
        {}["missing"]


def test_error_parts_of_client_error():
    exc = ClientError({"Error": {"Code": "RepositoryNotFoundException", "Message": "gone"}}, "DescribeRepositories")
    assert error_parts(exc) == ("RepositoryNotFoundException", "gone")


def test_frame_sorts_by_real_times_and_shows_tags_as_text():
    rows = [
        {"imageTags": ["v2", "latest"], "imagePushedAt": datetime(2026, 1, 6, 9, tzinfo=timezone.utc), "size": 2},
        {"imageTags": [], "imagePushedAt": datetime(2026, 1, 5, 9, tzinfo=timezone.utc), "size": 1},
    ]
    df = frame(rows, ["imageTags", "imagePushedAt", "size"]).sort_values("imagePushedAt")
    assert list(df["size"]) == [1, 2]
    assert list(df["imageTags"]) == ["", "v2, latest"]
    assert "2026-01-06 09:00:00+00:00" in df.to_string()
    assert "<table" in df._repr_html_()


def test_lifecycle_chart_marks_what_expires_and_is_byte_stable():
    day = timedelta(days=1)
    start = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    details = [
        {
            "imageDigest": f"sha256:{n}",
            "imageTags": [f"release-1.{n}"] if n % 2 else [],
            "imagePushedAt": start + n * day,
        }
        for n in range(1, 5)
    ]
    chart = lifecycle_chart(details, [{"imageDigest": "sha256:1", "appliedRulePriority": 1}], title="t")
    assert str(chart).splitlines() == [
        "t: 4 images, 1 expire, 3 kept",
        "  release-     xo   (oldest first; x expires, o stays)",
        "  untagged     oo   (oldest first; x expires, o stays)",
    ]
    first = chart.svg()
    assert first.startswith("<?xml") and "release-1.1 (rule 1)" in first
    assert lifecycle_chart(details, [{"imageDigest": "sha256:1", "appliedRulePriority": 1}], title="t").svg() == first

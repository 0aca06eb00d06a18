"""Display helpers: UTC times, stable JSON, tables and caught AWS errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from dateutil.tz import tzlocal

from ecrlab.display import error_parts, expect_error, show, table, utc


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
    with pytest.raises(ZeroDivisionError):
        with expect_error():
            1 / 0


def test_error_parts_of_client_error():
    exc = ClientError({"Error": {"Code": "RepositoryNotFoundException", "Message": "gone"}}, "DescribeRepositories")
    assert error_parts(exc) == ("RepositoryNotFoundException", "gone")

"""Showing API responses, tables and errors in a notebook the same way every time.

Everything here renders times in UTC (boto3 hands back datetimes in the machine's local zone) and
drops what varies from run to run without meaning anything to a learner (``ResponseMetadata``: request
ids, HTTP dates), so a notebook executed twice in deterministic mode shows identical outputs.
Each object has a text form (``str``/``repr``, what nbval compares and a terminal shows) and, where a
table reads better, an HTML form for notebooks.

>>> show(ecr.describe_repositories())                       # doctest: +SKIP
>>> table(rows, columns=["repositoryName", "createdAt"])     # doctest: +SKIP
>>> with expect_error():                                     # doctest: +SKIP
...     ecr.create_repository(repositoryName="MyRepository")
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any

__all__ = ["ErrorShown", "Response", "Table", "error_parts", "expect_error", "jsonable", "show", "table", "utc"]


def utc(moment: datetime | None) -> str:
    """``2026-01-05T09:00:00Z``: a datetime in UTC, ISO 8601, whole seconds unless it has a fraction."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # naive datetimes in ecrlab and moto are UTC already
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as UTC strings and bytes decoded, ready for ``json.dumps``."""
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


class Response:
    """An API response shown as indented JSON (like the AWS CLI prints it), without ResponseMetadata."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = {k: v for k, v in data.items() if k != "ResponseMetadata"}

    def __str__(self) -> str:
        return json.dumps(jsonable(self.data), indent=2, ensure_ascii=False)

    __repr__ = __str__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def show(response: Mapping[str, Any]) -> Response:
    """Wrap a boto3 response so a notebook shows it as stable JSON with UTC times."""
    return Response(response)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(jsonable(value), ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    return str(value)


class Table:
    """Rows of dicts as a table: HTML in a notebook, aligned text elsewhere."""

    def __init__(self, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, empty: str = "(none)"):
        self.rows = [dict(r) for r in rows]
        if columns is None:
            columns = list(dict.fromkeys(k for r in self.rows for k in r))
        self.columns = list(columns)
        self.empty = empty

    def cells(self) -> list[list[str]]:
        return [[_cell(row.get(c)) for c in self.columns] for row in self.rows]

    def __str__(self) -> str:
        if not self.rows:
            return self.empty
        cells = self.cells()
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.columns, widths)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p><em>{html.escape(self.empty)}</em></p>"
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self.cells()
        )
        return f"<table class='ecrlab-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, empty: str = "(none)") -> Table:
    """A table of ``rows`` (e.g. ``response["repositories"]``), optionally limited to ``columns``."""
    return Table(rows, columns, empty)


def error_parts(exc: BaseException) -> tuple[str, str]:
    """(code, message) of an error as the service or the client worded it.

    botocore's ClientError carries ECR's code and message; ecrlab's ServiceError the same; botocore's
    own client-side checks (ParamValidationError and friends) have no code, so their class name stands in.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping) and "Error" in response:
        error = response["Error"]
        return str(error.get("Code", type(exc).__name__)), str(error.get("Message", ""))
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        return code, message
    return type(exc).__name__, str(exc).strip()


class ErrorShown:
    """What :func:`expect_error` caught (``code``, ``message``); empty when nothing was raised."""

    code: str = ""
    message: str = ""

    def __bool__(self) -> bool:
        return bool(self.code)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else "(no error)"


@contextmanager
def expect_error() -> Iterator[ErrorShown]:
    """Run a block that should fail, print the service's error code and message, and carry on.

    Only AWS errors (botocore's ClientError and client-side validation errors, ecrlab's ServiceError)
    and a registry's refusals (RegistryClientError) are caught: anything else is a real bug and
    propagates with its traceback.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from ecrlab.errors import RegistryClientError, ServiceError

    shown = ErrorShown()
    try:
        yield shown
    except (ClientError, BotoCoreError, ServiceError, RegistryClientError) as exc:
        shown.code, shown.message = error_parts(exc)
    print(shown)

"""Showing API responses, tables and errors in a notebook the same way every time.

Everything here renders times in UTC (boto3 hands back datetimes in the machine's local zone) and
drops what varies from run to run without meaning anything to a learner (``ResponseMetadata``: request
ids, HTTP dates), so a notebook executed twice in deterministic mode shows identical outputs.
Each object has a text form (``str``/``repr``, what nbval compares and a terminal shows) and, where a
table reads better, an HTML form for notebooks.

Many rows (DescribeImages, lifecycle previews, policy decisions) read better as a pandas DataFrame, which
a learner can sort and filter; a few things read better as a picture (:func:`lifecycle_chart`).

>>> show(ecr.describe_repositories())                       # doctest: +SKIP
>>> table(rows, columns=["repositoryName", "createdAt"])     # doctest: +SKIP
>>> frame(details, ["imageTags", "imagePushedAt"]).sort_values("imagePushedAt")   # doctest: +SKIP
>>> with expect_error():                                     # doctest: +SKIP
...     ecr.create_repository(repositoryName="MyRepository")
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

__all__ = [
    "Chart",
    "ErrorShown",
    "Response",
    "Table",
    "error_parts",
    "expect_error",
    "frame",
    "jsonable",
    "lifecycle_chart",
    "show",
    "table",
    "utc",
]


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


def frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pandas.DataFrame:
    """``rows`` as a pandas DataFrame, to sort and filter: times as UTC timestamps, lists (image tags) as
    comma-separated text, nested objects as JSON, nothing missing shown as an empty cell."""
    import pandas

    rows = [dict(r) for r in rows]
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))

    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            return pandas.Timestamp(v if v.tzinfo else v.replace(tzinfo=timezone.utc)).tz_convert("UTC")
        if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
            return ", ".join(v)
        if isinstance(v, (Mapping, list, tuple)):
            return json.dumps(jsonable(v), ensure_ascii=False, sort_keys=True)
        return "" if v is None else v

    return pandas.DataFrame([[value(r.get(c)) for c in columns] for r in rows], columns=list(columns))


class Chart:
    """A matplotlib figure shown as SVG in a notebook, with a text summary for a static or terminal view.

    The SVG is byte-stable run to run (no creation date, a fixed id salt), so executed lessons compare equal.
    """

    def __init__(self, figure: Figure, summary: str) -> None:
        self.figure = figure
        self.summary = summary

    def svg(self) -> str:
        import io

        import matplotlib

        out = io.StringIO()
        with matplotlib.rc_context({"svg.hashsalt": "ecrlab", "svg.fonttype": "none"}):
            self.figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
        return out.getvalue()

    def _repr_svg_(self) -> str:
        return self.svg()

    def __str__(self) -> str:
        return self.summary

    __repr__ = __str__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def lifecycle_chart(
    details: Iterable[Mapping[str, Any]], expiring: Iterable[Mapping[str, Any]], title: str = ""
) -> Chart:
    """What a lifecycle policy keeps and what it expires: one dot per image on its push time, one line per
    kind of tag (``release-``, untagged...), red with the rule's priority where the policy expires it.

    ``details`` are DescribeImages' ``imageDetails``; ``expiring`` a preview's ``previewResults`` (or any
    rows with ``imageDigest`` and ``appliedRulePriority``)."""
    from matplotlib.figure import Figure

    rules = {r["imageDigest"]: r.get("appliedRulePriority") for r in expiring}
    images = sorted(details, key=lambda d: d["imagePushedAt"])
    kinds = list(dict.fromkeys(_tag_kind(d.get("imageTags", [])) for d in images))
    figure = Figure(figsize=(8, 0.6 + 0.5 * max(1, len(kinds))))
    axes = figure.add_subplot()
    for d in images:
        y = kinds.index(_tag_kind(d.get("imageTags", [])))
        pushed = d["imagePushedAt"]
        going = d["imageDigest"] in rules
        axes.scatter([pushed], [y], s=60, color="#cc3333" if going else "#33aa55", zorder=2)
        label = ", ".join(d.get("imageTags", [])) or "untagged"
        if going:
            label += f" (rule {rules[d['imageDigest']]})"
        axes.annotate(label, (pushed, y), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=7)
    axes.set_yticks(range(len(kinds)), kinds)
    axes.set_ylim(-0.6, len(kinds) - 0.4)
    axes.grid(axis="x", color="#dddddd", zorder=0)
    axes.set_xlabel("pushed at (lab time, UTC); red: expired by the policy, green: kept")
    figure.autofmt_xdate()
    if title:
        axes.set_title(title, fontsize=10)
    kept = len(images) - sum(1 for d in images if d["imageDigest"] in rules)
    lines = [f"{title}: " if title else "", f"{len(images)} images, {len(images) - kept} expire, {kept} kept"]
    for kind in kinds:
        row = [d for d in images if _tag_kind(d.get("imageTags", [])) == kind]
        marks = "".join("x" if d["imageDigest"] in rules else "o" for d in row)
        lines.append(f"\n  {kind:<12} {marks}   (oldest first; x expires, o stays)")
    return Chart(figure, "".join(lines))


def _tag_kind(tags: Sequence[str]) -> str:
    """``release-1.4`` -> ``release-``; untagged images -> ``untagged``: a chart's row."""
    if not tags:
        return "untagged"
    tag = min(tags)
    head = tag.rstrip("0123456789.")
    return head if head and head != tag else tag


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

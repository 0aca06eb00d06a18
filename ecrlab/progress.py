"""Each exercise check, recorded locally, so that an instructor can see how a workshop is going.

``Problem.check()`` appends one JSON line per verdict to ``progress.jsonl`` in ``$ECRLAB_PROGRESS_DIR``
(default ``~/.ecrlab``)::

    {"lesson": "01", "question": "q2", "correct": false, "kind": "incorrect",
     "time": "2026-12-01T09:14:03Z", "user": "alice"}

Nothing else is written: no answer, no code, no feedback text, and no personal data beyond the
JupyterHub username (``$JUPYTERHUB_USER``, which the hub sets for each attendee's server and its
kernels; absent outside a hub). The file stays on the attendee's machine or server; the instructor's
view (:mod:`ecrlab.widgets.instructor`) reads it through the hub. ``ECRLAB_PROGRESS=off`` turns
recording off. A file that cannot be written never gets in the way of a check.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["FILE_NAME", "Attempt", "parse", "progress_file", "read", "record", "record_check"]

#: The file's name inside the progress directory; the instructor's view asks each server for it.
FILE_NAME = "progress.jsonl"

# A learner re-running a cell in a loop must not fill a disk: past this size recording stops.
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Attempt:
    """One recorded check: which lesson and question, its verdict, when (UTC), and the hub user."""

    lesson: str
    question: str
    correct: bool
    kind: str
    time: str
    user: str | None = None


def progress_file() -> Path:
    """Where this process records: ``$ECRLAB_PROGRESS_DIR/progress.jsonl`` or ``~/.ecrlab/progress.jsonl``."""
    base = os.environ.get("ECRLAB_PROGRESS_DIR") or os.path.join(os.path.expanduser("~"), ".ecrlab")
    return Path(base) / FILE_NAME


def record(lesson: str, question: str, kind: str, *, now: datetime | None = None) -> Attempt | None:
    """Append one verdict (``kind`` as :class:`~ecrlab.exercises.core.Feedback` names it); return what was
    written, or None when recording is off or the file cannot be written."""
    if os.environ.get("ECRLAB_PROGRESS", "").lower() in ("off", "0", "false", "no"):
        return None
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    attempt = Attempt(lesson, question, kind == "correct", kind, stamp, os.environ.get("JUPYTERHUB_USER") or None)
    path = progress_file()
    line = json.dumps({k: v for k, v in asdict(attempt).items() if v is not None}, separators=(",", ":")) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > _MAX_BYTES:
            return None
        # One write of one short line in append mode: concurrent kernels of one attendee interleave whole lines.
        with open(path, "a", encoding="utf-8") as out:
            out.write(line)
    except OSError:
        return None
    return attempt


def record_check(problem: object, kind: str) -> Attempt | None:
    """Record a check of ``problem`` if it is one of a lesson's questions (``lessonNN.qN``); other
    problems (a test's own, say) are not recorded."""
    module = sys.modules.get(type(problem).__module__)
    found = re.fullmatch(r"ecrlab\.exercises\.lesson(\d+)", getattr(module, "__name__", ""))
    if module is None or found is None:
        return None
    names = [n for n, v in vars(module).items() if v is problem and re.fullmatch(r"q\d+", n)]
    if not names:
        return None
    return record(found.group(1), names[0], kind)


def parse(lines: Iterable[str]) -> Iterator[Attempt]:
    """The attempts in JSON-lines text; lines that are not a recorded attempt (a torn write) are skipped."""
    for line in lines:
        try:
            row = json.loads(line)
            yield Attempt(
                lesson=str(row["lesson"]),
                question=str(row["question"]),
                correct=bool(row["correct"]),
                kind=str(row.get("kind", "correct" if row["correct"] else "incorrect")),
                time=str(row["time"]),
                user=row.get("user"),
            )
        except (ValueError, KeyError, TypeError):
            continue


def read(path: Path | None = None) -> list[Attempt]:
    """This machine's recorded attempts (an empty list before the first check)."""
    path = path or progress_file()
    try:
        return list(parse(path.read_text(encoding="utf-8").splitlines()))
    except FileNotFoundError:
        return []

"""The instructor's view of a workshop on a JupyterHub: each attendee's exercise checks, one table.

Each attendee's checks are recorded in their own server (:mod:`ecrlab.progress`); this view asks the hub
for the attendees, then reads each running server's progress file through that server's contents API,
with a token that holds the ``instructor`` role of ``workshop/jupyterhub_config.py`` (list users, read
their servers, access their servers). In the instructor's own JupyterLab on that hub it needs no
arguments: the server's ``$JUPYTERHUB_API_TOKEN`` carries those scopes and the hub's addresses are in
the environment::

    from ecrlab.widgets.instructor import InstructorView
    InstructorView()

From a terminal, with a token made on the hub's token page: ``JUPYTERHUB_API_TOKEN=... python -m
ecrlab.widgets.instructor --hub https://hub.example.org``. Nothing is stored; the table holds the hub
usernames and verdicts only.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import httpx
import ipywidgets as widgets
import pandas as pd

from ecrlab.progress import FILE_NAME, Attempt, parse

__all__ = [
    "HUB_PROGRESS_PATH",
    "AttendeeProgress",
    "HubProgress",
    "InstructorView",
    "attempts_of",
    "collect",
    "main",
    "table",
]

#: Where an attendee's progress file is, relative to their server's root (the hub config's ECRLAB_PROGRESS_DIR).
HUB_PROGRESS_PATH = f"ecrlab-progress/{FILE_NAME}"

# The table's marks: solved (correct at least once), tried and not solved yet, ran the check with nothing to check.
SOLVED, TRIED, OPENED = "✓", "✗", "·"


@dataclass(frozen=True)
class AttendeeProgress:
    """One hub user: their recorded attempts, and ``status`` when they could not be read
    (``"no server running"``, ``"no checks yet"``, or why the server did not answer)."""

    user: str
    attempts: tuple[Attempt, ...] = ()
    status: str = "ok"


@dataclass
class HubProgress:
    """Where to collect from: the hub's API URL, the origin its servers are reached at (through the hub's
    proxy), and a token."""

    api_url: str
    public_url: str
    token: str = field(repr=False)
    path: str = HUB_PROGRESS_PATH
    timeout: float = 10.0

    @classmethod
    def from_environment(
        cls, hub: str | None = None, token: str | None = None, path: str = HUB_PROGRESS_PATH
    ) -> HubProgress:
        """From ``hub`` (the address attendees open) or, inside a hub's server, from the variables JupyterHub
        sets (``JUPYTERHUB_API_URL``, ``JUPYTERHUB_PUBLIC_HUB_URL``, ``JUPYTERHUB_API_TOKEN``)."""
        token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
        if not token:
            raise ValueError("no token: pass token= or set JUPYTERHUB_API_TOKEN (the hub's token page makes one)")
        if hub:
            base = hub.rstrip("/")
            return cls(api_url=f"{base}/hub/api", public_url=_origin(base), token=token, path=path)
        api_url = os.environ.get("JUPYTERHUB_API_URL", "")
        public_hub = os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL", "")
        if not api_url or not public_hub:
            raise ValueError("not inside a JupyterHub server: pass hub='https://your-hub' (the address attendees open)")
        return cls(api_url=api_url.rstrip("/"), public_url=_origin(public_hub), token=token, path=path)


def _origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: the hub's server URLs are absolute paths that hold its base URL."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def _users(client: httpx.Client, source: HubProgress) -> list[dict]:
    """Every hub user, following the API's pagination."""
    users: list[dict] = []
    offset = 0
    while True:
        response = client.get(
            f"{source.api_url}/users",
            params={"offset": offset, "limit": 200},
            headers={"Accept": "application/jupyterhub-pagination+json"},
        )
        response.raise_for_status()
        page = response.json()
        users += page["items"]
        following = (page.get("_pagination") or {}).get("next")
        if not following:
            return users
        offset = following["offset"]


def collect(source: HubProgress) -> list[AttendeeProgress]:
    """Each hub user's recorded checks, read from their running server (sorted by username)."""
    found = []
    with httpx.Client(headers={"Authorization": f"token {source.token}"}, timeout=source.timeout) as client:
        for user in sorted(_users(client, source), key=lambda u: u["name"]):
            server = (user.get("servers") or {}).get("")
            if not server or not server.get("ready"):
                found.append(AttendeeProgress(user["name"], status="no server running"))
                continue
            url = f"{source.public_url}{server['url']}api/contents/{quote(source.path)}"
            try:
                response = client.get(url, params={"content": "1", "type": "file", "format": "text"})
            except httpx.HTTPError as exc:
                found.append(AttendeeProgress(user["name"], status=f"server did not answer: {exc}"))
                continue
            if response.status_code == 404:
                found.append(AttendeeProgress(user["name"], status="no checks yet"))
            elif response.status_code != 200:
                found.append(AttendeeProgress(user["name"], status=f"server answered HTTP {response.status_code}"))
            else:
                attempts = tuple(parse(response.json()["content"].splitlines()))
                found.append(AttendeeProgress(user["name"], attempts))
    return found


def _mark(kinds: set[str]) -> str:
    if "correct" in kinds:
        return SOLVED
    if "incorrect" in kinds:
        return TRIED
    return OPENED if kinds else ""


def table(progress: Sequence[AttendeeProgress]) -> pd.DataFrame:
    """Attendee × question (``01 q1``...): ✓ solved, ✗ tried and not solved yet, · checked with nothing
    to check, blank not reached; ``solved`` counts the ✓. Attendees with nothing recorded are rows too."""
    kinds: dict[tuple[str, str], set[str]] = {}
    for attendee in progress:
        for attempt in attempts_of(attendee):
            kinds.setdefault((attendee.user, f"{attempt.lesson} {attempt.question}"), set()).add(attempt.kind)
    questions = sorted({q for _, q in kinds}, key=lambda q: (q.split()[0], int(q.split()[1][1:])))
    rows = {}
    for attendee in progress:
        marks = {q: _mark(kinds.get((attendee.user, q), set())) for q in questions}
        marks["solved"] = sum(mark == SOLVED for mark in marks.values())
        rows[attendee.user] = marks
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[*questions, "solved"])
    frame.index.name = "attendee"
    return frame


def attempts_of(attendee: AttendeeProgress) -> tuple[Attempt, ...]:
    """An attendee's attempts, keeping only those recorded under their own hub name (a file copied from
    someone else's server does not count for them)."""
    return tuple(a for a in attendee.attempts if a.user in (None, attendee.user))


class InstructorView(widgets.VBox):
    """The table, with a Refresh button; ``refresh()`` does what the button does (for tests and scripts)."""

    def __init__(self, source: HubProgress | None = None, *, hub: str | None = None, token: str | None = None):
        self.source = source or HubProgress.from_environment(hub, token)
        self.button = widgets.Button(description="Refresh", icon="refresh")
        self.status = widgets.HTML()
        self.panel = widgets.HTML()
        self.progress: list[AttendeeProgress] = []
        self.frame = table([])
        self.button.on_click(lambda _: self.refresh())
        super().__init__([widgets.HBox([self.button, self.status]), self.panel])
        self.refresh()

    def refresh(self) -> None:
        try:
            self.progress = collect(self.source)
        except httpx.HTTPStatusError as exc:
            self.status.value = html.escape(
                f"the hub refused: HTTP {exc.response.status_code} (does the token hold the instructor role?)"
            )
            return
        except httpx.HTTPError as exc:
            self.status.value = html.escape(f"the hub did not answer: {exc}")
            return
        self.frame = table(self.progress)
        unread = [f"{p.user}: {p.status}" for p in self.progress if p.status not in ("ok", "no checks yet")]
        self.status.value = html.escape(
            f"{len(self.progress)} attendees, {sum(p.status == 'ok' for p in self.progress)} with checks"
            + (f"; not read: {', '.join(unread)}" if unread else "")
        )
        self.panel.value = self.frame.to_html(escape=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table: ``python -m ecrlab.widgets.instructor --hub URL`` with ``JUPYTERHUB_API_TOKEN`` set."""
    parser = argparse.ArgumentParser(prog="python -m ecrlab.widgets.instructor", description=main.__doc__)
    parser.add_argument("--hub", help="the hub's address, as attendees open it (default: the hub this runs in)")
    parser.add_argument("--path", default=HUB_PROGRESS_PATH, help="the progress file, relative to each server")
    args = parser.parse_args(argv)
    try:
        source = HubProgress.from_environment(args.hub, path=args.path)
        progress = collect(source)
    except (ValueError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(progress).to_string())
    for attendee in progress:
        if attendee.status != "ok":
            print(f"{attendee.user}: {attendee.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

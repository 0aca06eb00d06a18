"""An image history per repository: which digests arrived when, and how tags moved between them.

``DescribeImages`` says where each tag points *now*; a rollback asks where it pointed *then*. The
timeline reads the engine's event stream (its recent history, then each new event as it happens:
pushes, tag moves, tag removals, deletes) for one repository, and shows it as a grid: one row per
image (oldest push first), one column per moment something changed, each cell the tags the image held
from that moment on. ``tag_at(tag, when)`` answers "which digest did ``tag`` name at ``when``", the
question behind "what was deployed last Tuesday". Refresh also re-reads ``DescribeImages`` (the lab's
boto3 client) so the current state shown is ECR's own answer.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ecrlab.display import utc
from ecrlab.ecr.events import Event, ImageDeleted, ImagePushed, TagMoved, TagRemoved
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["ImageTimeline", "TimelineEntry"]

_EVENTS = (ImagePushed, TagMoved, TagRemoved, ImageDeleted)


@dataclass(frozen=True)
class TimelineEntry:
    """One change: at ``time``, ``what`` (pushed | tagged | moved | untagged | deleted) happened to
    ``digest`` (and ``tag``, if one was involved)."""

    time: datetime
    what: str
    digest: str
    tag: str | None = None


class ImageTimeline(LabWidget):
    """The history of one repository's images and tags. Outputs: ``grid`` (HTML), ``message``;
    ``entries`` (the changes, oldest first); ``refresh_button``."""

    def __init__(self, repository: str, lab: Lab | None = None, region: str | None = None) -> None:
        super().__init__(lab)
        self.repository = repository
        self.region = region or self.lab.region
        self.client = self.lab.client("ecr", region_name=self.region)
        self.entries: list[TimelineEntry] = []
        self.current: dict[str, list[str]] = {}  # digest -> tags now, from DescribeImages
        self.grid = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.children = [
            widgets.HTML(f"<b>Image timeline</b> of {html.escape(repository)}"),
            self.grid,
            self.refresh_button,
            self.message,
        ]
        self.add_class("ecrlab-image-timeline")
        for event in list(self.lab.engine.events.recent):
            self._record(event)
        self._subscription = self.lab.engine.events.subscribe(self._on_event, *_EVENTS)
        self.refresh()

    def _mine(self, event: Event) -> bool:
        return (event.account, event.region, getattr(event, "repository", None)) == (
            self.lab.account_id,
            self.region,
            self.repository,
        )

    def _record(self, event: Event) -> None:
        if not isinstance(event, _EVENTS) or not self._mine(event):
            return
        if isinstance(event, ImagePushed):
            if event.new_image:
                self.entries.append(TimelineEntry(event.time, "pushed", event.digest, event.tag))
            elif event.tag:
                self.entries.append(TimelineEntry(event.time, "tagged", event.digest, event.tag))
        elif isinstance(event, TagMoved):
            self.entries.append(TimelineEntry(event.time, "moved", event.previous_digest, event.tag))
        elif isinstance(event, TagRemoved):
            self.entries.append(TimelineEntry(event.time, "untagged", event.digest, event.tag))
        else:
            self.entries.append(TimelineEntry(event.time, "deleted", event.digest))

    def _on_event(self, event: Event) -> None:
        if self._mine(event):
            self._record(event)
            self.refresh()

    def close(self) -> None:
        self._subscription.cancel()
        super().close()

    # -- questions --------------------------------------------------------------------------------
    def tags_at(self, when: datetime) -> dict[str, str]:
        """tag -> digest as they stood at ``when`` (what a pull of each tag got then)."""
        tags: dict[str, str] = {}
        for entry in self.entries:
            if entry.time > when:
                break
            if entry.what in ("pushed", "tagged") and entry.tag:
                tags[entry.tag] = entry.digest
            elif entry.what in ("moved", "untagged") and entry.tag and tags.get(entry.tag) == entry.digest:
                del tags[entry.tag]
            elif entry.what == "deleted":
                tags = {t: d for t, d in tags.items() if d != entry.digest}
        return tags

    def tag_at(self, tag: str, when: datetime) -> str | None:
        """The digest ``tag`` named at ``when``, or None if it named nothing then."""
        return self.tags_at(when).get(tag)

    # -- view -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the repository's images (DescribeImages) and redraw the grid."""

        def describe() -> dict[str, list[str]]:
            pages = self.client.get_paginator("describe_images").paginate(repositoryName=self.repository)
            return {d["imageDigest"]: sorted(d.get("imageTags", [])) for p in pages for d in p["imageDetails"]}

        found = self.attempt(describe)
        if found is not None:
            self.current = found
            self.grid.value = self._grid_html()

    def _grid_html(self) -> str:
        if not self.entries:
            return "<p><em>No pushes to this repository since the lab started.</em></p>"
        digests = list(dict.fromkeys(e.digest for e in self.entries if e.what == "pushed"))
        moments = list(dict.fromkeys(e.time for e in self.entries))
        head = "".join(
            f"<th style='text-align:left;padding:2px 8px'>{html.escape(c)}</th>"
            for c in ["Image", *(utc(m) for m in moments), "Now"]
        )
        rows = []
        for digest in digests:
            cells = [f"<code>{html.escape(digest[7:19])}</code>"]
            for moment in moments:
                held = sorted(t for t, d in self.tags_at(moment).items() if d == digest)
                gone = any(e.what == "deleted" and e.digest == digest and e.time <= moment for e in self.entries)
                arrived = any(e.what == "pushed" and e.digest == digest and e.time <= moment for e in self.entries)
                text = "deleted" if gone else (", ".join(held) or "·") if arrived else ""
                cells.append(html.escape(text))
            now = self.current.get(digest)
            cells.append(html.escape(", ".join(now) or "<untagged>") if now is not None else "gone")
            tds = "".join(f"<td style='text-align:left;padding:2px 8px;white-space:nowrap'>{c}</td>" for c in cells)
            rows.append(f"<tr data-digest='{html.escape(digest)}'>{tds}</tr>")
        return f"<table class='ecrlab-timeline'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def __repr__(self) -> str:
        return f"ImageTimeline({self.repository}: {len(self.entries)} changes)"

"""Progress of a push or pull: the events a client reports, and the text display for terminals.

A progress display is any callable taking a :class:`ProgressEvent`: the client calls ``progress(event)``
as each blob moves. :class:`TextProgress` draws a bar per blob on a terminal and, elsewhere (a notebook,
a log), prints one line per finished blob in the words ``docker push`` uses, so the printed text is the
same on every run. The notebook widget that renders the same events is
:class:`ecrlab.widgets.PushProgress`, and :func:`ecrlab.widgets.default_progress` picks one of the two:
this module is below the widgets and never imports them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TextIO

__all__ = ["ProgressCallback", "ProgressEvent", "TextProgress", "human_size"]

Kind = Literal["layer", "config", "manifest"]
Status = Literal["start", "progress", "done", "exists", "digest"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a transfer. ``status`` is ``start``, ``progress``, ``done`` (the blob moved),
    ``exists`` (the registry had it already) or ``digest`` (the manifest is in: the end of a push/pull)."""

    action: Literal["push", "pull"]
    kind: Kind
    digest: str
    status: Status
    done: int
    total: int
    reference: str = ""

    @property
    def short(self) -> str:
        """The 12 hex characters Docker shows for a blob."""
        return self.digest.split(":", 1)[-1][:12]


ProgressCallback = Callable[[ProgressEvent], None]


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


class TextProgress:
    """Prints a push or pull to ``stream``: live bars on a terminal, stable lines everywhere else."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.lines: list[str] = []

    def __call__(self, event: ProgressEvent) -> None:
        if event.status == "digest":
            self._emit(f"{event.reference}: digest: {event.digest} size: {event.total}")
        elif event.status == "exists":
            self._emit(f"{event.short}: {'Layer already exists' if event.action == 'push' else 'Already exists'}")
        elif event.status == "done":
            verb = "Pushed" if event.action == "push" else "Pull complete"
            self._emit(f"{event.short}: {verb:<13} {human_size(event.total):>10}")
        elif self.live and event.status == "progress" and event.total:
            filled = int(self.WIDTH * event.done / event.total)
            bar = "=" * max(filled - 1, 0) + (">" if filled else "") + " " * (self.WIDTH - filled)
            verb = "Pushing" if event.action == "push" else "Downloading"
            self.stream.write(f"\r{event.short}: {verb} [{bar}] {human_size(event.done)}/{human_size(event.total)}")
            self.stream.flush()

    def _emit(self, line: str) -> None:
        self.lines.append(line)
        self.stream.write(("\r\x1b[K" if self.live else "") + line + "\n")
        self.stream.flush()

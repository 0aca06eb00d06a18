"""The push/pull progress widget: one bar per blob, then the line ``docker push`` prints for it.

It is the notebook face of :class:`ecrlab.images.progress.TextProgress`: pass it as ``progress=`` to
:class:`ecrlab.images.RegistryClient`, or let :func:`default_progress` pick it inside Jupyter. Testable
without a browser: feed it events, then read ``rows``, ``lines`` and ``message.value``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets

from ecrlab.images.progress import ProgressCallback, ProgressEvent, TextProgress, human_size
from ecrlab.widgets.messages import MessageLine

__all__ = ["BlobRow", "PushProgress", "default_progress"]

T = TypeVar("T")


class BlobRow(widgets.HBox):
    """One blob: its short digest, a bar, and its status in Docker's words."""

    def __init__(self, event: ProgressEvent) -> None:
        self.digest = event.digest
        self.name = widgets.Label(f"{event.short} ({event.kind})", layout=widgets.Layout(width="14em"))
        self.bar = widgets.IntProgress(value=0, min=0, max=max(event.total, 1), layout=widgets.Layout(width="18em"))
        self.status = widgets.Label("Waiting")
        super().__init__([self.name, self.bar, self.status])

    def update(self, event: ProgressEvent) -> None:
        self.bar.max = max(event.total, 1)
        self.bar.value = event.done if event.status != "exists" else self.bar.max
        if event.status == "exists":
            self.status.value = "Layer already exists" if event.action == "push" else "Already exists"
            self.bar.bar_style = "info"
        elif event.status == "done":
            self.status.value = f"{'Pushed' if event.action == 'push' else 'Pull complete'} {human_size(event.total)}"
            self.bar.bar_style = "success"
        else:
            verb = "Pushing" if event.action == "push" else "Downloading"
            self.status.value = f"{verb} {human_size(event.done)} / {human_size(event.total)}"


class PushProgress(widgets.VBox):
    """Progress of a push or pull in a notebook; call it with each :class:`ProgressEvent`."""

    def __init__(self, **kwargs: Any) -> None:
        self.rows: dict[str, BlobRow] = {}
        self.message = MessageLine()
        self._text = TextProgress(_Discard(), live=False)
        super().__init__([self.message], **kwargs)

    def __call__(self, event: ProgressEvent) -> None:
        self._text(event)
        if event.kind == "manifest":
            self.message.ok(self._text.lines[-1])
            return
        row = self.rows.get(event.digest)
        if row is None:
            row = self.rows[event.digest] = BlobRow(event)
            self.children = (*self.children[:-1], row, self.message)
        row.update(event)

    @property
    def lines(self) -> list[str]:
        """What a terminal would have printed so far (the same lines as ``docker push``)."""
        return list(self._text.lines)

    def attempt(self, action: Callable[[], T]) -> T | None:
        """Run a push or pull; a registry or AWS error shows in the widget instead of a traceback."""
        from botocore.exceptions import BotoCoreError, ClientError

        from ecrlab.display import error_parts
        from ecrlab.errors import EcrlabError

        try:
            return action()
        except (ClientError, BotoCoreError, EcrlabError) as exc:
            self.message.error(exc)
            code, message = error_parts(exc)
            self._text.lines.append(f"{code}: {message}")
        return None

    def show(self) -> PushProgress:
        from IPython.display import display

        display(self)
        return self

    def __repr__(self) -> str:
        # The text/plain form nbval compares: the final lines, free of widget ids.
        return "\n".join(self.lines) if self.lines else "PushProgress()"


def default_progress() -> ProgressCallback:
    """The progress display for where the code runs: the widget in a Jupyter kernel, text elsewhere."""
    if "ipykernel" in sys.modules:
        return PushProgress().show()
    return TextProgress()


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

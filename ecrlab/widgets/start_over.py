"""A "Start over" button for the end of a lesson: one click puts the lab back as the lesson found it.

The reset itself is the lesson's (``ex.reset(lab)``, through the same APIs a learner uses); this widget
only asks for it, so the committed notebook shows a button and what it will do instead of a commented-out
line, and nothing is deleted until the learner clicks.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["StartOver"]

_WHAT = (
    "deletes every repository, registry policy, IAM user and role in every account of this lab; "
    "the lab clock is not turned back. Then run the lesson again from its first cell."
)


class StartOver(LabWidget):
    """A button that runs ``reset(lab)`` when clicked and shows what it did in :attr:`message`."""

    def __init__(self, reset: Callable[[Lab], str], lab: Lab | None = None) -> None:
        super().__init__(lab)
        self._reset = reset
        self.button = widgets.Button(description="Start over", icon="undo", button_style="warning")
        self.button.on_click(lambda _: self.start_over())
        self.children = [
            widgets.HBox([self.button, widgets.HTML(f"<small>{html.escape(_WHAT)}</small>")]),
            self.message,
        ]
        self.add_class("ecrlab-start-over")

    def start_over(self) -> None:
        summary = self.attempt(lambda: self._reset(self.lab))
        if summary is not None:
            self.message.ok(summary)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # A static render (GitHub, nbviewer) shows what the button would do, not a widget model id.
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = f"<p class='ecrlab-start-over'><b>[Start over]</b> {html.escape(_WHAT)}</p>"
        return bundle

    def __repr__(self) -> str:
        return f"[Start over] {_WHAT}"

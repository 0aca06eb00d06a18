"""What every ecrlab widget shares: a message line that shows errors, and a base that finds the lab.

Widgets are views: they call the lab's boto3 clients (so a learner sees ECR's own error codes and
messages) and show the outcome in :class:`MessageLine`. An AWS error never escapes a button handler
as a traceback; it becomes the message. Anything else is a bug in ecrlab and is shown the same way,
named as such, rather than swallowed.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import ipywidgets as widgets

from ecrlab.display import error_parts
from ecrlab.errors import LabError

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["LabWidget", "MessageLine"]

T = TypeVar("T")

_COLOURS = {"ok": "#1a7f37", "error": "#cf222e", "info": "#57606a"}


class MessageLine(widgets.HTML):
    """One line of feedback under a widget's controls: ``ok``, ``error`` or ``info``."""

    def show(self, kind: str, text: str) -> None:
        self.value = f"<span class='ecrlab-{kind}' style='color:{_COLOURS[kind]}'>{text}</span>"

    def ok(self, text: str) -> None:
        self.show("ok", html.escape(text))

    def info(self, text: str) -> None:
        self.show("info", html.escape(text))

    def error(self, exc: BaseException) -> None:
        code, message = error_parts(exc)
        self.show("error", f"<b>{html.escape(code)}</b>: {html.escape(message)}")

    def clear(self) -> None:
        self.value = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LabWidget(widgets.VBox):
    """A widget over one running lab (the one given, or the lab running in this kernel)."""

    def __init__(self, lab: Lab | None = None, **kwargs: Any) -> None:
        from ecrlab.lab import active_lab

        lab = lab if lab is not None else active_lab()
        if lab is None or not lab.running:
            raise LabError("no lab is running in this kernel: start one with `lab = ecrlab.start()` first")
        self.lab = lab
        self.message = MessageLine()
        super().__init__(**kwargs)

    def attempt(self, action: Callable[[], T]) -> T | None:
        """Run ``action``; on an AWS (or any) error show it in :attr:`message` and return None."""
        from botocore.exceptions import BotoCoreError, ClientError

        from ecrlab.errors import EcrlabError

        if not self.lab.running:  # its clients would have nowhere to go
            self.message.info("This lab has stopped: start a new one with ecrlab.start(), then make a new widget.")
            return None
        try:
            return action()
        except (ClientError, BotoCoreError, EcrlabError) as exc:
            self.message.error(exc)
        except Exception as exc:  # noqa: BLE001 - a widget callback must not raise into the notebook's log
            code, message = error_parts(exc)
            self.message.show("error", f"<b>ecrlab bug ({html.escape(code)})</b>: {html.escape(message)}")
        return None

    def __repr__(self) -> str:
        # The text/plain form of a widget output is what nbval compares: keep it free of ports and ids.
        return f"{type(self).__name__}(account={self.lab.account_id}, region={self.lab.region})"

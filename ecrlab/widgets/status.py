"""The lab's status at a glance: who you are, where (account, region), the endpoints, and the lab clock.

The repository count comes from ``DescribeRepositories``, asked through the lab's client like any
other caller; "You are" is the principal the lab's default clients act as (the account's root).
The clock line follows ``lab.clock.advance()`` (a clock listener, not a timer), the repository count the
engine's event stream (a repository created or deleted by anyone), and the Refresh button reads
everything again.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ecrlab.display import utc
from ecrlab.ecr.events import RepositoryCreated, RepositoryDeleted
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["LabStatus"]


class LabStatus(LabWidget):
    """A panel of the running lab's facts; ``rows`` holds them as (label, value) pairs."""

    def __init__(self, lab: Lab | None = None) -> None:
        super().__init__(lab)
        self.rows: list[tuple[str, str]] = []
        self.panel = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.children = [self.panel, widgets.HBox([self.refresh_button]), self.message]
        self.add_class("ecrlab-lab-status")
        self.lab.clock.on_advance(lambda before, after: self.refresh())
        self._subscription = self.lab.engine.events.subscribe(self._on_change, RepositoryCreated, RepositoryDeleted)
        self.refresh()

    def _on_change(self, event: RepositoryCreated | RepositoryDeleted) -> None:
        if (event.account, event.region) == (self.lab.account_id, self.lab.region):
            self.refresh()

    def close(self) -> None:
        subscription = getattr(self, "_subscription", None)  # None when __init__ failed before subscribing
        if subscription is not None:
            subscription.cancel()
        super().close()

    def refresh(self) -> None:
        lab = self.lab
        self.message.clear()
        count = self.attempt(
            lambda: sum(
                len(p["repositories"]) for p in lab.client("ecr").get_paginator("describe_repositories").paginate()
            )
        )
        if not lab.running:
            return
        rows = [
            ("Account", lab.account_id),
            ("Region", lab.region),
            ("You are", lab.admin.arn),
            ("Registry", lab.registry_host),
            ("API endpoint", lab.endpoint_url),
        ]
        data_plane = self.attempt(lambda: getattr(lab, "registry", None))  # the OCI endpoint, where the lab serves one
        if isinstance(data_plane, str):
            rows.append(("Registry endpoint", data_plane))
        rows += [
            ("Repositories", str(count) if count is not None else "?"),
            ("Lab clock", f"{utc(lab.clock.now())} ({'deterministic' if lab.deterministic else 'real time'})"),
        ]
        self.rows = rows
        body = "".join(
            f"<tr><th style='text-align:left;padding:1px 12px 1px 0'>{html.escape(k)}</th>"
            f"<td style='text-align:left'><code>{html.escape(v)}</code></td></tr>"
            for k, v in rows
        )
        self.panel.value = f"<b>ecrlab sandbox</b> (running)<table class='ecrlab-status'>{body}</table>"

    def __repr__(self) -> str:
        # Everything but the endpoints, whose ports change from run to run.
        keep = {"Account", "Region", "Lab clock"}
        return "LabStatus(" + ", ".join(f"{k.lower()}={v}" for k, v in self.rows if k in keep) + ")"

"""A live table of the lab's repositories with a create/delete form.

It is a view over ``DescribeRepositories``, ``CreateRepository`` and ``DeleteRepository`` made with the
lab's boto3 client, so whatever ECR refuses (``MyRepository``, a name that exists, a repository that
still holds images) shows as ECR's own error code and message in the widget's message line.
The table follows the engine's event stream: it redraws whenever a repository of its registry is
created or deleted, whoever did it (this form, a boto3 call in another cell, the AWS CLI), and on the
Refresh button. There is no background polling, so a notebook's outputs stay the same from run to run.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ecrlab.display import utc
from ecrlab.ecr.events import RepositoryCreated, RepositoryDeleted
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["RepositoryBrowser"]

MUTABILITY_CHOICES = ("MUTABLE", "IMMUTABLE")
COLUMNS = ("Repository", "URI", "Tag mutability", "Scan on push", "Encryption", "Created (UTC)")


class RepositoryBrowser(LabWidget):
    """Browse, create and delete the lab's repositories.

    Controls: ``name`` (Text), ``mutability`` (Dropdown), ``force`` (Checkbox, delete with images),
    ``create_button``, ``delete_button``, ``refresh_button``; output: ``table`` (HTML), ``message``.
    """

    def __init__(self, lab: Lab | None = None) -> None:
        super().__init__(lab)
        self.client = self.lab.client("ecr")
        self.repositories: list[dict[str, Any]] = []
        self.name = widgets.Text(placeholder="e.g. team/web-app", description="Name", continuous_update=False)
        self.mutability = widgets.Dropdown(options=MUTABILITY_CHOICES, value="MUTABLE", description="Tags")
        self.force = widgets.Checkbox(value=False, description="force (delete its images too)", indent=False)
        self.create_button = widgets.Button(description="Create", button_style="primary", icon="plus")
        self.delete_button = widgets.Button(description="Delete", button_style="danger", icon="trash")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.table = widgets.HTML()
        self.create_button.on_click(lambda _: self.create())
        self.delete_button.on_click(lambda _: self.delete())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.children = [
            widgets.HTML(f"<b>Repositories</b> in registry {html.escape(self.lab.registry_host)}"),
            self.table,
            widgets.HBox([self.name, self.mutability]),
            widgets.HBox([self.create_button, self.delete_button, self.force, self.refresh_button]),
            self.message,
        ]
        self.add_class("ecrlab-repository-browser")
        self._subscription = self.lab.engine.events.subscribe(self._on_change, RepositoryCreated, RepositoryDeleted)
        self.refresh()

    def _on_change(self, event: RepositoryCreated | RepositoryDeleted) -> None:
        if (event.account, event.region) == (self.lab.account_id, self.lab.region):
            self.refresh()

    def close(self) -> None:
        # ipywidgets closes from __del__ too, also for a widget whose __init__ failed before subscribing.
        subscription = getattr(self, "_subscription", None)
        if subscription is not None:
            subscription.cancel()
        super().close()

    # -- actions ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read every repository again (DescribeRepositories, all pages) and redraw the table."""

        def describe() -> list[dict[str, Any]]:
            pages = self.client.get_paginator("describe_repositories").paginate()
            return [repo for page in pages for repo in page["repositories"]]

        found = self.attempt(describe)
        if found is not None:
            self.repositories = found
            self.table.value = self._table_html()

    def create(self) -> None:
        """CreateRepository with the name and tag mutability in the form."""
        name = self.name.value.strip()
        created = self.attempt(
            lambda: self.client.create_repository(repositoryName=name, imageTagMutability=self.mutability.value)
        )
        if created is not None:
            self.message.ok(f"Created {created['repository']['repositoryUri']}")
            self.name.value = ""

    def delete(self) -> None:
        """DeleteRepository named in the form (with ``force`` if ticked)."""
        name = self.name.value.strip()
        deleted = self.attempt(lambda: self.client.delete_repository(repositoryName=name, force=self.force.value))
        if deleted is not None:
            self.message.ok(f"Deleted {deleted['repository']['repositoryName']}")
            self.name.value = ""

    # -- view -------------------------------------------------------------------------------------
    def _table_html(self) -> str:
        if not self.repositories:
            return "<p><em>No repositories yet: type a name below and click Create.</em></p>"
        head = "".join(f"<th style='text-align:left;padding:2px 8px'>{c}</th>" for c in COLUMNS)
        rows = []
        for repo in self.repositories:
            cells = (
                repo["repositoryName"],
                repo["repositoryUri"],
                repo["imageTagMutability"],
                "yes" if repo["imageScanningConfiguration"]["scanOnPush"] else "no",
                repo["encryptionConfiguration"]["encryptionType"],
                utc(repo["createdAt"]),
            )
            tds = "".join(
                f"<td style='text-align:left;padding:2px 8px;white-space:nowrap'>{html.escape(str(c))}</td>"
                for c in cells
            )
            rows.append(f"<tr data-repository='{html.escape(repo['repositoryName'])}'>{tds}</tr>")
        return (
            f"<table class='ecrlab-repositories'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def __repr__(self) -> str:
        names = ", ".join(r["repositoryName"] for r in self.repositories) or "none"
        return f"RepositoryBrowser(repositories: {names})"

"""A live map of where a registry's images replicate: source → destinations, and each image's status.

A view over ``DescribeRegistry`` (the rules), ``DescribeImages`` (the images of the repositories the rules
cover) and ``DescribeImageReplicationStatus`` (per destination: IN_PROGRESS, COMPLETE, FAILED with its
failureCode), made with the lab's boto3 client. It redraws when an image is pushed or a replication
settles ("ECR Replication Action" on the engine's event stream) and on the Refresh button; there is no
background polling, so a notebook's outputs stay the same from run to run.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ecrlab.ecr.events import ImagePushed
from ecrlab.replication.copier import ReplicationAction
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["ReplicationMap"]

_STATUS_COLOURS = {"COMPLETE": "#1a7f37", "IN_PROGRESS": "#9a6700", "FAILED": "#cf222e"}


class ReplicationMap(LabWidget):
    """Where the images of ``repository`` (default: every repository a rule covers) go, and how far.

    Controls: ``repository`` (Text, empty for all), ``refresh_button``; outputs: ``rules`` (HTML, the
    configuration as arrows), ``table`` (HTML, one row per image, one column per destination), ``message``.
    """

    def __init__(self, lab: Lab | None = None, repository: str = "", region: str | None = None) -> None:
        super().__init__(lab)
        self.region = region or self.lab.region
        self.client = self.lab.client("ecr", region_name=self.region)
        self.destinations: list[tuple[str, str]] = []
        self.rows: list[dict[str, Any]] = []
        self._rule_list: list[dict[str, Any]] = []
        self.repository = widgets.Text(value=repository, placeholder="all repositories", description="Repository")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.rules = widgets.HTML()
        self.table = widgets.HTML()
        self.children = [
            widgets.HTML(f"<b>Replication</b> from {html.escape(self.lab.account_id)} / {html.escape(self.region)}"),
            self.rules,
            self.table,
            widgets.HBox([self.repository, self.refresh_button]),
            self.message,
        ]
        self.add_class("ecrlab-replication-map")
        self._subscription = self.lab.engine.events.subscribe(self._on_change, ImagePushed, ReplicationAction)
        self.refresh()

    def _on_change(self, event: ImagePushed | ReplicationAction) -> None:
        source = (event.source_account, event.source_region) if isinstance(event, ReplicationAction) else None
        if (event.account, event.region) == (self.lab.account_id, self.region) or source == (
            self.lab.account_id,
            self.region,
        ):
            self.refresh()

    def close(self) -> None:
        self._subscription.cancel()
        super().close()

    def refresh(self) -> None:
        """Read the rules, the images they cover and each image's replication status; redraw."""
        found = self.attempt(self._read)
        if found is not None:
            self._rule_list, self.destinations, self.rows = found
            self.rules.value = self._rules_html()
            self.table.value = self._table_html()

    def _read(self) -> tuple[list[dict[str, Any]], list[tuple[str, str]], list[dict[str, Any]]]:
        rules = self.client.describe_registry()["replicationConfiguration"]["rules"]
        destinations: list[tuple[str, str]] = []
        for rule in rules:
            for d in rule["destinations"]:
                if (d["registryId"], d["region"]) not in destinations:
                    destinations.append((d["registryId"], d["region"]))
        wanted = self.repository.value.strip()
        names = [wanted] if wanted else [r["repositoryName"] for r in self._all_repositories()]
        rows = []
        for name in names:
            for page in self.client.get_paginator("describe_images").paginate(repositoryName=name):
                for detail in page["imageDetails"]:
                    answer = self.client.describe_image_replication_status(
                        repositoryName=name, imageId={"imageDigest": detail["imageDigest"]}
                    )
                    statuses = {(s["registryId"], s["region"]): s for s in answer["replicationStatuses"]}
                    if statuses or wanted:
                        rows.append({"repository": name, "detail": detail, "statuses": statuses})
        return rules, destinations, rows

    def _all_repositories(self) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("describe_repositories").paginate()
        return [repo for page in pages for repo in page["repositories"]]

    # -- view -------------------------------------------------------------------------------------
    def _rules_html(self) -> str:
        if not self._rule_list:
            return "<p><em>No replication configuration: pushes stay in this registry.</em></p>"
        items = []
        for rule in self._rule_list:
            filters = rule.get("repositoryFilters") or []
            covers = ", ".join(f"{f['filter']}*" for f in filters) if filters else "every repository"
            targets = ", ".join(f"{d['registryId']} / {d['region']}" for d in rule["destinations"])
            items.append(f"<li>{html.escape(covers)} → {html.escape(targets)}</li>")
        return f"<ul class='ecrlab-replication-rules'>{''.join(items)}</ul>"

    def _table_html(self) -> str:
        if not self.rows:
            return "<p><em>No replicated pushes yet: push an image to a repository a rule covers.</em></p>"
        head = "".join(
            f"<th style='text-align:left;padding:2px 8px'>{html.escape(c)}</th>"
            for c in ["Repository", "Tags", "Digest", *(f"{a} / {r}" for a, r in self.destinations)]
        )
        body = []
        for row in self.rows:
            detail = row["detail"]
            cells = [
                html.escape(row["repository"]),
                html.escape(", ".join(detail.get("imageTags", [])) or "<untagged>"),
                html.escape(detail["imageDigest"][:19] + "…"),
            ]
            for target in self.destinations:
                status = row["statuses"].get(target)
                if status is None:
                    cells.append("<span style='color:#57606a'>–</span>")
                    continue
                text = status["status"] + (f" ({status['failureCode']})" if status.get("failureCode") else "")
                colour = _STATUS_COLOURS.get(status["status"], "#57606a")
                cells.append(f"<span style='color:{colour}'>{html.escape(text)}</span>")
            tds = "".join(f"<td style='text-align:left;padding:2px 8px;white-space:nowrap'>{c}</td>" for c in cells)
            body.append(f"<tr>{tds}</tr>")
        return f"<table class='ecrlab-replication'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    def statuses(self) -> list[tuple[str, str, str, str, str]]:
        """(repository, digest, destination account, region, status) for every cell shown."""
        return [
            (
                row["repository"],
                row["detail"]["imageDigest"],
                account,
                region,
                row["statuses"][(account, region)]["status"],
            )
            for row in self.rows
            for account, region in self.destinations
            if (account, region) in row["statuses"]
        ]

    def __repr__(self) -> str:
        return f"ReplicationMap(destinations: {len(self.destinations)}, images: {len(self.rows)})"

"""A lifecycle policy builder: edit rules with form controls or as JSON, and watch what they expire.

Every change re-evaluates the rules against the repository's images with the sandbox's own
evaluator (:mod:`ecrlab.lifecycle`, the code behind StartLifecyclePolicyPreview and the daily run),
and redraws the images along their push times, each marked kept or expired and by which rule.
A rule ECR would refuse shows ECR's InvalidParameterException message in the widget. "Save policy"
calls PutLifecyclePolicy through boto3, as a learner would.

Testable without a browser::

    builder = LifecycleBuilder(lab, "app")
    builder.rules[0].count_number.value = 3        # the picture updates
    builder.json.value = '{"rules": [...]}'; builder.use_json.click()
    builder.message.value, builder.picture.value
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ecrlab.display import utc
from ecrlab.lifecycle import LifecyclePolicy, evaluate_lifecycle_policy, parse_lifecycle_policy
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["LifecycleBuilder", "RuleEditor"]

_COUNT_TYPES = ["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"]
_KEPT, _EXPIRED = "#1a7f37", "#cf222e"


class RuleEditor(widgets.HBox):
    """Form controls for one rule."""

    def __init__(self, rule: dict[str, Any] | None = None) -> None:
        rule = rule or {
            "rulePriority": 1,
            "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
        }
        sel = rule.get("selection", {})
        kind = "tagPrefixList" if "tagPrefixList" in sel else "tagPatternList"
        small = widgets.Layout(width="7em")
        self.priority = widgets.IntText(
            value=rule.get("rulePriority", 1), description="priority", layout=widgets.Layout(width="9em")
        )
        self.tag_status = widgets.Dropdown(
            options=["tagged", "untagged", "any"], value=sel.get("tagStatus", "untagged"), layout=small
        )
        self.list_kind = widgets.Dropdown(
            options=["tagPatternList", "tagPrefixList"], value=kind, layout=widgets.Layout(width="10em")
        )
        self.tag_list = widgets.Text(
            value=", ".join(sel.get(kind, [])), placeholder="prod*, v*", layout=widgets.Layout(width="12em")
        )
        self.count_type = widgets.Dropdown(
            options=_COUNT_TYPES, value=sel.get("countType", "imageCountMoreThan"), layout=widgets.Layout(width="12em")
        )
        self.count_number = widgets.IntText(value=sel.get("countNumber", 1), layout=widgets.Layout(width="5em"))
        self.description = widgets.Text(
            value=rule.get("description", ""), placeholder="description", layout=widgets.Layout(width="12em")
        )
        self.remove = widgets.Button(description="✕", tooltip="remove this rule", layout=widgets.Layout(width="3em"))
        super().__init__(
            [
                self.priority,
                self.tag_status,
                self.list_kind,
                self.tag_list,
                self.count_type,
                self.count_number,
                self.description,
                self.remove,
            ]
        )

    @property
    def controls(self) -> list[widgets.ValueWidget]:
        return [
            self.priority,
            self.tag_status,
            self.list_kind,
            self.tag_list,
            self.count_type,
            self.count_number,
            self.description,
        ]

    def as_json(self) -> dict[str, Any]:
        """The rule exactly as the form says, without second-guessing: ECR's checks judge it."""
        selection: dict[str, Any] = {"tagStatus": self.tag_status.value}
        entries = [e.strip() for e in self.tag_list.value.split(",") if e.strip()]
        if entries:
            selection[self.list_kind.value] = entries
        selection["countType"] = self.count_type.value
        if self.count_type.value != "imageCountMoreThan":
            selection["countUnit"] = "days"
        selection["countNumber"] = self.count_number.value
        out: dict[str, Any] = {"rulePriority": self.priority.value}
        if self.description.value:
            out["description"] = self.description.value
        out["selection"] = selection
        out["action"] = {"type": "expire"}
        return out


class LifecycleBuilder(LabWidget):
    """Rules on the left as a form and as JSON; the repository's images and their fate below."""

    def __init__(
        self, lab: Lab | None = None, repository: str = "", policy_text: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(lab, **kwargs)
        self.repository = repository
        self.rules: list[RuleEditor] = []
        self.rule_box = widgets.VBox()
        self.add_rule = widgets.Button(description="Add rule", icon="plus")
        self.json = widgets.Textarea(layout=widgets.Layout(width="100%", height="12em"))
        self.use_json = widgets.Button(description="Use JSON", tooltip="replace the form's rules with the JSON text")
        self.save = widgets.Button(description="Save policy", button_style="primary", tooltip="PutLifecyclePolicy")
        self.picture = widgets.HTML()
        self.add_rule.on_click(lambda _: self._add(None))
        self.use_json.on_click(lambda _: self.load_json(self.json.value))
        self.save.on_click(lambda _: self._save())
        self.children = [
            widgets.HTML(f"<b>Lifecycle policy for <code>{html.escape(repository)}</code></b>"),
            self.rule_box,
            widgets.HBox([self.add_rule, self.use_json, self.save]),
            self.json,
            self.message,
            self.picture,
        ]
        self._quiet = False
        if policy_text is None:
            policy_text = self._saved_policy()
        if policy_text:
            self.load_json(policy_text)
        else:
            self._add(None)

    # -- editing --------------------------------------------------------------------------------
    def _saved_policy(self) -> str | None:
        repo = self.lab.engine.registry(self.lab.account_id, self.lab.region).repositories.get(self.repository)
        return repo.lifecycle_policy_text if repo is not None else None

    def _add(self, rule: dict[str, Any] | None) -> None:
        if rule is None:
            taken = [r.priority.value for r in self.rules]
            rule = {
                "rulePriority": max(taken, default=0) + 1,
                "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
            }
        editor = RuleEditor(rule)
        for control in editor.controls:
            control.observe(lambda _: self.refresh(), names="value")
        editor.remove.on_click(lambda _, e=editor: self._remove(e))
        self.rules.append(editor)
        self.rule_box.children = list(self.rules)
        self.refresh()

    def _remove(self, editor: RuleEditor) -> None:
        self.rules.remove(editor)
        self.rule_box.children = list(self.rules)
        self.refresh()

    def load_json(self, text: str) -> None:
        """Put a policy's rules into the form; a policy ECR would refuse stays as text, with ECR's
        message shown, and the form keeps its rules."""
        self.json.value = text
        policy = self.attempt(lambda: parse_lifecycle_policy(text))
        if policy is None:
            self.picture.value = self._render(None)
            return
        if any(r.transitions or r.storage_class == "archive" for r in policy.rules):
            # The form edits expire rules of the standard storage class; loading an archive rule would change it.
            self.message.info(
                "The builder edits expire rules only: archive rules stay in the JSON, the form is unchanged."
            )
            return
        self._quiet = True
        self.rules = []
        for rule in policy.rules:
            self._add(rule.as_json())
        self._quiet = False
        self.refresh()

    def policy_text(self) -> str:
        """The form's rules as policy JSON."""
        return json.dumps({"rules": [r.as_json() for r in self.rules]}, indent=2)

    # -- what the rules do ----------------------------------------------------------------------
    def refresh(self) -> None:
        if self._quiet:
            return
        text = self.policy_text()
        self.json.value = text
        self._evaluate_text(text)

    def _evaluate_text(self, text: str) -> None:
        policy = self.attempt(lambda: parse_lifecycle_policy(text))
        if policy is not None:
            self.message.ok(
                f"Valid policy: {len(policy.rules)} rule(s). Images below as the rules would leave them now."
            )
        self.picture.value = self._render(policy)

    def _render(self, policy: LifecyclePolicy | None) -> str:
        repo = self.lab.engine.registry(self.lab.account_id, self.lab.region).repositories.get(self.repository)
        if repo is None:
            return f"<i>No repository named {html.escape(self.repository)} in this lab.</i>"
        now = self.lab.clock.now()
        images = list(repo.images.values())
        if not images:
            return "<i>The repository has no images yet.</i>"
        if policy is None:
            ordered = sorted(images, key=lambda im: (im.pushed_at, im.sequence), reverse=True)
            rows = [(im, None, "rules not valid: nothing evaluated") for im in ordered]
        else:
            result = evaluate_lifecycle_policy(policy, images, now)
            rows = [(im, v.expired_by, v.reason(policy)) for im, v in zip(result.images, result.verdicts())]
        return _timeline(rows, now) + _table(rows, now)

    # -- saving ---------------------------------------------------------------------------------
    def _save(self) -> None:
        ecr = self.lab.client("ecr")
        text = self.policy_text()
        if (
            self.attempt(lambda: ecr.put_lifecycle_policy(repositoryName=self.repository, lifecyclePolicyText=text))
            is not None
        ):
            self.message.ok(
                "Saved with PutLifecyclePolicy: it runs at the next daily evaluation (midnight UTC, lab time)."
            )

    def __repr__(self) -> str:
        return f"LifecycleBuilder(repository={self.repository!r}, rules={len(self.rules)})"


def _age(now: datetime, then: datetime) -> str:
    return f"{(now - then).total_seconds() / 86400:.1f} days ago"


def _timeline(rows: list[tuple[Any, int | None, str]], now: datetime) -> str:
    """Images as dots along push time (oldest left), red when expired, with the rule's number."""
    width, height, pad = 640, 70, 20
    oldest = min(im.pushed_at for im, _, _ in rows)
    span = max((now - oldest).total_seconds(), 1.0)
    parts = [
        f"<svg width='{width}' height='{height}' role='img' aria-label='images along push time'>",
        f"<line x1='{pad}' y1='40' x2='{width - pad}' y2='40' stroke='#8c959f'/>",
        f"<text x='{pad}' y='64' font-size='11'>{_age(now, oldest)}</text>",
        f"<text x='{width - pad}' y='64' font-size='11' text-anchor='end'>now</text>",
    ]
    for im, rule, _ in rows:
        x = pad + (width - 2 * pad) * (im.pushed_at - oldest).total_seconds() / span
        colour = _EXPIRED if rule is not None else _KEPT
        label = ", ".join(im.tags) or "untagged"
        parts.append(f"<circle cx='{x:.1f}' cy='40' r='6' fill='{colour}'><title>{html.escape(label)}</title></circle>")
        if rule is not None:
            parts.append(f"<text x='{x:.1f}' y='28' font-size='10' text-anchor='middle'>{rule}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[tuple[Any, int | None, str]], now: datetime) -> str:
    head = "<tr><th>tags</th><th>digest</th><th>pushed (UTC)</th><th>age</th><th>last pull (UTC)</th><th>fate</th></tr>"
    body = []
    for im, rule, reason in rows:
        colour = _EXPIRED if rule is not None else _KEPT
        body.append(
            "<tr>"
            f"<td>{html.escape(', '.join(im.tags) or '<untagged>')}</td>"
            f"<td><code>{im.digest[:19]}</code></td>"
            f"<td>{utc(im.pushed_at)}</td><td>{_age(now, im.pushed_at)}</td>"
            f"<td>{utc(im.last_pulled_at)}</td>"
            f"<td style='color:{colour}'>{html.escape(reason)}</td>"
            "</tr>"
        )
    return f"<table class='ecrlab-lifecycle'>{head}{''.join(body)}</table>"

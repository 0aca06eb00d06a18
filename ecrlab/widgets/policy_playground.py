"""The policy playground: who may do what to which repository, and why.

Three panels over the lab's authorizer (the same one that decides every real request):

- **Decide**: pick a principal (the lab's IAM users and roles, in every account the lab runs), an
  ECR action and a repository; see Allow or Deny and the statements that decided it.
- **Access matrix**: principals × actions for one repository, ✓ or ✗ in each cell.
- **Repository policy editor**: a JSON text area validated as you type (ECR's grammar, with the
  rule broken named), and an Apply button that calls ``SetRepositoryPolicy`` as the lab admin.

Everything is testable without a browser: set ``principal.value`` / ``action.value`` /
``repository.value``, call ``decide_button.click()``, then read ``decision`` and ``result.value``.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

import ipywidgets as widgets
from botocore.exceptions import BotoCoreError, ClientError

from ecrlab.access.actions import ECR_ACTIONS
from ecrlab.access.authorizer import resource_arn_for
from ecrlab.access.evaluation import Decision
from ecrlab.access.grammar import parse_policy
from ecrlab.access.identities import principal_for_arn
from ecrlab.errors import PolicyGrammarError
from ecrlab.widgets.messages import LabWidget

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["MATRIX_ACTIONS", "PolicyPlayground"]

#: The actions the access matrix shows by default: log in, pull, push, and manage.
MATRIX_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:SetRepositoryPolicy",
    "ecr:DeleteRepository",
)
_STARTER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowPull",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    ],
}


class PolicyPlayground(LabWidget):
    """Decide requests, draw an access matrix, and edit a repository policy with live validation.

    Controls: ``principal``, ``action``, ``repository`` (Dropdowns), ``decide_button``,
    ``matrix_button``, ``policy_text`` (Textarea), ``apply_button``, ``refresh_button``.
    Outputs: ``result`` (HTML), ``matrix`` (HTML), ``validation`` (HTML), ``message``; the last
    :class:`~ecrlab.access.evaluation.Decision` in ``decision``.
    """

    def __init__(self, lab: Lab | None = None) -> None:
        super().__init__(lab)
        self.decision: Decision | None = None
        self.principal = widgets.Dropdown(description="Principal", layout=widgets.Layout(width="38em"))
        self.action = widgets.Dropdown(options=ECR_ACTIONS, value="ecr:BatchGetImage", description="Action")
        self.repository = widgets.Dropdown(description="Repository")
        self.decide_button = widgets.Button(description="Decide", button_style="primary", icon="gavel")
        self.matrix_button = widgets.Button(description="Access matrix", icon="table")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.result = widgets.HTML()
        self.matrix = widgets.HTML()
        self.policy_text = widgets.Textarea(layout=widgets.Layout(width="60em", height="14em"), continuous_update=True)
        self.validation = widgets.HTML()
        self.apply_button = widgets.Button(description="Apply to repository", icon="check")
        self.decide_button.on_click(lambda _: self.decide())
        self.matrix_button.on_click(lambda _: self.draw_matrix())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.apply_button.on_click(lambda _: self.apply_policy())
        self.policy_text.observe(lambda _: self.validate(), names="value")
        self.repository.observe(lambda _: self._load_policy(), names="value")
        self.children = [
            widgets.HTML("<b>Policy playground</b>: who may do what, and why"),
            self.principal,
            widgets.HBox([self.action, self.repository]),
            widgets.HBox([self.decide_button, self.matrix_button, self.refresh_button]),
            self.result,
            self.matrix,
            widgets.HTML("<b>Repository policy</b> (validated as you type)"),
            self.policy_text,
            self.validation,
            self.apply_button,
            self.message,
        ]
        self.add_class("ecrlab-policy-playground")
        self.refresh()

    # -- choices ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the principals (IAM users and roles of every lab account) and repositories again."""

        def read() -> tuple[list[tuple[str, str]], list[str]]:
            principals = [("lab administrator", self.lab.admin.arn)]
            clients = [self.lab.client("iam")] + [a.client("iam") for a in self.lab.accounts]
            for iam in clients:
                for user in sorted(iam.list_users()["Users"], key=lambda u: u["UserName"]):
                    principals.append((user["Arn"], user["Arn"]))
                for role in sorted(iam.list_roles()["Roles"], key=lambda r: r["RoleName"]):
                    principals.append((f"{role['Arn']} (as a role session)", role["Arn"]))
            repos = self.lab.client("ecr").describe_repositories()["repositories"]
            return principals, sorted(r["repositoryName"] for r in repos)

        found = self.attempt(read)
        if found is None:
            return
        principals, repositories = found
        current, current_repo = self.principal.value, self.repository.value
        self.principal.options = principals
        self.principal.value = current if current in [arn for _, arn in principals] else principals[0][1]
        self.repository.options = repositories or ["(no repositories yet)"]
        self.repository.value = current_repo if current_repo in repositories else self.repository.options[0]
        self._load_policy()

    # -- deciding ---------------------------------------------------------------------------------
    def _decide(self, principal_arn: str, action: str) -> Decision:
        principal = self.lab.admin if principal_arn == self.lab.admin.arn else principal_for_arn(principal_arn)
        resource = resource_arn_for(action, self.lab.account_id, self.lab.region, self.repository.value)
        return self.lab.engine.authorizer.decide(principal, action, resource, region=self.lab.region)

    def decide(self) -> None:
        """Decide (principal, action, repository) and show the verdict with its deciding statements."""
        if not self.principal.value:
            self.message.info("pick a principal first")
            return
        decision = self.attempt(lambda: self._decide(self.principal.value, self.action.value))
        if decision is None:
            return
        self.decision = decision
        colour = "#1a7f37" if decision.allowed else "#cf222e"
        verdict = "Allow" if decision.allowed else "Deny"
        lines = decision.explain().splitlines()
        if self.principal.value == self.lab.admin.arn:
            lines.append("  ✓ the lab administrator is allowed everything (so you can always undo a policy)")
        if not decision.allowed:
            lines.append("")
            lines.append("AccessDeniedException: " + decision.message())
        self.result.value = (
            f"<div class='ecrlab-decision'><b style='color:{colour}'>{verdict}</b>"
            f"<pre style='margin:0.3em 0'>{html.escape(chr(10).join(lines))}</pre></div>"
        )
        self.message.clear()

    def matrix_rows(self, actions: tuple[str, ...] = MATRIX_ACTIONS) -> list[tuple[str, list[bool]]]:
        """(principal, [allowed per action]) for every principal in the dropdown."""
        return [(label, [self._decide(arn, a).allowed for a in actions]) for label, arn in self.principal.options]

    def draw_matrix(self, actions: tuple[str, ...] = MATRIX_ACTIONS) -> None:
        """Draw principals × actions for the chosen repository."""
        rows = self.attempt(lambda: self.matrix_rows(actions))
        if rows is None:
            return
        head = "".join(f"<th style='padding:2px 6px'>{html.escape(a.split(':')[1])}</th>" for a in actions)
        body = "".join(
            f"<tr><td style='text-align:left;padding:2px 6px'>{html.escape(label)}</td>"
            + "".join(
                f"<td style='text-align:center;color:{'#1a7f37' if ok else '#cf222e'}'>{'✓' if ok else '✗'}</td>"
                for ok in cells
            )
            + "</tr>"
            for label, cells in rows
        )
        self.matrix.value = (
            f"<p>On repository <code>{html.escape(str(self.repository.value))}</code>:</p>"
            f"<table class='ecrlab-access-matrix'><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    # -- policy editor ----------------------------------------------------------------------------
    def _load_policy(self) -> None:
        name = self.repository.value
        if not name or name.startswith("("):
            return
        ecr = self.lab.client("ecr")
        try:
            text = ecr.get_repository_policy(repositoryName=name)["policyText"]
        except ecr.exceptions.RepositoryPolicyNotFoundException:
            text = json.dumps(_STARTER_POLICY, indent=2)
        except (ClientError, BotoCoreError) as exc:  # shown, never raised into the notebook
            self.message.error(exc)
            return
        self.policy_text.value = text
        self.validate()

    def validate(self) -> bool:
        """Check the editor's text with ECR's repository-policy grammar; say what is wrong."""
        try:
            doc = parse_policy(self.policy_text.value, resource_policy=True, service="ecr")
        except PolicyGrammarError as exc:
            self.validation.value = f"<span class='ecrlab-error' style='color:#cf222e'>✗ {html.escape(str(exc))}</span>"
            return False
        n = len(doc["Statement"])
        self.validation.value = f"<span class='ecrlab-ok' style='color:#1a7f37'>✓ valid repository policy ({n} statement{'s' * (n != 1)})</span>"
        return True

    def apply_policy(self) -> None:
        """SetRepositoryPolicy with the editor's text on the chosen repository (as the lab admin)."""
        name = self.repository.value
        done = self.attempt(
            lambda: self.lab.client("ecr").set_repository_policy(repositoryName=name, policyText=self.policy_text.value)
        )
        if done is not None:
            self.message.ok(f"Applied the policy to {name}")

    def __repr__(self) -> str:
        return (
            f"PolicyPlayground(principals: {len(self.principal.options)}, repositories: {len(self.repository.options)})"
        )

"""The grammar of IAM policy documents, checked the way AWS checks it before storing a policy."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["PolicyGrammarError", "parse_policy"]

_VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}


class PolicyGrammarError(ValueError):
    """A policy document that AWS would refuse; the message says which rule it breaks."""


def parse_policy(text: str, *, resource_policy: bool, service: str | None = None) -> dict[str, Any]:
    """Parse ``text`` and check its grammar; return the document with ``Statement`` always a list."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PolicyGrammarError(f"The policy is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PolicyGrammarError("The policy must be a JSON object")
    unknown = set(doc) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyGrammarError(f"Unknown top-level element(s): {', '.join(sorted(unknown))}")
    if doc.get("Version", "2008-10-17") not in _VERSIONS:
        raise PolicyGrammarError(f"Version must be one of {', '.join(_VERSIONS)}")
    statements = doc.get("Statement")
    if statements is None:
        raise PolicyGrammarError("The policy has no Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyGrammarError("Statement must be an object or a non-empty list of objects")
    for index, statement in enumerate(statements, 1):
        _check_statement(statement, index, resource_policy, service)
    return {**doc, "Statement": statements}


def _check_statement(st: Any, index: int, resource_policy: bool, service: str | None) -> None:
    where = f"Statement {index}"
    if not isinstance(st, dict):
        raise PolicyGrammarError(f"{where} must be an object")
    unknown = set(st) - _STATEMENT_KEYS
    if unknown:
        raise PolicyGrammarError(f"{where} has unknown element(s): {', '.join(sorted(unknown))}")
    if st.get("Effect") not in ("Allow", "Deny"):
        raise PolicyGrammarError(f"{where}: Effect must be Allow or Deny")
    if ("Action" in st) == ("NotAction" in st):
        raise PolicyGrammarError(f"{where} must have exactly one of Action or NotAction")
    actions = st.get("Action", st.get("NotAction"))
    for action in actions if isinstance(actions, list) else [actions]:
        if not isinstance(action, str) or (action != "*" and ":" not in action):
            raise PolicyGrammarError(f"{where}: '{action}' is not an action (service:Action)")
        if service and action != "*" and not action.lower().startswith(f"{service}:"):
            raise PolicyGrammarError(f"{where}: '{action}' is not an {service} action; this policy only takes {service} actions")
    has_principal = "Principal" in st or "NotPrincipal" in st
    if resource_policy and not has_principal:
        raise PolicyGrammarError(f"{where} has no Principal; a resource policy must name who it applies to")
    if not resource_policy and has_principal:
        raise PolicyGrammarError(f"{where} has a Principal; identity policies must not name one")
    if "Resource" in st and "NotResource" in st:
        raise PolicyGrammarError(f"{where} must not have both Resource and NotResource")
    if not resource_policy and "Resource" not in st and "NotResource" not in st:
        raise PolicyGrammarError(f"{where} has no Resource")
    condition = st.get("Condition", {})
    if not isinstance(condition, dict):
        raise PolicyGrammarError(f"{where}: Condition must be an object")

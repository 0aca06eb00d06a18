"""Exercises for notebooks/00-start-here.ipynb: where things live in ECR (account, registry, image URI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecrlab.errors import Incorrect
from ecrlab.exercises.core import Problem
from ecrlab.exercises.reset import reset_lab

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["q1", "q2", "q3", "reset"]


def _text(answer: Any, what: str) -> str:
    if not isinstance(answer, str):
        raise Incorrect(f"the answer should be a string ({what}), not a {type(answer).__name__}.")
    return answer.strip()


class AccountId(Problem):
    title = "Which AWS account is the lab's registry in?"
    takes_answer = True
    hints = (
        "Every AWS account has one private registry per region. The lab knows its account: look at the status widget.",
        "Ask the API instead of reading it off the screen: `lab.client('sts').get_caller_identity()['Account']`.",
    )
    solution_text = "The account id is a 12-digit string; STS tells any caller which account it is in."
    solution_code = "account = lab.client('sts').get_caller_identity()['Account']\nex.q1.check(account)"
    wrong_answers = (
        "account = 123456789012\nex.q1.check(account)",
        "account = lab.client('sts').get_caller_identity()['Arn']\nex.q1.check(account)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if isinstance(answer, int):
            raise Incorrect("account ids are strings of 12 digits (they may start with 0): pass it as a string.")
        account = _text(answer, "12 digits")
        if account != lab.account_id:
            raise Incorrect(f"`{account}` is not the lab's account. Account ids are 12 digits, e.g. `111122223333`.")
        return f"the registry belongs to account `{account}`."


class RegistryHost(Problem):
    title = "What is the host name of the lab account's registry in its region?"
    takes_answer = True
    hints = (
        "A registry host is `<account>.dkr.ecr.<region>.amazonaws.com`.",
        "Fill it in from `lab.account_id` and `lab.region` (no `https://`, no repository name).",
    )
    solution_text = "One registry per account per region, always at the same kind of host name:"
    solution_code = "registry = f'{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com'\nex.q2.check(registry)"
    wrong_answers = (
        "registry = f'https://{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com'\nex.q2.check(registry)",
        "registry = f'{lab.account_id}.ecr.{lab.region}.amazonaws.com'\nex.q2.check(registry)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        host = _text(answer, "a host name")
        expected = lab.registry_host
        if "://" in host:
            raise Incorrect(
                "a registry host has no scheme: drop the `https://`; `docker` and `aws` take the bare host."
            )
        if "/" in host:
            raise Incorrect("that looks like a repository or image URI: the registry host ends at `amazonaws.com`.")
        if host.lower() == expected and host != expected:
            raise Incorrect("write the host in lowercase, as ECR shows it.")
        if host != expected:
            parts = host.split(".")
            if len(parts) >= 2 and parts[0] == lab.account_id and parts[1] != "dkr":
                raise Incorrect("the second label of an ECR registry host is `dkr`: `<account>.dkr.ecr.<region>...`.")
            if lab.region not in host:
                raise Incorrect(f"the region is part of the host: this lab runs in `{lab.region}`.")
            raise Incorrect(
                f"`{host}` is not this lab's registry. The shape is `<account>.dkr.ecr.<region>.amazonaws.com`."
            )
        return f"`{expected}` is the registry: one per account and region."


class ImageUri(Problem):
    title = "Write the full URI of tag `1.4.2` of repository `shop/api` in the lab's registry."
    takes_answer = True
    hints = (
        "An image URI is `<registry host>/<repository name>:<tag>`.",
        "The repository name may contain slashes; it sits between the host and the `:`.",
    )
    solution_text = "Host, then the repository name, then `:` and the tag:"
    solution_code = "uri = f'{lab.registry_host}/shop/api:1.4.2'\nex.q3.check(uri)"
    wrong_answers = (
        "uri = 'shop/api:1.4.2'\nex.q3.check(uri)",
        "uri = f'{lab.registry_host}/shop-api:1.4.2'\nex.q3.check(uri)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        uri = _text(answer, "an image URI")
        expected = f"{lab.registry_host}/shop/api:1.4.2"
        if uri == expected:
            return f"`{uri}` names that image; `docker pull {uri}` would fetch it."
        if "://" in uri:
            raise Incorrect("image URIs have no scheme: drop the `https://`.")
        if "@sha256:" in uri:
            raise Incorrect("that is the by-digest form (`@sha256:...`); this question asks for the tag `1.4.2`.")
        if not uri.startswith(lab.registry_host + "/"):
            raise Incorrect(f"an image URI starts with the registry host `{lab.registry_host}` and a `/`.")
        rest = uri[len(lab.registry_host) + 1 :]
        name, _, tag = rest.rpartition(":")
        if not name:
            raise Incorrect("the tag is missing: add `:1.4.2` after the repository name.")
        if name != "shop/api":
            raise Incorrect(f"the repository part is `{name}`; it should be `shop/api` (lowercase, with its slash).")
        raise Incorrect(f"the tag part is `{tag}`; it should be `1.4.2`.")


q1 = AccountId()
q2 = RegistryHost()
q3 = ImageUri()


def reset(lab: Lab) -> str:
    """Start lesson 00 over (see :mod:`ecrlab.exercises.reset`)."""
    return reset_lab(lab)

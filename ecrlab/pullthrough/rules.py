"""Pull through cache rules: Create, Describe, Update, Delete and ValidatePullThroughCacheRule.

Checked as ECR checks them (API reference and User Guide, "Creating a pull through cache rule"):

- ``ecrRepositoryPrefix``: 2-30 characters of the model's pattern (its checks run before the handler),
  or ``ROOT``; a trailing ``/`` is assumed, so ``docker-hub`` and ``docker-hub/`` are one rule;
- at most :data:`MAX_RULES` rules per registry (the Service Quotas default), ``LimitExceededException``;
- ``upstreamRegistryUrl`` is the URL of one of the model's ``UpstreamRegistry`` values; ``upstreamRegistry``
  may be given and must then name the same registry;
- Docker Hub, GitHub, GitLab, Azure and Chainguard need ``credentialArn``: a Secrets Manager secret
  named ``ecr-pullthroughcache/...`` in the registry's own account and region, read when the rule is
  saved (``SecretNotFoundException``, ``UnableToAccessSecretException`` for a secret scheduled for
  deletion, ``UnableToDecryptSecretValueException`` for one whose KMS key is gone or disabled);
- an ECR upstream needs ``customRoleArn`` (a role of the registry's own account) and may map the
  prefix onto ``upstreamRepositoryPrefix``; the other upstreams take neither.

ValidatePullThroughCacheRule contacts the upstream for real (a login and ``GET /v2/``) and answers
``isValid`` with the ``failure`` it met.
"""

from __future__ import annotations

import re
from typing import Any

from ecrlab.ecr.model import PullThroughCacheRule
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import paginate
from ecrlab.errors import (
    InvalidParameterException,
    LimitExceededException,
    PullThroughCacheRuleAlreadyExistsException,
    PullThroughCacheRuleNotFoundException,
    RegistryClientError,
    SecretNotFoundException,
    UnableToAccessSecretException,
    UnableToDecryptSecretValueException,
    UnsupportedUpstreamRegistryException,
)
from ecrlab.pullthrough.cache import PullThroughCache, UpstreamFailure
from ecrlab.pullthrough.upstream import CREDENTIAL_REGISTRIES, upstream_registry_for
from ecrlab.replication.templates import ROOT

__all__ = ["MAX_RULES", "describe_rule"]

#: Pull through cache rules per registry (Service Quotas: "Pull through cache rules per registry").
MAX_RULES = 50
_ROLE_ARN = re.compile(r"arn:aws:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}")
_SECRET_ARN = re.compile(r"arn:aws[\w-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:.+")


def describe_rule(rule: PullThroughCacheRule, registry_id: str) -> dict[str, Any]:
    """A rule as the API shows it (the ``PullThroughCacheRule`` shape)."""
    out: dict[str, Any] = {
        "ecrRepositoryPrefix": rule.prefix,
        "upstreamRegistryUrl": rule.upstream_url,
        "createdAt": rule.created_at,
        "registryId": registry_id,
    }
    if rule.credential_arn:
        out["credentialArn"] = rule.credential_arn
    if rule.custom_role_arn:
        out["customRoleArn"] = rule.custom_role_arn
    if rule.upstream_prefix != ROOT or rule.upstream_registry == "ecr":
        out["upstreamRepositoryPrefix"] = rule.upstream_prefix
    out["upstreamRegistry"] = rule.upstream_registry
    out["updatedAt"] = rule.updated_at
    return out


def _prefix(value: str) -> str:
    return value if value == ROOT else value.rstrip("/")


def _find(call: Call) -> PullThroughCacheRule:
    rule = call.registry.pull_through_rules.get(_prefix(call.params["ecrRepositoryPrefix"]))
    if rule is None:
        raise PullThroughCacheRuleNotFoundException(call.params["ecrRepositoryPrefix"], call.registry_id)
    return rule


def _cache(call: Call) -> PullThroughCache | None:
    hook = call.engine.pull_through
    return hook if isinstance(hook, PullThroughCache) else None


def _check_secret(call: Call, arn: str) -> None:
    """The secret must exist in the registry's account and region, be readable and decryptable."""
    match = _SECRET_ARN.fullmatch(arn)
    cache = _cache(call)
    if match is None or match["account"] != call.registry_id or match["region"] != call.region or cache is None:
        raise SecretNotFoundException(arn)
    secret = cache.read_secret(call.registry_id, call.region, arn)
    if secret is None:
        raise SecretNotFoundException(arn)
    if secret.deleted:
        raise UnableToAccessSecretException(arn)
    if not secret.kms_key_usable:
        raise UnableToDecryptSecretValueException(arn)


def _check_role(call: Call, arn: str) -> None:
    match = _ROLE_ARN.fullmatch(arn)
    if match is None or match["account"] != call.registry_id:
        raise InvalidParameterException.at(
            "customRoleArn", f"customRoleArn must be the ARN of an IAM role in the account {call.registry_id}"
        )


@operation("CreatePullThroughCacheRule", resource="*", notes="upstreams served by the lab on 127.0.0.1")
def create_pull_through_cache_rule(call: Call) -> dict[str, Any]:
    p = call.params
    registry = call.registry
    prefix = _prefix(p["ecrRepositoryPrefix"])
    url = p["upstreamRegistryUrl"]
    found = upstream_registry_for(url)
    if found is None:
        raise UnsupportedUpstreamRegistryException(url)
    kind, upstream_account = found
    if p.get("upstreamRegistry") and p["upstreamRegistry"] != kind:
        raise InvalidParameterException.at(
            "upstreamRegistry", f"upstreamRegistry '{p['upstreamRegistry']}' does not match upstreamRegistryUrl '{url}'"
        )
    credential, role = p.get("credentialArn"), p.get("customRoleArn")
    upstream_prefix = p.get("upstreamRepositoryPrefix")
    if kind in CREDENTIAL_REGISTRIES and not credential:
        raise InvalidParameterException.at("credentialArn", f"credentialArn is required for upstream registry '{kind}'")
    if kind == "ecr":
        if not role:
            raise InvalidParameterException.at(
                "customRoleArn", "customRoleArn is required for an ecr upstream registry"
            )
        if upstream_account == call.registry_id and url.split(".")[3] == call.region:
            raise InvalidParameterException.at(
                "upstreamRegistryUrl", "the upstream registry must be another registry than this one"
            )
    elif role or upstream_prefix:
        member = "customRoleArn" if role else "upstreamRepositoryPrefix"
        raise InvalidParameterException.at(member, f"{member} is only supported for an ecr upstream registry")
    if credential and kind not in CREDENTIAL_REGISTRIES:
        raise InvalidParameterException.at(
            "credentialArn", f"upstream registry '{kind}' does not take credentials: omit credentialArn"
        )
    if prefix in registry.pull_through_rules:
        raise PullThroughCacheRuleAlreadyExistsException(p["ecrRepositoryPrefix"], call.registry_id)
    if len(registry.pull_through_rules) >= MAX_RULES:
        raise LimitExceededException(
            f"The registry with id '{call.registry_id}' already has {MAX_RULES} pull through cache rules"
        )
    if credential:
        _check_secret(call, credential)
    if role:
        _check_role(call, role)
    now = call.engine.clock.stamp()
    rule = PullThroughCacheRule(
        prefix=prefix,
        upstream_url=url,
        upstream_registry=kind,
        created_at=now,
        updated_at=now,
        credential_arn=credential,
        custom_role_arn=role,
        upstream_prefix=_prefix(upstream_prefix) if upstream_prefix else ROOT,
    )
    registry.pull_through_rules[prefix] = rule
    out = describe_rule(rule, call.registry_id)
    del out["updatedAt"]  # the Create response has no updatedAt
    return out


@operation("DescribePullThroughCacheRules", resource="*")
def describe_pull_through_cache_rules(call: Call) -> dict[str, Any]:
    rules = call.registry.pull_through_rules
    wanted = call.params.get("ecrRepositoryPrefixes")
    if wanted:
        for asked in wanted:
            if _prefix(asked) not in rules:
                raise PullThroughCacheRuleNotFoundException(asked, call.registry_id)
        chosen = [rules[p] for p in sorted({_prefix(a) for a in wanted})]
    else:
        chosen = [rules[p] for p in sorted(rules)]
    page, token = paginate(chosen, lambda r: r.prefix, call.params, default_max=100)
    out: dict[str, Any] = {"pullThroughCacheRules": [describe_rule(r, call.registry_id) for r in page]}
    if token:
        out["nextToken"] = token
    return out


@operation("UpdatePullThroughCacheRule", resource="*")
def update_pull_through_cache_rule(call: Call) -> dict[str, Any]:
    rule = _find(call)
    credential, role = call.params.get("credentialArn"), call.params.get("customRoleArn")
    if not credential and not role:
        raise InvalidParameterException.at("credentialArn", "credentialArn or customRoleArn must be given")
    if credential:
        if rule.upstream_registry not in CREDENTIAL_REGISTRIES:
            raise InvalidParameterException.at(
                "credentialArn", f"upstream registry '{rule.upstream_registry}' does not take credentials"
            )
        _check_secret(call, credential)
        rule.credential_arn = credential
    if role:
        if rule.upstream_registry != "ecr":
            raise InvalidParameterException.at("customRoleArn", "customRoleArn is only supported for an ecr upstream")
        _check_role(call, role)
        rule.custom_role_arn = role
    rule.updated_at = call.engine.clock.stamp()
    rule.version += 1
    out: dict[str, Any] = {"ecrRepositoryPrefix": rule.prefix, "registryId": call.registry_id}
    out["updatedAt"] = rule.updated_at
    if rule.credential_arn:
        out["credentialArn"] = rule.credential_arn
    if rule.custom_role_arn:
        out["customRoleArn"] = rule.custom_role_arn
    if rule.upstream_registry == "ecr":
        out["upstreamRepositoryPrefix"] = rule.upstream_prefix
    return out


@operation("DeletePullThroughCacheRule", resource="*", notes="cached repositories stay")
def delete_pull_through_cache_rule(call: Call) -> dict[str, Any]:
    rule = _find(call)
    del call.registry.pull_through_rules[rule.prefix]
    out = describe_rule(rule, call.registry_id)
    del out["updatedAt"], out["upstreamRegistry"]  # not in the Delete response
    return out


@operation("ValidatePullThroughCacheRule", resource="*", notes="contacts the lab's upstream over HTTP")
def validate_pull_through_cache_rule(call: Call) -> dict[str, Any]:
    rule = _find(call)
    failure: str | None = None
    cache = _cache(call)
    if cache is None:
        failure = "The upstream registry could not be reached: no upstream is served for this engine"
    else:
        try:
            client = cache.client(rule, call.registry_id, call.region)
            try:
                # An ECR upstream is validated by the role's token being issued (cache.client): a login
                # over HTTP would wait on the lock this call holds.
                if rule.upstream_registry != "ecr":
                    client.login()
            finally:
                client.close()
        except UpstreamFailure as exc:
            failure = exc.reason
        except RegistryClientError as exc:
            failure = f"Unable to authenticate to the upstream registry {rule.upstream_url}: {exc.status} {exc.message}"
    out = describe_rule(rule, call.registry_id)
    out.pop("createdAt"), out.pop("updatedAt"), out.pop("upstreamRegistry")
    out["isValid"] = failure is None
    if failure is not None:
        out["failure"] = failure
    return out

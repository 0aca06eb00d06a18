"""Repository creation templates: the settings of the repositories ECR creates on a registry's behalf.

ECR creates repositories itself in three cases, each of which a template names in ``appliedFor``:
replication into a registry where the repository does not exist yet (``REPLICATION``), a pull through
cache rule fetching from its upstream (``PULL_THROUGH_CACHE``), and a push to a repository that does
not exist (``CREATE_ON_PUSH``: without such a template that push fails with RepositoryNotFound, as it
always did). The template whose prefix covers the repository's name most closely applies; ``ROOT``
covers every repository no other template covers. A prefix always ends with an assumed ``/``:
``prod`` covers ``prod/web`` but not ``production``.

:func:`create_repository` is the one way a feature (replication here, pull through cache later)
creates a repository on the registry's behalf: the CreateRepository rules and event, then the
template's repository and lifecycle policies.
"""

from __future__ import annotations

import re
from typing import Any

from ecrlab.ecr.events import PolicyChanged
from ecrlab.ecr.model import CreationTemplate, Principal, Registry, Repository
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import paginate
from ecrlab.ecr.repositories import check_resource_tags, mutability_settings
from ecrlab.ecr.repositories import create_repository as _create_repository_operation
from ecrlab.errors import (
    InvalidParameterException,
    LimitExceededException,
    TemplateAlreadyExistsException,
    TemplateNotFoundException,
)
from ecrlab.lifecycle import canonical_text, parse_lifecycle_policy

__all__ = [
    "CREATE_ON_PUSH",
    "PULL_THROUGH_CACHE",
    "REPLICATION",
    "ROOT",
    "create_on_push",
    "create_repository",
    "describe_template",
    "matching_template",
]

ROOT = "ROOT"
REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH = "REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"
#: How many templates a registry may hold (the Service Quotas default for ECR).
MAX_TEMPLATES = 100


_ROLE_ARN = re.compile(r"^arn:aws:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")


# -- matching ---------------------------------------------------------------------------------------
def _covers(prefix: str, name: str) -> bool:
    return name.startswith(prefix.rstrip("/") + "/")


def matching_template(registry: Registry, name: str, applied_for: str) -> CreationTemplate | None:
    """The template that applies when ECR creates ``name`` for ``applied_for``: the longest prefix
    covering the name, else ROOT; only templates that name ``applied_for`` take part."""
    candidates = [t for t in registry.creation_templates.values() if applied_for in t.applied_for]
    covering = [t for t in candidates if t.prefix != ROOT and _covers(t.prefix, name)]
    if covering:
        return max(covering, key=lambda t: len(t.prefix.rstrip("/")))
    return next((t for t in candidates if t.prefix == ROOT), None)


# -- creating repositories on the registry's behalf --------------------------------------------------
def create_repository(
    call: Call, account: str, region: str, name: str, applied_for: str, principal: Principal
) -> tuple[Repository, CreationTemplate | None]:
    """Create ``name`` in (account, region) as ECR does for ``applied_for``: default settings, or those
    of the matching template. Runs CreateRepository's own rules and publishes its events; callers
    hold the engine's lock. ``call`` is the request that led to it (its engine, its time)."""
    engine = call.engine
    registry = engine.registry(account, region)
    template = matching_template(registry, name, applied_for)
    params: dict[str, Any] = {"registryId": account, "repositoryName": name}
    if template is not None:
        params.update(
            imageTagMutability=template.tag_mutability,
            encryptionConfiguration=dict(template.encryption),
            tags=[dict(t) for t in template.resource_tags],
        )
        if template.mutability_exclusions:
            params["imageTagMutabilityExclusionFilters"] = [dict(f) for f in template.mutability_exclusions]
    inner = Call(engine, "CreateRepository", principal, region, params, source=call.source)
    _create_repository_operation(inner)
    repo = registry.repositories[name]
    if template is not None and template.repository_policy:
        repo.policy_text = template.repository_policy
        inner.emit(PolicyChanged(account, region, engine.clock.now(), "repository", name, repo.policy_text, principal))
    if template is not None and template.lifecycle_policy:
        repo.lifecycle_policy_text = template.lifecycle_policy
        inner.emit(
            PolicyChanged(account, region, engine.clock.now(), "lifecycle", name, repo.lifecycle_policy_text, principal)
        )
    return repo, template


def create_on_push(call: Call) -> None:
    """The engine's ``repository_missing`` hook: a push (InitiateLayerUpload or PutImage, on either
    plane) to a repository that does not exist creates it when a CREATE_ON_PUSH template covers its
    name and the pusher may ``ecr:CreateRepository`` it; otherwise the repository stays missing and the
    push fails with RepositoryNotFoundException, as in ECR."""
    name = call.params.get("repositoryName")
    if not name:
        return
    registry = call.registry
    if matching_template(registry, name, CREATE_ON_PUSH) is None:
        return
    create_call = Call(
        call.engine,
        "CreateRepository",
        call.principal,
        call.region,
        {"registryId": call.registry_id, "repositoryName": name},
        call.source,
        call.source_ip,
        call.user_agent,
    )
    call.engine.authorizer(create_call, "ecr:CreateRepository", call.engine.resource_arn(create_call, "repository"))
    create_repository(call, call.registry_id, call.region, name, CREATE_ON_PUSH, call.principal)


# -- the operations ---------------------------------------------------------------------------------
def describe_template(template: CreationTemplate) -> dict[str, Any]:
    """A template as the API shows it (the ``RepositoryCreationTemplate`` shape)."""
    out: dict[str, Any] = {
        "prefix": template.prefix,
        "encryptionConfiguration": dict(template.encryption),
        "resourceTags": [dict(t) for t in template.resource_tags],
        "imageTagMutability": template.tag_mutability,
        "appliedFor": list(template.applied_for),
        "createdAt": template.created_at,
        "updatedAt": template.updated_at,
    }
    if template.description:
        out["description"] = template.description
    if template.mutability_exclusions:
        out["imageTagMutabilityExclusionFilters"] = [dict(f) for f in template.mutability_exclusions]
    if template.repository_policy:
        out["repositoryPolicy"] = template.repository_policy
    if template.lifecycle_policy:
        out["lifecyclePolicy"] = template.lifecycle_policy
    if template.custom_role_arn:
        out["customRoleArn"] = template.custom_role_arn
    return out


def _prefix(call: Call) -> str:
    # Stored as given ("prod" and "prod/" name the same namespace, and the same template).
    return call.params["prefix"].rstrip("/") if call.params["prefix"] != ROOT else ROOT


def _find(call: Call) -> CreationTemplate:
    prefix = _prefix(call)
    template = call.registry.creation_templates.get(prefix)
    if template is None:
        raise TemplateNotFoundException(call.params["prefix"], call.registry_id)
    return template


def _apply_settings(call: Call, template: CreationTemplate) -> None:
    """Check and store the settings a Create or Update request gives; omitted ones are kept."""
    # Imported here: importing the access operations registers them, which only installing access may do.
    from ecrlab.access.operations import ecr_policy_text, validate_policy_text

    p = call.params
    if "appliedFor" in p:
        applied = list(dict.fromkeys(p["appliedFor"]))
        if not applied:
            raise InvalidParameterException.at(
                "appliedFor", "appliedFor must name at least one of REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH"
            )
        template.applied_for = applied
    if "imageTagMutability" in p or "imageTagMutabilityExclusionFilters" in p:
        template.tag_mutability, template.mutability_exclusions = mutability_settings(
            {
                "imageTagMutability": p.get("imageTagMutability", template.tag_mutability),
                "imageTagMutabilityExclusionFilters": p.get("imageTagMutabilityExclusionFilters"),
            }
        )
    if "encryptionConfiguration" in p:
        config = p["encryptionConfiguration"]
        if config["encryptionType"] == "AES256" and config.get("kmsKey"):
            raise InvalidParameterException.at(
                "encryptionConfiguration.kmsKey", "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE"
            )
        template.encryption = {k: v for k, v in config.items() if k in ("encryptionType", "kmsKey") and v}
    if "resourceTags" in p:
        tags = check_resource_tags(p["resourceTags"])
        template.resource_tags = [{"Key": k, "Value": v} for k, v in tags.items()]
    if "repositoryPolicy" in p:
        text = p["repositoryPolicy"]
        if text:
            validate_policy_text(text, member="repositoryPolicy")
        template.repository_policy = ecr_policy_text(text) if text else None
    if "lifecyclePolicy" in p:
        text = p["lifecyclePolicy"]
        template.lifecycle_policy = canonical_text(parse_lifecycle_policy(text)) if text else None
    if "customRoleArn" in p:
        role = p["customRoleArn"]
        match = _ROLE_ARN.match(role) if role else None
        if role and (match is None or match["account"] != call.registry_id):
            raise InvalidParameterException.at(
                "customRoleArn", f"customRoleArn must be the ARN of an IAM role in the account {call.registry_id}"
            )
        template.custom_role_arn = role or None
    if "description" in p:
        template.description = p["description"]


@operation("CreateRepositoryCreationTemplate", resource="*", notes="applied by replication and create-on-push")
def create_repository_creation_template(call: Call) -> dict[str, Any]:
    registry = call.registry
    prefix = _prefix(call)
    if prefix in registry.creation_templates:
        raise TemplateAlreadyExistsException(call.params["prefix"], call.registry_id)
    if len(registry.creation_templates) >= MAX_TEMPLATES:
        raise LimitExceededException(
            f"The registry with id '{call.registry_id}' already has {MAX_TEMPLATES} repository creation templates"
        )
    now = call.engine.clock.stamp()
    template = CreationTemplate(prefix=prefix, applied_for=[], created_at=now, updated_at=now)
    _apply_settings(call, template)
    registry.creation_templates[prefix] = template
    return {"registryId": call.registry_id, "repositoryCreationTemplate": describe_template(template)}


@operation("DescribeRepositoryCreationTemplates", resource="*")
def describe_repository_creation_templates(call: Call) -> dict[str, Any]:
    registry = call.registry
    wanted = call.params.get("prefixes")
    templates = sorted(registry.creation_templates.values(), key=lambda t: t.prefix)
    if wanted:
        names = {p.rstrip("/") if p != ROOT else ROOT for p in wanted}
        templates = [t for t in templates if t.prefix in names]
    page, token = paginate(templates, lambda t: t.prefix, call.params, default_max=100)
    out: dict[str, Any] = {
        "registryId": call.registry_id,
        "repositoryCreationTemplates": [describe_template(t) for t in page],
    }
    if token:
        out["nextToken"] = token
    return out


@operation("UpdateRepositoryCreationTemplate", resource="*")
def update_repository_creation_template(call: Call) -> dict[str, Any]:
    template = _find(call)
    _apply_settings(call, template)
    template.updated_at = call.engine.clock.stamp()
    return {"registryId": call.registry_id, "repositoryCreationTemplate": describe_template(template)}


@operation("DeleteRepositoryCreationTemplate", resource="*")
def delete_repository_creation_template(call: Call) -> dict[str, Any]:
    template = _find(call)
    del call.registry.creation_templates[template.prefix]
    return {"registryId": call.registry_id, "repositoryCreationTemplate": describe_template(template)}

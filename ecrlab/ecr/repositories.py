"""Repository operations: create, describe, delete, tags, mutability and scanning settings.

The repository policy operations need the policy engine and live with it, in
:mod:`ecrlab.access.operations`."""

from __future__ import annotations

import json
import re
from typing import Any

from ecrlab.ecr.events import RepositoryCreated, RepositoryDeleted
from ecrlab.ecr.model import Repository
from ecrlab.ecr.operations import Call, operation
from ecrlab.ecr.params import paginate
from ecrlab.errors import (
    InvalidParameterException,
    InvalidTagParameterException,
    RepositoryAlreadyExistsException,
    RepositoryNotEmptyException,
    TooManyTagsException,
)

__all__ = ["check_resource_tags", "describe_repository", "mutability_settings"]

MAX_RESOURCE_TAGS = 50
_TAG_KEY_MAX, _TAG_VALUE_MAX = 128, 256
_TAG_CHARS = re.compile(r"^[\w\s.:/=+\-@]*$", re.UNICODE)
_ARN = re.compile(r"^arn:aws:ecr:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):repository/(?P<name>.+)$")


def describe_repository(repo: Repository) -> dict[str, Any]:
    """A repository as the API shows it (the ``Repository`` shape)."""
    out: dict[str, Any] = {
        "repositoryArn": repo.arn,
        "registryId": repo.account,
        "repositoryName": repo.name,
        "repositoryUri": repo.uri,
        "createdAt": repo.created_at,
        "imageTagMutability": repo.tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
        "encryptionConfiguration": dict(repo.encryption),
    }
    if repo.mutability_exclusions:
        out["imageTagMutabilityExclusionFilters"] = [dict(f) for f in repo.mutability_exclusions]
    return out


def mutability_settings(params: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    mutability = params.get("imageTagMutability") or "MUTABLE"
    filters = params.get("imageTagMutabilityExclusionFilters") or []
    if mutability.endswith("_WITH_EXCLUSION") and not filters:
        raise InvalidParameterException.at(
            "imageTagMutabilityExclusionFilters",
            f"imageTagMutabilityExclusionFilters must be specified when imageTagMutability is {mutability}",
        )
    if filters and not mutability.endswith("_WITH_EXCLUSION"):
        raise InvalidParameterException.at(
            "imageTagMutabilityExclusionFilters",
            "imageTagMutabilityExclusionFilters can only be specified when imageTagMutability is "
            "IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION",
        )
    return mutability, [{"filterType": f["filterType"], "filter": f["filter"]} for f in filters]


def _encryption(call: Call) -> dict[str, str]:
    config = call.params.get("encryptionConfiguration") or {"encryptionType": "AES256"}
    kind = config["encryptionType"]
    key = config.get("kmsKey")
    if kind == "AES256":
        if key:
            raise InvalidParameterException.at(
                "encryptionConfiguration.kmsKey", "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE"
            )
        return {"encryptionType": "AES256"}
    # With no key named, ECR uses the AWS managed key for ECR in the registry's account.
    return {"encryptionType": kind, "kmsKey": key or f"arn:aws:kms:{call.region}:{call.registry_id}:alias/aws/ecr"}


def check_resource_tags(tags: list[dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags:
        key, value = tag["Key"], tag["Value"]
        if not 1 <= len(key) <= _TAG_KEY_MAX or not _TAG_CHARS.match(key):
            raise InvalidTagParameterException(
                f"Invalid tag key '{key}': keys must be 1 to {_TAG_KEY_MAX} characters of letters, digits, spaces and _.:/=+-@"
            )
        if key.lower().startswith("aws:"):
            raise InvalidTagParameterException(f"Invalid tag key '{key}': the aws: prefix is reserved for AWS use")
        if len(value) > _TAG_VALUE_MAX or not _TAG_CHARS.match(value):
            raise InvalidTagParameterException(
                f"Invalid tag value for key '{key}': values must be at most {_TAG_VALUE_MAX} characters of letters, digits, spaces and _.:/=+-@"
            )
        out[key] = value
    if len(out) > MAX_RESOURCE_TAGS:
        raise TooManyTagsException(MAX_RESOURCE_TAGS, len(out))
    return out


@operation("CreateRepository")
def create_repository(call: Call) -> dict[str, Any]:
    p = call.params
    registry = call.registry
    name = p["repositoryName"]
    if name in registry.repositories:
        raise RepositoryAlreadyExistsException(name, call.registry_id)
    mutability, filters = mutability_settings(p)
    repo = Repository(
        name=name,
        account=call.registry_id,
        region=call.region,
        created_at=call.engine.clock.stamp(),
        tag_mutability=mutability,
        mutability_exclusions=filters,
        scan_on_push=bool((p.get("imageScanningConfiguration") or {}).get("scanOnPush", False)),
        encryption=_encryption(call),
        tags=check_resource_tags(p.get("tags") or []),
    )
    registry.repositories[name] = repo
    call.emit(RepositoryCreated(repo.account, repo.region, repo.created_at, name, call.principal))
    return {"repository": describe_repository(repo)}


@operation("DescribeRepositories", resource="*")
def describe_repositories(call: Call) -> dict[str, Any]:
    p = call.params
    registry = call.registry
    names = p.get("repositoryNames")
    if names:
        if p.get("maxResults") or p.get("nextToken"):
            raise InvalidParameterException.at(
                "maxResults", "maxResults and nextToken cannot be used when repositoryNames is specified"
            )
        found = []
        for name in names:
            found.append(call.repository(name))  # RepositoryNotFound for the first missing one
        return {"repositories": [describe_repository(r) for r in found]}
    repos = sorted(registry.repositories.values(), key=lambda r: r.name)
    page, token = paginate(repos, lambda r: r.name, p, default_max=1000)
    out: dict[str, Any] = {"repositories": [describe_repository(r) for r in page]}
    if token:
        out["nextToken"] = token
    return out


@operation("DeleteRepository")
def delete_repository(call: Call) -> dict[str, Any]:
    repo = call.repository()
    if repo.images and not call.params.get("force"):
        raise RepositoryNotEmptyException(repo.name, repo.account)
    del call.registry.repositories[repo.name]
    call.emit(RepositoryDeleted(repo.account, repo.region, call.now(), repo.name, call.principal, tuple(repo.images)))
    return {"repository": describe_repository(repo)}


def _repository_for_arn(call: Call) -> Repository:
    arn = call.params["resourceArn"]
    match = _ARN.match(arn)
    if not match:
        raise InvalidParameterException.at("resourceArn", f"Invalid ARN: {arn}")
    return call.engine.repository(match["account"], match["region"], match["name"])


@operation("TagResource", resource="resourceArn")
def tag_resource(call: Call) -> dict[str, Any]:
    repo = _repository_for_arn(call)
    new = check_resource_tags(call.params["tags"])
    merged = {**repo.tags, **new}
    if len(merged) > MAX_RESOURCE_TAGS:
        raise TooManyTagsException(MAX_RESOURCE_TAGS, len(merged))
    repo.tags = merged
    return {}


@operation("UntagResource", resource="resourceArn")
def untag_resource(call: Call) -> dict[str, Any]:
    repo = _repository_for_arn(call)
    for key in call.params["tagKeys"]:
        if key.lower().startswith("aws:"):
            raise InvalidTagParameterException(f"Invalid tag key '{key}': the aws: prefix is reserved for AWS use")
        repo.tags.pop(key, None)
    return {}


@operation("ListTagsForResource", resource="resourceArn")
def list_tags_for_resource(call: Call) -> dict[str, Any]:
    repo = _repository_for_arn(call)
    return {"tags": [{"Key": k, "Value": v} for k, v in repo.tags.items()]}


@operation("PutImageTagMutability")
def put_image_tagmutability_settings(call: Call) -> dict[str, Any]:
    repo = call.repository()
    repo.tag_mutability, repo.mutability_exclusions = mutability_settings(call.params)
    out: dict[str, Any] = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageTagMutability": repo.tag_mutability,
    }
    if repo.mutability_exclusions:
        out["imageTagMutabilityExclusionFilters"] = [dict(f) for f in repo.mutability_exclusions]
    return out


@operation("PutImageScanningConfiguration")
def put_image_scanning_configuration(call: Call) -> dict[str, Any]:
    repo = call.repository()
    repo.scan_on_push = bool(call.params["imageScanningConfiguration"].get("scanOnPush", False))
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
    }


@operation("DescribeRegistry", resource="*")
def describe_registry(call: Call) -> dict[str, Any]:
    registry = call.registry
    return {
        "registryId": registry.account,
        "replicationConfiguration": {"rules": json.loads(json.dumps(registry.replication_rules))},
    }

"""The state of the sandbox's registries: plain data, no rules (those live in the operation modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecrlab.lifecycle.preview import Preview

__all__ = [
    "COMPLETE",
    "FAILED",
    "IN_PROGRESS",
    "CreationTemplate",
    "DestinationStatus",
    "ImageRecord",
    "Principal",
    "PullThroughCacheRule",
    "Registry",
    "Repository",
    "SigningStatus",
    "registry_host",
    "repository_arn",
]


def registry_host(account: str, region: str) -> str:
    """The registry host real ECR gives an account in a region."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def repository_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an ARN plus what policies need to know about it."""

    arn: str
    account: str
    kind: str = "root"  # root | user | assumed-role | anonymous
    name: str = ""
    is_lab_admin: bool = False
    tags: tuple[tuple[str, str], ...] = ()


@dataclass
class ImageRecord:
    """One image (manifest) stored in a repository, addressed by its digest: the engine's record of it.

    Not to be confused with :class:`ecrlab.images.Image`, an image built to be pushed."""

    digest: str
    manifest: bytes
    media_type: str
    pushed_at: datetime
    size: int  # imageSizeInBytes: the sum of the layers' sizes, as ECR reports it
    tags: list[str] = field(default_factory=list)
    artifact_media_type: str | None = None
    last_pulled_at: datetime | None = None
    subject: str | None = None  # digest this manifest refers to (OCI referrers)
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    # Order of arrival, to break ties between images stamped with the same time.
    sequence: int = 0
    # Storage class, as ECR's imageStatus says it: ACTIVE (standard), ARCHIVED, or ACTIVATING (a restore
    # from the archive in progress: still in the archive, not pullable, until it completes).
    status: str = "ACTIVE"
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None
    # Which restore is pending: a later archive or re-push makes an earlier restore's job a no-op.
    restore_id: int = 0

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


@dataclass
class Repository:
    name: str
    account: str
    region: str
    created_at: datetime
    tag_mutability: str = "MUTABLE"
    mutability_exclusions: list[dict[str, str]] = field(default_factory=list)
    scan_on_push: bool = False
    encryption: dict[str, str] = field(default_factory=lambda: {"encryptionType": "AES256"})
    tags: dict[str, str] = field(default_factory=dict)
    policy_text: str | None = None
    lifecycle_policy_text: str | None = None
    lifecycle_evaluated_at: datetime | None = None
    # The saved lifecycle policy's identity as CloudTrail names it (a new id and version per save).
    lifecycle_policy_id: str = ""
    lifecycle_policy_version: int = 0
    # The last StartLifecyclePolicyPreview's result (ecrlab.lifecycle.preview.Preview), read by the Get call.
    lifecycle_preview: Preview | None = None
    images: dict[str, ImageRecord] = field(default_factory=dict)  # digest -> image
    image_tags: dict[str, str] = field(default_factory=dict)  # tag -> digest
    # The blobs linked into this repository (digest -> size): in ECR, layers belong to a repository.
    layers: dict[str, int] = field(default_factory=dict)
    # Layer-API uploads in progress: upload id -> sizes of the parts received so far.
    layer_uploads: dict[str, list[int]] = field(default_factory=dict)
    # A repository a pull through cache rule created: the rule's prefix, and when each tag was last
    # checked against the upstream (lab time), so a tag is refreshed at most once every 24 hours.
    pull_through_prefix: str | None = None
    upstream_checked: dict[str, datetime] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return repository_arn(self.account, self.region, self.name)

    @property
    def uri(self) -> str:
        return f"{registry_host(self.account, self.region)}/{self.name}"


@dataclass
class CreationTemplate:
    """A repository creation template: the settings ECR gives the repositories it creates itself
    (by replication, pull through cache, or a push to a missing repository) whose names the prefix covers."""

    prefix: str  # "ROOT", or a namespace prefix (matched with a "/" after it)
    applied_for: list[str]  # REPLICATION | PULL_THROUGH_CACHE | CREATE_ON_PUSH
    created_at: datetime
    updated_at: datetime
    description: str = ""
    tag_mutability: str = "MUTABLE"
    mutability_exclusions: list[dict[str, str]] = field(default_factory=list)
    encryption: dict[str, str] = field(default_factory=lambda: {"encryptionType": "AES256"})
    resource_tags: list[dict[str, str]] = field(default_factory=list)
    repository_policy: str | None = None
    lifecycle_policy: str | None = None
    custom_role_arn: str | None = None


@dataclass
class PullThroughCacheRule:
    """A pull through cache rule: a pull of ``<prefix>/<name>`` that the registry cannot answer is
    fetched from ``<upstream_url>/<upstream_prefix>/<name>`` and cached (see ecrlab.pullthrough)."""

    prefix: str  # "ROOT" or a namespace prefix, stored without its trailing "/"
    upstream_url: str
    upstream_registry: str  # the model's UpstreamRegistry enum
    created_at: datetime
    updated_at: datetime
    credential_arn: str | None = None
    custom_role_arn: str | None = None
    upstream_prefix: str = "ROOT"
    version: int = 1  # the "rule-version" of the ECR Pull Through Cache Action event


#: The values of botocore's ReplicationStatus and SigningStatus enums, which are the same three.
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"


@dataclass
class DestinationStatus:
    """Where one push stands in one replication destination, as DescribeImageReplicationStatus reports it
    (``reason`` is the sandbox's explanation of a failure, for the replication map and the event)."""

    registry_id: str
    region: str
    status: str  # IN_PROGRESS | COMPLETE | FAILED
    updated_at: datetime
    failure_code: str | None = None
    reason: str | None = None

    def describe(self) -> dict[str, str]:
        out = {"region": self.region, "registryId": self.registry_id, "status": self.status}
        if self.failure_code:
            out["failureCode"] = self.failure_code
        return out


@dataclass
class SigningStatus:
    """Where the signing of one image with one signing profile stands, as DescribeImageSigningStatus reports it."""

    profile_arn: str
    status: str  # IN_PROGRESS | COMPLETE | FAILED
    updated_at: datetime
    failure_code: str | None = None
    failure_reason: str | None = None
    signature_digest: str | None = None  # the signature manifest, once COMPLETE

    def describe(self) -> dict[str, str]:
        out = {"signingProfileArn": self.profile_arn, "status": self.status}
        if self.failure_code:
            out["failureCode"] = self.failure_code
        if self.failure_reason:
            out["failureReason"] = self.failure_reason
        return out


@dataclass
class Registry:
    """One account's private registry in one region."""

    account: str
    region: str
    repositories: dict[str, Repository] = field(default_factory=dict)
    policy_text: str | None = None
    replication_rules: list[dict[str, Any]] = field(default_factory=list)
    creation_templates: dict[str, CreationTemplate] = field(default_factory=dict)  # prefix -> template
    pull_through_rules: dict[str, PullThroughCacheRule] = field(default_factory=dict)  # prefix -> rule
    # (repository, digest) -> (destination registry id, region) -> the last push's replication status there.
    replication_statuses: dict[tuple[str, str], dict[tuple[str, str], DestinationStatus]] = field(default_factory=dict)
    scanning_configuration: dict[str, Any] = field(default_factory=lambda: {"scanType": "BASIC", "rules": []})
    account_settings: dict[str, str] = field(default_factory=dict)
    # PutSigningConfiguration's rules; None when the registry has no signing configuration (an empty
    # list is a configuration with no rules, which the model allows).
    signing_rules: list[dict[str, Any]] | None = None
    # (repository, digest) -> signing profile ARN -> where signing the image with that profile stands.
    signing_statuses: dict[tuple[str, str], dict[str, SigningStatus]] = field(default_factory=dict)
    # The registry's lab signing key and its certificate chain (leaf first), PEM, made on first use.
    signing_key_pem: bytes | None = None
    signing_chain_pem: bytes | None = None
    # GetDownloadUrlForLayer's URLs: token -> (repository, layer digest, expiry in lab time).
    download_urls: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    # Pull-time update exclusions of this registry: IAM user or role ARN -> when it was registered (up to 100).
    pull_time_exclusions: dict[str, datetime] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return registry_host(self.account, self.region)

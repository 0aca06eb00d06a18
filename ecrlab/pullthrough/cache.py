"""The pull through cache itself: the engine's ``pull_through`` hook, which fills a repository from its
rule's upstream when a pull asks for what the registry does not hold yet.

A pull of ``<prefix>/<name>:<tag>`` (the manifest read, ``BatchGetImage``) that a rule covers:

- first pull: ECR checks ``ecr:CreateRepository`` and ``ecr:BatchImportUpstreamImage`` for the puller
  (a repository created in advance under the prefix is used as it is, without CreateRepository), fetches the manifest and every blob it references from ``<upstream>/<upstream prefix>/<name>``,
  creates the repository (settings from a ``PULL_THROUGH_CACHE`` creation template, if one covers it)
  and stores the image with its upstream digest; the pull is then answered from the cache;
- later pulls are answered from the cache; a tag is checked against the upstream again once 24 hours of
  lab time have passed since it was last checked (the User Guide: "at least once every 24 hours"),
  and fetched anew if the upstream's tag has moved; a pull by digest that is cached never asks again;
- when the upstream cannot be reached, refuses the credentials or rate limits, a cached image is still
  served; with nothing cached the pull fails with ``UnableToGetUpstreamImageException`` (its failure
  code, ``UpstreamAccessDenied`` / ``UpstreamTooManyRequests`` / ``UpstreamUnavailable``, decides what the
  registry client is told);
- every fetch attempt publishes an "ECR Pull Through Cache Action" event (``sync-status`` SUCCESS or FAILED).

The fetch runs outside the engine's lock: it is HTTP to the upstream, which for an ECR upstream is
another of the lab's own registries, served from the same engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ecrlab.ecr.events import Event
from ecrlab.ecr.images import put_image
from ecrlab.ecr.layers import layer_links, link_layer
from ecrlab.ecr.manifests import parse_manifest
from ecrlab.ecr.model import Principal, PullThroughCacheRule, Repository, repository_arn
from ecrlab.ecr.operations import Call
from ecrlab.errors import (
    ImageAlreadyExistsException,
    ImageTagAlreadyExistsException,
    RegistryClientError,
    UnableToGetUpstreamImageException,
)
from ecrlab.images.client import RegistryClient
from ecrlab.pullthrough.upstream import Upstream, upstream_registry_for
from ecrlab.replication.templates import PULL_THROUGH_CACHE, ROOT, create_repository

if TYPE_CHECKING:
    from ecrlab.ecr.engine import Engine

__all__ = [
    "REFRESH_INTERVAL",
    "PullThroughCache",
    "PullThroughCacheAction",
    "Secret",
    "SecretReader",
    "UpstreamFailure",
    "matching_rule",
]

#: How often a cached tag is checked against its upstream, in lab time.
REFRESH_INTERVAL = timedelta(hours=24)
#: The session name ECR's pull through cache shows when it assumes a rule's customRoleArn (the sandbox's).
ROLE_SESSION = "ecr-pull-through-cache"


class Secret(Protocol):
    """What the cache reads of a Secrets Manager secret (the lab gives :class:`ecrlab.wire.secrets.StoredSecret`)."""

    arn: str
    deleted: bool
    kms_key_usable: bool
    secret_string: str | None


# (account, region, secret ARN) -> the secret, or None when Secrets Manager has none.
SecretReader = Callable[[str, str, str], "Secret | None"]


@dataclass(frozen=True)
class PullThroughCacheAction(Event):
    """ECR's "ECR Pull Through Cache Action": one attempt to fetch an image from a rule's upstream."""

    detail_type: ClassVar[str] = "ECR Pull Through Cache Action"
    repository: str
    prefix: str
    upstream_url: str
    rule_version: int
    tag: str | None
    digest: str | None
    result: str  # SUCCESS | FAILED
    failure_code: str | None = None
    failure_reason: str | None = None

    def to_eventbridge(self) -> tuple[dict[str, Any], list[str]]:
        # Keys in the order of the User Guide's sample event; failure-code and failure-reason are named
        # by EventBridge's schema for the event, not shown in a sample (see docs/ecr-coverage.md).
        detail: dict[str, Any] = {
            "rule-version": str(self.rule_version),
            "sync-status": self.result,
            "ecr-repository-prefix": self.prefix,
            "repository-name": self.repository,
            "upstream-registry-url": self.upstream_url,
        }
        if self.tag:
            detail["image-tag"] = self.tag
        if self.digest:
            detail["image-digest"] = self.digest
        if self.failure_code:
            detail["failure-code"] = self.failure_code
            detail["failure-reason"] = self.failure_reason or ""
        return detail, [repository_arn(self.account, self.region, self.repository)]


class UpstreamFailure(Exception):
    """The upstream refused or could not answer: ``code`` is ECR's ImageFailureCode for it."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def matching_rule(rules: dict[str, PullThroughCacheRule], name: str) -> PullThroughCacheRule | None:
    """The rule a repository name falls under: the longest prefix covering it, else ROOT."""
    covering = [r for p, r in rules.items() if p != ROOT and name.startswith(p + "/") and len(name) > len(p) + 1]
    if covering:
        return max(covering, key=lambda r: len(r.prefix))
    return rules.get(ROOT)


def upstream_name(rule: PullThroughCacheRule, name: str) -> str:
    """The upstream repository a cached repository's name stands for."""
    rest = name if rule.prefix == ROOT else name[len(rule.prefix) + 1 :]
    return rest if rule.upstream_prefix == ROOT else f"{rule.upstream_prefix}/{rest}"


@dataclass
class _Fetched:
    """An image read from the upstream: manifests (children first) and the blobs they reference."""

    manifests: list[tuple[bytes, str]]
    blobs: dict[str, bytes]

    @property
    def digest(self) -> str:
        return parse_manifest(*self.manifests[-1]).digest


class PullThroughCache:
    """The engine's ``pull_through`` hook, the lab's upstream and the secret reader the rules use."""

    def __init__(self, engine: Engine, upstream: Upstream, read_secret: SecretReader) -> None:
        self.engine, self.upstream, self.read_secret = engine, upstream, read_secret

    # -- upstream access --------------------------------------------------------------------------
    def credentials(self, rule: PullThroughCacheRule, account: str, region: str) -> tuple[str, str] | None:
        """(username, accessToken) from the rule's secret; UpstreamFailure when it cannot be read."""
        if not rule.credential_arn:
            return None
        secret = self.read_secret(account, region, rule.credential_arn)
        if secret is None or secret.deleted or not secret.kms_key_usable:
            raise UpstreamFailure(
                "UpstreamAccessDenied", f"Unable to retrieve the secret {rule.credential_arn} from Secrets Manager"
            )
        try:
            value = json.loads(secret.secret_string or "")
            return str(value["username"]), str(value["accessToken"])
        except (ValueError, KeyError, TypeError):
            raise UpstreamFailure(
                "UpstreamAccessDenied",
                f"The secret {rule.credential_arn} must hold JSON with the keys 'username' and 'accessToken'",
            ) from None

    def client(self, rule: PullThroughCacheRule, account: str, region: str) -> RegistryClient:
        """A registry client logged in to the rule's upstream as ECR would be."""
        kind = upstream_registry_for(rule.upstream_url)
        if kind is not None and kind[0] == "ecr":
            return self._ecr_client(rule, account, region)
        login = self.credentials(rule, account, region)
        if login is None:
            client = RegistryClient(self.upstream.host_port)
        else:
            client = RegistryClient(self.upstream.host_port, username=login[0], password=login[1])
        # The upstream is told apart by the Host header (see ecrlab.pullthrough.upstream).
        client.http.headers["Host"] = rule.upstream_url
        return client

    def _ecr_client(self, rule: PullThroughCacheRule, account: str, region: str) -> RegistryClient:
        """An ECR upstream is another registry of the lab, read as the rule's customRoleArn."""
        kind = upstream_registry_for(rule.upstream_url)
        assert kind is not None and kind[1] is not None
        upstream_region = rule.upstream_url.split(".")[3]
        role_name = (rule.custom_role_arn or "").rsplit("/", 1)[-1]
        role = Principal(
            arn=f"arn:aws:sts::{account}:assumed-role/{role_name}/{ROLE_SESSION}",
            account=account,
            kind="assumed-role",
            name=role_name,
        )
        from ecrlab.errors import ServiceError

        try:
            answer = self.engine.call("GetAuthorizationToken", {}, role, upstream_region, source="pull-through-cache")
        except ServiceError as exc:
            raise UpstreamFailure("UpstreamAccessDenied", f"{rule.custom_role_arn}: {exc.message}") from None
        if self.engine.registry_endpoint is None:
            raise UpstreamFailure("UpstreamUnavailable", f"the registry {rule.upstream_url} is not being served")
        endpoint = self.engine.registry_endpoint(kind[1], upstream_region)
        return RegistryClient(endpoint, answer["authorizationData"][0]["authorizationToken"])

    def fetch(self, client: RegistryClient, repository: str, reference: str) -> _Fetched | None:
        """The image ``repository:reference`` of the upstream, or None when the upstream has no such image."""
        try:
            manifests: list[tuple[bytes, str]] = []
            blobs: dict[str, bytes] = {}
            self._fetch_into(client, repository, reference, manifests, blobs)
            return _Fetched(manifests, blobs)
        except RegistryClientError as exc:
            if exc.status == 404:
                return None
            raise _failure(exc, client) from None

    def _fetch_into(
        self,
        client: RegistryClient,
        repository: str,
        reference: str,
        manifests: list[tuple[bytes, str]],
        blobs: dict[str, bytes],
    ) -> None:
        raw, media_type = client.get_manifest(repository, reference)
        manifest = parse_manifest(raw, media_type or None)
        for child in manifest.children:
            self._fetch_into(client, repository, child, manifests, blobs)
        for digest, _size in manifest.blobs:
            if digest not in blobs:
                blobs[digest] = client.get_blob(repository, digest)
        manifests.append((raw, manifest.media_type))

    def head(self, client: RegistryClient, repository: str, tag: str) -> str | None:
        """The digest the upstream's ``tag`` names now, or None when it names nothing."""
        try:
            raw, _ = client.get_manifest(repository, tag)
        except RegistryClientError as exc:
            if exc.status == 404:
                return None
            raise _failure(exc, client) from None
        from ecrlab.oci import sha256_digest

        return sha256_digest(raw)

    # -- the hook ---------------------------------------------------------------------------------
    def __call__(self, call: Call) -> None:
        name = call.params.get("repositoryName") or ""
        with self.engine.lock:
            registry = call.registry
            rule = matching_rule(registry.pull_through_rules, name)
            if rule is None:
                return
        for image_id in call.params.get("imageIds") or []:
            reference = image_id.get("imageTag") or image_id.get("imageDigest")
            if reference and self._needs_fetch(call, name, image_id):
                self._sync(call, rule, name, reference, image_id.get("imageTag"))

    def _needs_fetch(self, call: Call, name: str, image_id: dict[str, str]) -> bool:
        with self.engine.lock:
            repo = call.registry.repositories.get(name)
            if repo is None:
                return True
            if image_id.get("imageTag"):
                tag = image_id["imageTag"]
                checked = repo.upstream_checked.get(tag)
                return tag not in repo.image_tags or checked is None or call.now() - checked >= REFRESH_INTERVAL
            return image_id.get("imageDigest") not in repo.images

    def _sync(self, call: Call, rule: PullThroughCacheRule, name: str, reference: str, tag: str | None) -> None:
        account, region = call.registry_id, call.region
        source = upstream_name(rule, name)
        with self.engine.lock:
            repo = call.registry.repositories.get(name)
            cached = repo.image_tags.get(tag) if repo is not None and tag else None
        try:
            self._authorize(call, name, creating=repo is None)
            client = self.client(rule, account, region)
            try:
                if cached is not None and tag is not None and self.head(client, source, tag) == cached:
                    with self.engine.lock:
                        if repo is not None:
                            repo.upstream_checked[tag] = call.now()
                    return  # the upstream's tag has not moved: the cached image stays
                fetched = self.fetch(client, source, reference)
            finally:
                client.close()
        except UpstreamFailure as failure:
            self._emit(call, rule, name, tag, None, failure)
            if cached is not None:
                return  # ECR serves what it has cached while the upstream cannot answer
            raise UnableToGetUpstreamImageException.failed(failure.code, failure.reason) from None
        if fetched is None:
            return  # the upstream has no such image: the pull answers as for any missing image
        with self.engine.lock:
            self._store(call, rule, name, fetched, tag)
        self._emit(call, rule, name, tag, fetched.digest, None)
        self.engine.events.deliver()

    def _authorize(self, call: Call, name: str, creating: bool) -> None:
        """The puller's permissions ECR checks before it imports: CreateRepository on the first pull."""
        actions = (["ecr:CreateRepository"] if creating else []) + ["ecr:BatchImportUpstreamImage"]
        for action in actions:
            check = Call(
                self.engine,
                action.split(":", 1)[1],
                call.principal,
                call.region,
                {"registryId": call.registry_id, "repositoryName": name},
                call.source,
                call.source_ip,
                call.user_agent,
            )
            self.engine.authorizer(check, action, repository_arn(call.registry_id, call.region, name))

    def _store(self, call: Call, rule: PullThroughCacheRule, name: str, fetched: _Fetched, tag: str | None) -> None:
        """Create the repository if needed and store the image as fetched (callers hold the lock)."""
        engine = self.engine
        account, region = call.registry_id, call.region
        registry = call.registry
        repo = registry.repositories.get(name)
        if repo is None:
            repo, _ = create_repository(call, account, region, name, PULL_THROUGH_CACHE, call.principal)
            repo.pull_through_prefix = rule.prefix
        store = engine.blobs.store(account, region)
        for digest, data in fetched.blobs.items():
            if not store.exists(digest):
                upload = store.start_upload(engine.new_id(), engine.clock.now(), name)
                upload.append([data])
                store.commit(upload.id, digest, len(data))
            if digest not in layer_links(repo):
                link_layer(repo, digest, len(data))
        for index, (raw, media_type) in enumerate(fetched.manifests):
            last = index == len(fetched.manifests) - 1
            params: dict[str, Any] = {
                "registryId": account,
                "repositoryName": name,
                "imageManifest": raw.decode("utf-8"),
                "imageManifestMediaType": media_type,
            }
            if last and tag:
                params["imageTag"] = tag
            _put(Call(engine, "PutImage", call.principal, region, params, source="pull-through-cache"), repo)
        if tag:
            repo.upstream_checked[tag] = call.now()

    def _emit(
        self,
        call: Call,
        rule: PullThroughCacheRule,
        name: str,
        tag: str | None,
        digest: str | None,
        failure: UpstreamFailure | None,
    ) -> None:
        call.emit(
            PullThroughCacheAction(
                call.registry_id,
                call.region,
                call.now(),
                repository=name,
                prefix=rule.prefix,
                upstream_url=rule.upstream_url,
                rule_version=rule.version,
                tag=tag,
                digest=digest,
                result="FAILED" if failure else "SUCCESS",
                failure_code=failure.code if failure else None,
                failure_reason=failure.reason if failure else None,
            )
        )
        if failure is not None:
            self.engine.events.deliver()


def _put(call: Call, repo: Repository) -> None:
    """PutImage for an image arriving from the upstream; one already cached (or an immutable tag the
    cache holds on another image) keeps what the repository has."""
    try:
        put_image(call)
    except (ImageAlreadyExistsException, ImageTagAlreadyExistsException):
        pass


def _failure(exc: RegistryClientError, client: RegistryClient) -> UpstreamFailure:
    """ECR's ImageFailureCode for what the upstream answered."""
    # Named by the upstream's URL, not the loopback address the lab serves it on.
    host = client.http.headers.get("Host") or "the upstream registry"
    reason = f"{host} answered {exc.status or 'nothing'} {exc.code}: {exc.message}"
    if exc.status in (401, 403):
        return UpstreamFailure("UpstreamAccessDenied", reason)
    if exc.status == 429:
        return UpstreamFailure("UpstreamTooManyRequests", reason)
    return UpstreamFailure("UpstreamUnavailable", reason)

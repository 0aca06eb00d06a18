"""Kubernetes manifests as ``kubectl apply`` takes them: YAML documents, validated before anything is applied.

Each document is checked against the OpenAPI schemas of Kubernetes :data:`KUBERNETES_VERSION` that
``kubernetes-validate`` ships (strict: unknown fields are errors, as ``kubectl apply --validate=strict``
reports them), plus the API server's own checks the schemas do not carry (``imagePullPolicy`` values, a
Deployment's selector matching its template, a Job's ``restartPolicy``). The error names the document, the
kind and the field path, so a learner can find the mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import yaml

from ecrlab.errors import LabError

__all__ = ["KINDS", "KUBERNETES_VERSION", "ManifestError", "containers_of", "parse_manifests", "pod_template"]

#: The Kubernetes release whose schemas manifests are validated against (an EKS standard-support version).
KUBERNETES_VERSION = "1.31"

#: What ``Cluster.apply`` accepts: (apiVersion, kind).
KINDS = {("v1", "Pod"), ("apps/v1", "Deployment"), ("batch/v1", "Job")}

_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


class ManifestError(LabError):
    """A manifest Kubernetes would refuse; nothing of the ``apply`` that contained it was applied."""


def _path(parts: Iterator[Any] | list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def pod_template(document: dict[str, Any]) -> dict[str, Any]:
    """The pod spec's holder: the Pod itself, or ``spec.template`` of a Deployment or Job."""
    return document if document["kind"] == "Pod" else document["spec"]["template"]


def containers_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_template(document).get("spec", {}).get("containers", []))


def _server_checks(document: dict[str, Any], where: str) -> None:
    kind = document["kind"]
    spec_path = "spec" if kind == "Pod" else "spec.template.spec"
    for n, container in enumerate(containers_of(document)):
        policy = container.get("imagePullPolicy")
        if policy is not None and policy not in _PULL_POLICIES:
            supported = ", ".join(f'"{p}"' for p in _PULL_POLICIES)
            raise ManifestError(
                f'{where}: {kind}.{spec_path}.containers[{n}].imagePullPolicy: Unsupported value: "{policy}": '
                f"supported values: {supported}"
            )
    if kind == "Deployment":
        selector = document["spec"].get("selector", {}).get("matchLabels", {})
        labels = document["spec"]["template"].get("metadata", {}).get("labels", {})
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            raise ManifestError(
                f"{where}: Deployment.spec.template.metadata.labels: Invalid value: {labels}: "
                "`selector` does not match template `labels`"
            )
    if kind == "Job":
        restart = document["spec"]["template"].get("spec", {}).get("restartPolicy")
        if restart not in ("Never", "OnFailure"):
            raise ManifestError(
                f'{where}: Job.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
            )


def parse_manifests(text: str) -> list[dict[str, Any]]:
    """The documents of ``text``, every one validated; raises :class:`ManifestError` at the first bad one."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ManifestError(f"error parsing YAML: {exc}") from None
    if not documents:
        raise ManifestError("no objects passed to apply")
    for n, document in enumerate(documents, 1):
        if not isinstance(document, dict):
            raise ManifestError(f"document {n}: not a Kubernetes object (a mapping with apiVersion and kind)")
        name = (document.get("metadata") or {}).get("name", "")
        kind = document.get("kind", "")
        where = f"document {n} ({kind or 'no kind'} {name!r})"
        if (document.get("apiVersion"), kind) not in KINDS:
            supported = ", ".join(f"{k} ({v})" for v, k in sorted(KINDS))
            raise ManifestError(
                f"{where}: apiVersion {document.get('apiVersion')!r} kind {kind!r} is not supported by the lab's "
                f"cluster: it applies {supported}"
            )
        if not name:
            raise ManifestError(f"{where}: {kind}.metadata.name: Required value: name or generateName is required")
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise ManifestError(f"{where}: {kind}{_path(list(exc.path))}: {exc.message}") from None
        _server_checks(document, where)
    return documents

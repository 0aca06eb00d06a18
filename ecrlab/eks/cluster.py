"""An EKS cluster in moto's EKS with one managed node, whose pods pull their images from the lab's ECR.

moto's EKS keeps the cluster and the node group (with the node role); the workloads (Pods, Deployments and
their ReplicaSets, Jobs) are kept here, as a control plane would, and each pod's image is pulled by the
node's :class:`~ecrlab.eks.kubelet.Node` the way the kubelet pulls it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecrlab.eks.kubelet import Node, PullFailed, parse_image
from ecrlab.eks.manifests import KUBERNETES_VERSION, ManifestError, containers_of, parse_manifests, pod_template
from ecrlab.errors import LabError

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["Cluster", "Pod"]

_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' alphabet for generated name suffixes
_CLUSTER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:length])


@dataclass
class Pod:
    """A pod as ``kubectl get pod -o json`` would summarise its one container."""

    name: str
    image: str
    owner: str  # "Deployment/web", "Job/migrate" or "Pod/debug"
    pull_policy: str | None
    phase: str = "Pending"
    reason: str | None = None
    message: str | None = None
    image_id: str | None = None
    attempts: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "image": self.image,
            "imageID": self.image_id or "",
            "phase": self.phase,
            "reason": self.reason,
            "message": self.message,
        }


class Cluster:
    """``Cluster.create(lab, name, node_role_arn=...)``; then ``apply(yaml)``, ``pods()``, ``restart(name)``."""

    def __init__(self, lab: Lab, name: str, node_role_arn: str, region: str) -> None:
        self.lab = lab
        self.name = name
        self.node_role_arn = node_role_arn
        self.region = region
        account = node_role_arn.split(":")[4]
        node_name = f"ip-10-0-1-{int(hashlib.sha256(name.encode()).hexdigest(), 16) % 200 + 20}.ec2.internal"
        self.node = Node(lab, node_name, account, node_role_arn.rsplit("/", 1)[-1], region)
        self._objects: dict[tuple[str, str], dict[str, Any]] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}  # Deployment -> pod templates, oldest first
        self._pods: dict[str, Pod] = {}
        self._created = 0
        self._events: list[tuple[str, str, str, str]] = []  # (type, object, reason, message), oldest first

    @classmethod
    def create(
        cls, lab: Lab, name: str, *, node_role_arn: str, cluster_role_arn: str | None = None, region: str | None = None
    ) -> Cluster:
        """Create the cluster and a managed node group ``<name>-nodes`` whose nodes run as ``node_role_arn``
        (moto's EKS; a cluster role ``ecrlab-eks-cluster`` trusted by EKS is made if none is given)."""
        region = region or lab.region
        iam = lab.client("iam")
        role_name = node_role_arn.rsplit("/", 1)[-1]
        try:
            iam.get_role(RoleName=role_name)
        except iam.exceptions.NoSuchEntityException:
            raise LabError(f"there is no IAM role {node_role_arn}: create the node role first") from None
        if cluster_role_arn is None:
            try:
                cluster_role_arn = iam.get_role(RoleName="ecrlab-eks-cluster")["Role"]["Arn"]
            except iam.exceptions.NoSuchEntityException:
                cluster_role_arn = iam.create_role(
                    RoleName="ecrlab-eks-cluster", AssumeRolePolicyDocument=json.dumps(_CLUSTER_TRUST)
                )["Role"]["Arn"]
        eks = lab.client("eks", region_name=region)
        subnets = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
        eks.create_cluster(
            name=name, version=KUBERNETES_VERSION, roleArn=cluster_role_arn, resourcesVpcConfig={"subnetIds": subnets}
        )
        eks.create_nodegroup(
            clusterName=name,
            nodegroupName=f"{name}-nodes",
            subnets=subnets,
            nodeRole=node_role_arn,
            scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1},
        )
        return cls(lab, name, node_role_arn, region)

    def describe(self) -> dict[str, Any]:
        """The cluster as EKS describes it (``aws eks describe-cluster``)."""
        return self.lab.client("eks", region_name=self.region).describe_cluster(name=self.name)["cluster"]

    # -- kubectl apply ----------------------------------------------------------------------------
    def apply(self, text: str) -> list[str]:
        """``kubectl apply -f``: every document validated first (nothing applied if one is invalid), then
        each created or configured; returns kubectl's lines (``deployment.apps/web created``)."""
        documents = parse_manifests(text)
        lines = []
        for document in documents:
            kind, name = document["kind"], document["metadata"]["name"]
            group = {"Deployment": "deployment.apps", "Job": "job.batch", "Pod": "pod"}[kind]
            previous = self._objects.get((kind, name))
            if previous is not None and kind in ("Pod", "Job") and previous["spec"] != document["spec"]:
                raise ManifestError(
                    f'The {kind} "{name}" is invalid: spec: Forbidden: {kind.lower()} updates may not change '
                    "fields other than the ones Kubernetes allows: delete it first"
                )
            self._objects[(kind, name)] = copy.deepcopy(document)
            if previous is not None and previous == document:
                lines.append(f"{group}/{name} unchanged")
                continue
            if kind == "Deployment":
                self._roll_out(document)
            elif previous is None:
                self._start_pod(document, name if kind == "Pod" else f"{name}-{_suffix(f'{name}{self._created}', 5)}")
            lines.append(f"{group}/{name} {'configured' if previous is not None else 'created'}")
        return lines

    def restart(self, deployment: str) -> list[str]:
        """``kubectl rollout restart deployment/<name>``: a new ReplicaSet from the same template (an annotation
        changes), so every pod is recreated and each image is resolved again per its pull policy."""
        document = self._deployment(deployment)
        annotations = document["spec"]["template"].setdefault("metadata", {}).setdefault("annotations", {})
        annotations["kubectl.kubernetes.io/restartedAt"] = self.lab.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        self._roll_out(document)
        return [f"deployment.apps/{deployment} restarted"]

    def rollback(self, deployment: str) -> list[str]:
        """``kubectl rollout undo deployment/<name>``: back to the previous pod template."""
        history = self._history.get(deployment, [])
        if len(history) < 2:
            raise LabError(f'no rollout history found for deployment "{deployment}"')
        document = self._deployment(deployment)
        history.pop()
        document["spec"]["template"] = copy.deepcopy(history.pop())
        self._roll_out(document)
        return [f"deployment.apps/{deployment} rolled back"]

    def pods(self) -> list[dict[str, Any]]:
        """Every pod, ``{name, image, imageID, phase, reason, message}``; a pod waiting on its image is tried
        again first (the kubelet's back-off retry), so a fixed permission shows as Running."""
        for pod in self._pods.values():
            if pod.phase == "Pending":
                self._pull(pod)
        return [p.summary() for p in sorted(self._pods.values(), key=lambda p: p.name)]

    def events(self) -> list[dict[str, str]]:
        """``kubectl get events``: what the kubelet reported, oldest first (a failed pull says why here)."""
        return [{"type": t, "object": o, "reason": r, "message": m} for t, o, r, m in self._events]

    # -- the control plane's work -----------------------------------------------------------------
    def _deployment(self, name: str) -> dict[str, Any]:
        document = self._objects.get(("Deployment", name))
        if document is None:
            raise LabError(f'deployments.apps "{name}" not found')
        return document

    def _roll_out(self, document: dict[str, Any]) -> None:
        name = document["metadata"]["name"]
        template = document["spec"]["template"]
        history = self._history.setdefault(name, [])
        if not history or history[-1] != template:
            history.append(copy.deepcopy(template))
        template_hash = _suffix(json.dumps(template, sort_keys=True), 10)
        owner = f"Deployment/{name}"
        current = [p for p in self._pods.values() if p.owner == owner and p.name.startswith(f"{name}-{template_hash}-")]
        # A rollout replaces the old ReplicaSet's pods with the new one's (maxSurge/maxUnavailable collapsed).
        for pod in [p for p in self._pods.values() if p.owner == owner and p not in current]:
            del self._pods[pod.name]
        for _ in range(len(current), int(document["spec"].get("replicas", 1))):
            self._start_pod(document, f"{name}-{template_hash}-{_suffix(f'{name}{self._created}', 5)}")

    def _start_pod(self, document: dict[str, Any], pod_name: str) -> None:
        self._created += 1
        (container, *_) = containers_of(document)
        labels = dict(pod_template(document).get("metadata", {}).get("labels", {}))
        pod = Pod(
            pod_name,
            container["image"],
            f"{document['kind']}/{document['metadata']['name']}",
            container.get("imagePullPolicy"),
            labels=labels,
        )
        self._pods[pod_name] = pod
        self._pull(pod)

    def _pull(self, pod: Pod) -> None:
        pod.attempts += 1
        try:
            digest = self.node.ensure_image(pod.image, pod.pull_policy)
        except PullFailed as failed:
            pod.phase = "Pending"
            self._events.append(
                ("Warning", f"pod/{pod.name}", "Failed", f'Failed to pull image "{pod.image}": {failed.message}')
            )
            if pod.attempts > 1 and failed.reason == "ErrImagePull":
                pod.reason, pod.message = "ImagePullBackOff", f'Back-off pulling image "{pod.image}"'
            else:
                pod.reason, pod.message = failed.reason, failed.message
            return
        ref = parse_image(pod.image)
        pod.image_id = f"{ref.host}/{ref.repository}@{digest}"
        self._events.append(
            ("Normal", f"pod/{pod.name}", "Pulled", f'Container image "{pod.image}" resolved to {digest}')
        )
        if pod.owner.startswith("Job/"):
            pod.phase, pod.reason, pod.message = "Succeeded", "Completed", None
        else:
            pod.phase, pod.reason, pod.message = "Running", None, None

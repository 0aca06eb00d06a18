"""EKS references: a cluster in moto's EKS whose node pulls images from the lab's ECR as the kubelet does.

``Cluster.create(lab, name, node_role_arn=...)`` creates the cluster and a managed node group with that node
role; ``cluster.apply(yaml_text)`` takes Pods, Deployments and Jobs validated against the Kubernetes schemas;
``cluster.pods()`` reports each pod's image, ``imageID``, phase and the kubelet's reason and message;
``cluster.restart(deployment)`` and ``cluster.rollback(deployment)`` are ``kubectl rollout restart/undo``.
"""

from ecrlab.eks.cluster import Cluster, Pod
from ecrlab.eks.kubelet import ImageRef, Node, PullFailed, default_pull_policy, parse_image
from ecrlab.eks.manifests import KUBERNETES_VERSION, ManifestError, parse_manifests

__all__ = [
    "KUBERNETES_VERSION",
    "Cluster",
    "ImageRef",
    "ManifestError",
    "Node",
    "Pod",
    "PullFailed",
    "default_pull_policy",
    "parse_image",
    "parse_manifests",
]

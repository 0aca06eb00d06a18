"""EKS references: pods pull from the lab's ECR as the kubelet does, decided by the policy engine."""

from __future__ import annotations

import json

import pytest

from ecrlab.eks import Cluster, ManifestError, default_pull_policy, parse_image
from ecrlab.images import RegistryClient
from tests.images.random_images import random_image

EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"


def node_role(lab, name="eks-node", policy: str | None = READ_ONLY, client=None) -> str:
    iam = client or lab.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))["Role"]["Arn"]
    if policy:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return arn


def deployment(image: str, name: str = "web", replicas: int = 1, policy: str | None = None) -> str:
    pull = f"\n          imagePullPolicy: {policy}" if policy else ""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: {image}{pull}
"""


@pytest.fixture
def pushed(lab, ecr):
    ecr.create_repository(repositoryName="shop/web")
    client = RegistryClient.for_lab(lab)
    digests = {tag: client.push(random_image(layer_size=64), "shop/web", tag).digest for tag in ("v1", "v2")}
    client.close()
    return digests


def uri(lab, tag="v1", account=None):
    return f"{account or lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com/shop/web:{tag}"


def test_cluster_and_node_group_in_moto_eks(lab):
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab))
    assert cluster.describe()["status"] == "ACTIVE" and cluster.describe()["version"] == "1.31"
    group = lab.client("eks").describe_nodegroup(clusterName="demo", nodegroupName="demo-nodes")["nodegroup"]
    assert group["nodeRole"] == f"arn:aws:iam::{lab.account_id}:role/eks-node"


def test_a_read_only_node_runs_the_pod_with_the_pulled_digest(lab, pushed):
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab))
    assert cluster.apply(deployment(uri(lab), replicas=2)) == ["deployment.apps/web created"]
    pods = cluster.pods()
    assert len(pods) == 2 and {p["phase"] for p in pods} == {"Running"}
    host = f"{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com"
    assert {p["imageID"] for p in pods} == {f"{host}/shop/web@{pushed['v1']}"}
    pulls = [r for r in lab.trail.records if r["eventName"] == "BatchGetImage"]
    assert pulls[-1]["userIdentity"]["type"] == "AssumedRole"
    assert pulls[-1]["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == "eks-node"


def test_a_node_role_without_ecr_permissions_pulls_anonymously_then_is_fixed(lab, pushed):
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab, policy=None))
    cluster.apply(deployment(uri(lab)))
    failed = next(e for e in cluster.events() if e["reason"] == "Failed")
    assert failed["message"].endswith("authorization failed: no basic auth credentials")
    (pod,) = cluster.pods()  # retried: the kubelet backs off
    assert pod["phase"] == "Pending" and pod["reason"] == "ImagePullBackOff"
    assert pod["message"] == f'Back-off pulling image "{uri(lab)}"'
    lab.client("iam").attach_role_policy(
        RoleName="eks-node", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"
    )
    (pod,) = cluster.pods()
    assert pod["phase"] == "Running" and pod["imageID"].endswith(pushed["v1"])


def test_a_denied_token_gets_403_and_a_missing_tag_not_found(lab, ecr, pushed):
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoNodes", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage"}],
    }
    ecr.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(deny))
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab))
    cluster.apply(deployment(uri(lab)))
    (pod,) = [p for p in cluster.pods()]
    assert pod["reason"] == "ImagePullBackOff"
    assert "403 Forbidden" in cluster.events()[0]["message"]
    ecr.delete_repository_policy(repositoryName="shop/web")
    cluster.apply(deployment(uri(lab, "v9"), name="missing"))
    message = next(e["message"] for e in cluster.events() if "pod/missing" in e["object"])
    assert message.endswith(f"{uri(lab, 'v9')}: not found")


def test_cross_account_pull_needs_the_repository_policy(lab):
    other = lab.account("210987654321")
    other_ecr = other.client("ecr")
    other_ecr.create_repository(repositoryName="shop/web")
    client = RegistryClient.for_lab(lab, other.session(), account_id="210987654321")
    digest = client.push(random_image(layer_size=64), "shop/web", "v1").digest
    client.close()
    role = node_role(lab)
    cluster = Cluster.create(lab, "demo", node_role_arn=role)
    image = uri(lab, account="210987654321")
    cluster.apply(deployment(image))
    assert cluster.pods()[0]["reason"] == "ImagePullBackOff"
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NodesOfTheLabAccount",
                "Effect": "Allow",
                "Principal": {"AWS": role},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ],
    }
    other_ecr.set_repository_policy(repositoryName="shop/web", policyText=json.dumps(allow))
    (pod,) = cluster.pods()
    assert pod["phase"] == "Running" and pod["imageID"].endswith(digest)


def test_if_not_present_keeps_a_moved_tag_and_digests_pin(lab, pushed):
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab))
    cluster.apply(deployment(uri(lab, "stable")))  # nothing tagged stable yet
    client = RegistryClient.for_lab(lab)
    manifest_v1, _ = client.get_manifest("shop/web", "v1")
    client.push_manifest("shop/web", "stable", manifest_v1)
    assert cluster.pods()[0]["imageID"].endswith(pushed["v1"])
    manifest_v2, _ = client.get_manifest("shop/web", "v2")
    client.push_manifest("shop/web", "stable", manifest_v2)  # the tag moves
    client.close()
    cluster.restart("web")
    (pod,) = cluster.pods()
    assert pod["imageID"].endswith(pushed["v1"])  # IfNotPresent: the node's copy of :stable is used
    cluster.apply(deployment(uri(lab, "stable"), policy="Always"))
    assert cluster.pods()[0]["imageID"].endswith(pushed["v2"])
    by_digest = f"{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com/shop/web@{pushed['v1']}"
    cluster.apply(deployment(by_digest))
    assert cluster.pods()[0]["imageID"].endswith(pushed["v1"])
    assert cluster.rollback("web") == ["deployment.apps/web rolled back"]
    assert cluster.pods()[0]["imageID"].endswith(pushed["v2"])


def test_pull_policy_defaults():
    assert default_pull_policy(parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/web")) == "Always"
    assert default_pull_policy(parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:latest")) == "Always"
    assert default_pull_policy(parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1")) == "IfNotPresent"
    assert default_pull_policy(parse_image("nginx@sha256:" + "a" * 64)) == "IfNotPresent"
    assert parse_image("nginx").canonical == "docker.io/library/nginx:latest"


def test_an_image_from_outside_does_not_resolve(lab):
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab))
    cluster.apply(deployment("nginx:1.27"))
    assert "lookup docker.io: no such host" in cluster.events()[0]["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda text: text.replace("image:", "imagePolicy: x\n          image:"),
            "containers[0]: Additional properties",
        ),
        (lambda text: text.replace("replicas: 1", "replicas: one"), "Deployment.spec.replicas"),
        (lambda text: text + "          imagePullPolicy: Sometimes\n", 'Unsupported value: "Sometimes"'),
        (lambda text: text.replace("labels: {app: web}", "labels: {app: other}"), "selector` does not match"),
    ],
)
def test_invalid_manifests_name_the_field_and_apply_nothing(lab, change, field):
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab))
    good = deployment("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:v1", name="first")
    with pytest.raises(ManifestError) as refused:
        cluster.apply(good + "---\n" + change(deployment("x.dkr.ecr.us-east-1.amazonaws.com/a:v1")))
    assert field in str(refused.value) and "document 2" in str(refused.value)
    assert cluster.pods() == []  # the valid first document was not applied either


def test_jobs_complete_and_pods_run(lab, pushed):
    cluster = Cluster.create(lab, "demo", node_role_arn=node_role(lab))
    job = f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: migrate}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: migrate, image: "{uri(lab)}"}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: debug}}
spec:
  containers: [{{name: debug, image: "{uri(lab, "v2")}"}}]
"""
    assert cluster.apply(job) == ["job.batch/migrate created", "pod/debug created"]
    phases = {p["name"].split("-")[0]: (p["phase"], p["reason"]) for p in cluster.pods()}
    assert phases == {"migrate": ("Succeeded", "Completed"), "debug": ("Running", None)}

"""Exercises for notebooks/09-eks.ipynb: fix an ImagePullBackOff with the least permission, pin a Deployment by
digest, and predict the kubelet's pull policy.

The checks read the lab as a learner would: the cluster's pods, the node role's attached policies in IAM, and
DescribeImages for the digests.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ecrlab.eks import Cluster, default_pull_policy, parse_image
from ecrlab.exercises.core import Incorrect, NotAttempted, Problem
from ecrlab.images import ImageBuilder, RegistryClient

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["PULL_POLICY_IMAGES", "q1", "q2", "q3", "reset", "setup"]

ROLE = "shop-node"
REPOSITORY = "shop/api"
_EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
_TOO_MUCH = {
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
    "arn:aws:iam::aws:policy/AdministratorAccess",
}
_ENOUGH = {
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
}

#: Exercise 3: images as they appear in pod specs without an ``imagePullPolicy``.
PULL_POLICY_IMAGES = (
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:latest",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:v1",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api@sha256:" + "0" * 64,
)


def setup(lab: Lab) -> Cluster:
    """The exercises' cluster ``shop``: a node role ``shop-node`` with no ECR permission (yet), ``shop/api`` with
    ``v1`` and ``v2``, and a Deployment ``api`` of ``shop/api:v2``, whose pod cannot pull."""
    iam, ecr = lab.client("iam"), lab.client("ecr")
    if ROLE not in {r["RoleName"] for r in iam.list_roles()["Roles"]}:
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=_EC2_TRUST)
    if REPOSITORY not in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}:
        ecr.create_repository(repositoryName=REPOSITORY)
        pusher = RegistryClient.for_lab(lab)
        try:
            for tag in ("v1", "v2"):
                pusher.push(
                    ImageBuilder().copy_bytes(f"shop api {tag}".encode(), "/content.txt").build(), REPOSITORY, tag
                )
        finally:
            pusher.close()
    eks = lab.client("eks")
    if "shop" in eks.list_clusters()["clusters"]:  # run again: a fresh cluster (its workloads lived in the last one)
        for group in eks.list_nodegroups(clusterName="shop")["nodegroups"]:
            eks.delete_nodegroup(clusterName="shop", nodegroupName=group)
        eks.delete_cluster(name="shop")
    cluster = Cluster.create(lab, "shop", node_role_arn=f"arn:aws:iam::{lab.account_id}:role/{ROLE}")
    image = f"{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com/{REPOSITORY}:v2"
    cluster.apply(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n"
        "spec:\n  replicas: 1\n  selector: {matchLabels: {app: api}}\n"
        f"  template:\n    metadata: {{labels: {{app: api}}}}\n    spec:\n      containers: [{{name: api, image: '{image}'}}]\n"
    )
    return cluster


def _cluster(answer: Any) -> Cluster:
    if not isinstance(answer, Cluster):
        raise NotAttempted("pass the cluster: `ex.q1.check(shop)` (the value `ex.setup(lab)` returned).")
    return answer


class FixPullBackOff(Problem):
    title = (
        "The `api` pod of cluster `shop` is in ImagePullBackOff. Fix it with the least ECR permission the node needs."
    )
    takes_answer = True
    hints = (
        "`shop.events()` says why: the node role got no registry token, so the pull was anonymous.",
        (
            "The kubelet needs `ecr:GetAuthorizationToken`, `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer`: "
            "AWS's managed policy `AmazonEC2ContainerRegistryPullOnly` (2024) is exactly that."
        ),
    )
    solution_text = "Attach the pull-only managed policy to the node role; the kubelet's next retry succeeds:"
    solution_code = (
        "lab.client('iam').attach_role_policy(\n"
        "    RoleName='shop-node', PolicyArn='arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly')\n"
        "ex.q1.check(shop)"
    )
    wrong_answers = (
        (
            "import json\n"
            "token_only = {'Version': '2012-10-17', 'Statement': [\n"
            "    {'Effect': 'Allow', 'Action': 'ecr:GetAuthorizationToken', 'Resource': '*'}]}\n"
            "lab.client('iam').put_role_policy(RoleName='shop-node', PolicyName='token',\n"
            "                                  PolicyDocument=json.dumps(token_only))\n"
            "ex.q1.check(shop)"
        ),
        "shop.restart('api')  # restart the pods\nex.q1.check(shop)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        cluster = _cluster(answer)
        attached = {
            p["PolicyArn"] for p in lab.client("iam").list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
        }
        generous = sorted(attached & _TOO_MUCH)
        if generous:
            raise Incorrect(f"{generous[0].rsplit('/', 1)[-1]} lets the node push or delete images too: it only pulls.")
        pods = [p for p in cluster.pods() if p["name"].startswith("api-")]
        if not attached and not lab.client("iam").list_role_policies(RoleName=ROLE)["PolicyNames"]:
            raise NotAttempted("the node role has no policy yet: `shop.events()` says what the pull lacked.")
        if not pods or any(p["phase"] != "Running" for p in pods):
            reason = pods[0]["reason"] if pods else "no pod"
            raise Incorrect(f"the pod is still {reason}: look at `shop.events()` and the node role's policies.")
        which = sorted(attached & _ENOUGH) or ["an inline policy"]
        return f"the pod runs {pods[0]['imageID']}; the node pulls with {which[0].rsplit('/', 1)[-1]} and nothing more."


class PinByDigest(Problem):
    title = "Pin the Deployment `api` to the image `shop/api:v1` by its digest (`...@sha256:...`), and make it run."
    takes_answer = True
    hints = (
        "`ecr.describe_images(repositoryName='shop/api', imageIds=[{'imageTag': 'v1'}])` gives `imageDigest`.",
        "Apply the Deployment again with `image: <account>.dkr.ecr.<region>.amazonaws.com/shop/api@sha256:...`.",
    )
    solution_text = "Look the digest up, then apply the same Deployment with the image named by digest:"
    solution_code = (
        "digest = ecr.describe_images(repositoryName='shop/api', imageIds=[{'imageTag': 'v1'}])['imageDetails'][0]['imageDigest']\n"
        "image = f'{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com/shop/api@{digest}'\n"
        "shop.apply(f'''\n"
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata: {{name: api}}\n"
        "spec:\n"
        "  replicas: 1\n"
        "  selector: {{matchLabels: {{app: api}}}}\n"
        "  template:\n"
        "    metadata: {{labels: {{app: api}}}}\n"
        "    spec:\n"
        "      containers: [{{name: api, image: '{image}'}}]\n"
        "''')\n"
        "ex.q2.check(shop)"
    )
    wrong_answers = (
        (
            "digest = ecr.describe_images(repositoryName='shop/api', imageIds=[{'imageTag': 'v2'}])"
            "['imageDetails'][0]['imageDigest']\n"
            "image = f'{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com/shop/api@{digest}'\n"
            "shop.apply('apiVersion: apps/v1\\nkind: Deployment\\nmetadata: {name: api}\\nspec:\\n  replicas: 1\\n'\n"
            "           '  selector: {matchLabels: {app: api}}\\n  template:\\n    metadata: {labels: {app: api}}\\n'\n"
            "           f'    spec:\\n      containers: [{{name: api, image: \"{image}\"}}]\\n')\n"
            "ex.q2.check(shop)"
        ),
        (
            "image = f'{lab.account_id}.dkr.ecr.{lab.region}.amazonaws.com/shop/api:v1'\n"
            "shop.apply('apiVersion: apps/v1\\nkind: Deployment\\nmetadata: {name: api}\\nspec:\\n  replicas: 1\\n'\n"
            "           '  selector: {matchLabels: {app: api}}\\n  template:\\n    metadata: {labels: {app: api}}\\n'\n"
            "           f'    spec:\\n      containers: [{{name: api, image: \"{image}\"}}]\\n')\n"
            "ex.q2.check(shop)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        cluster = _cluster(answer)
        v1 = lab.client("ecr").describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": "v1"}])
        digest = v1["imageDetails"][0]["imageDigest"]
        pods = [p for p in cluster.pods() if p["name"].startswith("api-")]
        if not pods:
            raise NotAttempted("there is no `api` pod: run `ex.setup(lab)` first.")
        pod = pods[0]
        if "@" not in pod["image"]:
            raise NotAttempted(
                f"the pod's image is {pod['image']}: name it by digest, `shop/api@sha256:...`, not by tag."
            )
        if parse_image(pod["image"]).digest != digest:
            raise Incorrect("that digest is not v1's: read it with DescribeImages (`imageDigest` of tag v1).")
        if pod["phase"] != "Running":
            raise Incorrect(f"the pinned pod is {pod['reason']}: can the node pull yet (exercise 1)?")
        return f"`api` runs {pod['imageID']}: exactly v1, whatever the tag `v1` points at later."


class PredictPullPolicy(Problem):
    title = (
        "For each image in `PULL_POLICY_IMAGES` (no `imagePullPolicy` given), which pull policy does Kubernetes use?"
    )
    takes_answer = True
    hints = (
        "Two values are possible here: `Always` and `IfNotPresent`.",
        "`Always` when the tag is `:latest` or missing (and there is no digest); otherwise `IfNotPresent`.",
    )
    solution_text = "No tag and `:latest` pull every time; a version tag or a digest is pulled once per node:"
    solution_code = "policies = ['Always', 'Always', 'IfNotPresent', 'IfNotPresent']\nex.q3.check(policies)"
    wrong_answers = (
        "policies = ['Always', 'Always', 'IfNotPresent', 'Always']\nex.q3.check(policies)",
        "policies = ['IfNotPresent', 'Always', 'IfNotPresent', 'IfNotPresent']\nex.q3.check(policies)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        expected = [default_pull_policy(parse_image(image)) for image in PULL_POLICY_IMAGES]
        if not isinstance(answer, list | tuple) or len(answer) != len(expected):
            raise Incorrect(f"answer with a list of {len(expected)} policies, one per image.")
        for image, got, want in zip(PULL_POLICY_IMAGES, answer, expected, strict=True):
            if got != want:
                raise Incorrect(f"{image.rsplit('/', 1)[-1]} gets a different policy than {got!r}.")
        return "right: which is why a moved tag is not re-pulled by a node that already has it (IfNotPresent)."


def reset(lab: Lab) -> str:
    """Start lesson 09 over: delete the lab's EKS clusters and node groups, its repositories and the lesson's IAM
    roles (the lab clock is not turned back)."""
    eks, ecr, iam = lab.client("eks"), lab.client("ecr"), lab.client("iam")
    gone = []
    for name in eks.list_clusters()["clusters"]:
        for group in eks.list_nodegroups(clusterName=name)["nodegroups"]:
            eks.delete_nodegroup(clusterName=name, nodegroupName=group)
        eks.delete_cluster(name=name)
        gone.append(f"cluster {name}")
    for repo in ecr.describe_repositories()["repositories"]:
        ecr.delete_repository(repositoryName=repo["repositoryName"], force=True)
        gone.append(repo["repositoryName"])
    for role in iam.list_roles()["Roles"]:
        if role["RoleName"] in (ROLE, "eks-node", "ecrlab-eks-cluster"):
            for policy in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=role["RoleName"])
            gone.append(f"role {role['RoleName']}")
    return "deleted: " + (", ".join(gone) if gone else "nothing")


q1 = FixPullBackOff()
q2 = PinByDigest()
q3 = PredictPullPolicy()

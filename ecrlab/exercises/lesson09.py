"""Exercises for notebooks/09-eks.ipynb: fix an ImagePullBackOff with the least permission, pin a Deployment by
digest, predict the kubelet's pull policy, and let a CI user's pushes be signed.

The checks read the lab as a learner would: the cluster's pods, the node role's attached policies in IAM,
DescribeImages for the digests, IAM's policy simulator, DescribeImageSigningStatus, and the image's signature
verified over the registry as an admission controller would.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ecrlab.eks import Cluster, default_pull_policy, parse_image
from ecrlab.errors import SignatureVerificationError
from ecrlab.exercises.core import Incorrect, NotAttempted, Problem
from ecrlab.images import ImageBuilder, RegistryClient
from ecrlab.signing import SIGNING_DELAY, trust_anchor, verify_image

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = [
    "CI_USER",
    "PULL_POLICY_IMAGES",
    "RELEASE_PROFILE",
    "RELEASE_REPOSITORY",
    "q1",
    "q2",
    "q3",
    "q4",
    "release",
    "reset",
    "setup",
    "setup_signing",
]

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


#: Exercise 4: the repository a signing rule covers, its signing profile, and the CI user that pushes to it.
RELEASE_REPOSITORY = "shop/release"
RELEASE_PROFILE = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/shop_release"
CI_USER = "ci-release"
_CI_PUSH = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                    "ecr:BatchGetImage",
                ],
                "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/shop/release",
            },
        ],
    }
)


def setup_signing(lab: Lab) -> str:
    """Exercise 4's starting point: ``shop/release`` covered by a signing rule with :data:`RELEASE_PROFILE` (added
    to the registry's configuration), the IAM user ``ci-release`` that may push there but not sign, and one release
    it pushed, whose signing FAILED. Returns that release's digest."""
    ecr, iam = lab.client("ecr"), lab.client("iam")
    if RELEASE_REPOSITORY not in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}:
        ecr.create_repository(repositoryName=RELEASE_REPOSITORY)
    try:
        rules = ecr.get_signing_configuration()["signingConfiguration"]["rules"]
    except ecr.exceptions.SigningConfigurationNotFoundException:
        rules = []
    mine = {
        "signingProfileArn": RELEASE_PROFILE,
        "repositoryFilters": [{"filter": RELEASE_REPOSITORY, "filterType": "WILDCARD_MATCH"}],
    }
    if mine not in rules:
        ecr.put_signing_configuration(signingConfiguration={"rules": [*rules, mine]})
    if CI_USER not in {u["UserName"] for u in iam.list_users()["Users"]}:
        iam.create_user(UserName=CI_USER)
    for name in iam.list_user_policies(UserName=CI_USER)["PolicyNames"]:
        iam.delete_user_policy(UserName=CI_USER, PolicyName=name)
    iam.put_user_policy(UserName=CI_USER, PolicyName="push", PolicyDocument=_CI_PUSH)
    return release(lab)


def release(lab: Lab) -> str:
    """Push a new release of ``shop/release`` (tag ``latest``) as ``ci-release``, as its CI job would, and let the
    lab clock pass the signing time; returns the release's digest."""
    count = len(lab.client("ecr").list_images(repositoryName=RELEASE_REPOSITORY)["imageIds"])
    # The client takes its token now: a lab session's credentials hold only until the next session is made.
    client = RegistryClient.for_lab(lab, lab.session(user=CI_USER))
    try:
        image = ImageBuilder().copy_bytes(f"shop release {count + 1}".encode(), "/release.txt").build()
        digest = client.push(image, RELEASE_REPOSITORY, "latest").digest
    finally:
        client.close()
    lab.clock.advance(seconds=SIGNING_DELAY.total_seconds())
    return digest


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


class SignReleases(Problem):
    title = (
        "`ci-release` pushes to `shop/release` but its releases are not signed. Give it the least permission signing "
        "needs, push a new release with `ex.release(lab)`, and pass that release's digest."
    )
    takes_answer = True
    hints = (
        "`ecr.describe_image_signing_status(...)` on the first release says what failed and why (`failureReason`).",
        (
            "Managed signing runs as the pusher: `ci-release` needs `signer:SignPayload` on the profile "
            "`ex.RELEASE_PROFILE`, and nothing else from Signer. Only pushes made after that are signed."
        ),
    )
    solution_text = (
        "Allow `signer:SignPayload` on that one profile, then push a new release (the old one stays unsigned):"
    )
    solution_code = (
        "import json\n"
        "sign = {'Version': '2012-10-17', 'Statement': [\n"
        "    {'Effect': 'Allow', 'Action': 'signer:SignPayload', 'Resource': ex.RELEASE_PROFILE}]}\n"
        "lab.client('iam').put_user_policy(UserName='ci-release', PolicyName='sign', PolicyDocument=json.dumps(sign))\n"
        "digest = ex.release(lab)\n"
        "ex.q4.check(digest)"
    )
    wrong_answers = (
        (
            "import json\n"
            "everything = {'Version': '2012-10-17', 'Statement': [\n"
            "    {'Effect': 'Allow', 'Action': 'signer:*', 'Resource': '*'}]}\n"
            "lab.client('iam').put_user_policy(UserName='ci-release', PolicyName='sign',\n"
            "                                  PolicyDocument=json.dumps(everything))\n"
            "digest = ex.release(lab)\n"
            "ex.q4.check(digest)"
        ),
        (
            "import json\n"
            "sign = {'Version': '2012-10-17', 'Statement': [\n"
            "    {'Effect': 'Allow', 'Action': 'signer:SignPayload', 'Resource': ex.RELEASE_PROFILE}]}\n"
            "lab.client('iam').put_user_policy(UserName='ci-release', PolicyName='sign', PolicyDocument=json.dumps(sign))\n"
            "ex.q4.check(first_release)  # the release pushed before the permission existed"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if not isinstance(answer, str) or not answer.startswith("sha256:"):
            raise NotAttempted("pass the digest `ex.release(lab)` returned: `ex.q4.check(digest)`.")
        iam, ecr = lab.client("iam"), lab.client("ecr")
        user = f"arn:aws:iam::{lab.account_id}:user/{CI_USER}"
        other_profile = RELEASE_PROFILE.rsplit("/", 1)[0] + "/someone_elses"
        for action, resource, what in (
            ("signer:SignPayload", other_profile, "signs with every profile, not just shop_release"),
            ("signer:RevokeSignature", RELEASE_PROFILE, "may revoke signatures too: signing needs only SignPayload"),
        ):
            result = iam.simulate_principal_policy(PolicySourceArn=user, ActionNames=[action], ResourceArns=[resource])
            if result["EvaluationResults"][0]["EvalDecision"] == "allowed":
                raise Incorrect(f"too much: `ci-release` {what}.")
        try:
            status = ecr.describe_image_signing_status(
                repositoryName=RELEASE_REPOSITORY, imageId={"imageDigest": answer}
            )
        except ecr.exceptions.ImageNotFoundException:
            raise Incorrect(
                f"{answer[:19]}... is not an image of {RELEASE_REPOSITORY}: pass what `ex.release(lab)` returned."
            ) from None
        states = {s["signingProfileArn"]: s for s in status["signingStatuses"]}
        mine = states.get(RELEASE_PROFILE)
        if mine is None or mine["status"] != "COMPLETE":
            why = mine.get("failureReason", mine["status"]) if mine else "no signing status"
            raise Incorrect(
                f"that release is not signed ({why}). Signing happens at push time: push a new one with "
                "`ex.release(lab)` once the permission is there."
            )
        client = RegistryClient.for_lab(lab)
        try:
            verified = verify_image(
                client,
                RELEASE_REPOSITORY,
                answer,
                trusted=[trust_anchor(lab.engine, lab.account_id, lab.region)],
                at=lab.clock.now(),
            )
        except SignatureVerificationError as exc:
            raise Incorrect(str(exc)) from None
        finally:
            client.close()
        return (
            f"release {verified.digest[:19]}... is signed (at {verified.signed_at:%H:%M:%S}) and verifies against the "
            "lab root: an admission controller trusting it would admit this digest."
        )


def reset(lab: Lab) -> str:
    """Start lesson 09 over: delete the lab's EKS clusters and node groups, its repositories, the registry's signing
    configuration and the lesson's IAM roles and users (the lab clock is not turned back)."""
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
    try:
        ecr.delete_signing_configuration()
        gone.append("signing configuration")
    except ecr.exceptions.SigningConfigurationNotFoundException:
        pass
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        if name not in (CI_USER, "intruder"):  # the users this lesson made
            continue
        for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=policy)
        for attached in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=name, PolicyArn=attached["PolicyArn"])
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=name)
        gone.append(f"user {name}")
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
q4 = SignReleases()

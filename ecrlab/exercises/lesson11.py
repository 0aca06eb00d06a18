"""Exercises for notebooks/11-capstone.ipynb: one release of a small service, from its source to a cluster.

Each step of the release is a question, checked against the lab's real state as a learner would read it:
the built image's digest (rebuilt here from the same source), the registry's images and scan findings, the
CloudTrail records of the login and the pushes, the replication configuration and the partner's registry
policy (decided by the policy engine, as a copy would be), the cluster's pods, and the lifecycle policy
(evaluated by the lab's own lifecycle evaluator). Expected answers come from the lab, never typed in.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.eks import Cluster, parse_image
from ecrlab.errors import Incorrect, NotAttempted
from ecrlab.exercises.core import Problem
from ecrlab.exercises.reset import reset_lab
from ecrlab.images import RegistryClient, base_image, build_dockerfile
from ecrlab.lifecycle.evaluation import evaluate_lifecycle_policy
from ecrlab.lifecycle.policy import parse_lifecycle_policy

if TYPE_CHECKING:
    from ecrlab.images import Image
    from ecrlab.lab import Lab

__all__ = [
    "CLUSTER",
    "PARTNER",
    "REPOSITORY",
    "SECOND_REGION",
    "deployment",
    "q1",
    "q2",
    "q3",
    "q4",
    "q5",
    "q6",
    "q7",
    "q8",
    "q9",
    "q10",
    "reset",
    "service_source",
    "setup_cluster",
    "ship_broken_release",
]

REPOSITORY = "shop/checkout"
#: Where the release is replicated: another region of the lab's account, and the partner team's account.
SECOND_REGION = "us-west-2"
PARTNER = "210987654321"
CLUSTER = "prod"
NODE_ROLE = "checkout-node"
CI_USER = "ci"
_BLOCKING = ("CRITICAL", "HIGH")
_SITE = "usr/lib/python3.11/site-packages"
_EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
_MAIN = """\
import yaml

ORDER = yaml.safe_load(open("/app/order.yaml"))
print(f"checkout {ORDER['version']} ready")
"""


def service_source(version: str = "1.0.0", base: str = "alpine:3.18.0", pyyaml: str = "5.3.1") -> Path:
    """The checkout service's source tree at a release, written to a fresh folder (its build context): a
    Dockerfile ``FROM base``, the app, and its one dependency, PyYAML, vendored as pip installs it (the
    ``METADATA`` file a scanner reads). The same arguments always give the same files, so the same image."""
    folder = Path(tempfile.mkdtemp(prefix="checkout-"))
    _write_source(folder, version, base, pyyaml)
    return folder


def _write_source(folder: Path, version: str, base: str, pyyaml: str) -> None:
    (folder / "app").mkdir()
    (folder / "app" / "main.py").write_text(_MAIN)
    (folder / "app" / "order.yaml").write_text(f"version: {version}\n")
    metadata = folder / "vendor" / f"PyYAML-{pyyaml}.dist-info" / "METADATA"
    metadata.parent.mkdir(parents=True)
    metadata.write_text(f"Metadata-Version: 2.1\nName: PyYAML\nVersion: {pyyaml}\n")
    (folder / "Dockerfile").write_text(
        f"FROM {base}\n"
        f'LABEL org.opencontainers.image.version="{version}"\n'
        f"COPY vendor/ /{_SITE}/\n"
        "COPY app/ /app/\n"
        'CMD ["python3", "/app/main.py"]\n'
    )


def _release(version: str, base: str, pyyaml: str) -> Image:
    """The image ``service_source(version, base, pyyaml)`` builds, built in a folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="checkout-") as tmp:
        _write_source(Path(tmp), version, base, pyyaml)
        return build_dockerfile(context=tmp)


def deployment(image: str) -> str:
    """The Deployment ``checkout`` (one replica) running ``image``, as YAML for ``cluster.apply``."""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout}\n"
        "spec:\n  replicas: 1\n  selector: {matchLabels: {app: checkout}}\n"
        "  template:\n    metadata: {labels: {app: checkout}}\n"
        f"    spec:\n      containers: [{{name: checkout, image: '{image}'}}]\n"
    )


def setup_cluster(lab: Lab) -> Cluster:
    """The EKS cluster ``prod``: a node role ``checkout-node`` with AWS's pull-only managed policy, and one
    node group. Run again, it starts a fresh cluster (a cluster's workloads live in its ``Cluster`` object)."""
    iam = lab.client("iam")
    if NODE_ROLE not in {r["RoleName"] for r in iam.list_roles()["Roles"]}:
        iam.create_role(RoleName=NODE_ROLE, AssumeRolePolicyDocument=_EC2_TRUST)
        iam.attach_role_policy(
            RoleName=NODE_ROLE, PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"
        )
    _delete_clusters(lab, only=CLUSTER)
    return Cluster.create(lab, CLUSTER, node_role_arn=f"arn:aws:iam::{lab.account_id}:role/{NODE_ROLE}")


def ship_broken_release(lab: Lab, cluster: Cluster) -> str:
    """Three hours later, the pipeline (IAM user ``ci``) builds 1.1.0 on the fixed base, pushes it, tags it
    ``prod`` and deploys it to ``cluster`` by digest. (1.1.0 passes the scan; it breaks in production.)"""
    iam = lab.client("iam")
    if CI_USER not in {u["UserName"] for u in iam.list_users()["Users"]}:
        iam.create_user(UserName=CI_USER)
        iam.attach_user_policy(
            UserName=CI_USER, PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
        )
    lab.clock.advance(hours=3)
    ci = lab.session(user=CI_USER)
    image = _release("1.1.0", "alpine:3.18.9", "5.4")
    with RegistryClient.for_lab(lab, ci) as client:
        client.push(image, REPOSITORY, "1.1.0")
    try:
        ci.client("ecr").put_image(repositoryName=REPOSITORY, imageManifest=image.manifest.decode(), imageTag="prod")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ImageAlreadyExistsException":
            raise
    cluster.apply(deployment(f"{lab.registry_host}/{REPOSITORY}@{image.digest}"))
    lab.clock.advance(minutes=1)  # its scan and its replication finish
    return f"ci pushed {REPOSITORY}:1.1.0 ({image.digest[:19]}…), tagged it prod and deployed it to {cluster.name}"


# -- reading the lab ---------------------------------------------------------------------------------


def _image(lab: Lab, tag: str, ecr: Any = None) -> dict[str, Any] | None:
    ecr = ecr or lab.client("ecr")
    try:
        return ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])["imageDetails"][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return None
        raise


def _require_repository(lab: Lab) -> None:
    names = {r["repositoryName"] for r in lab.client("ecr").describe_repositories()["repositories"]}
    if REPOSITORY not in names:
        raise NotAttempted(f"there is no repository `{REPOSITORY}`: run the set-up cell at the top of the lesson.")


def _scan(lab: Lab, tag: str) -> tuple[str, dict[str, int], list[dict[str, Any]]]:
    """The scan of ``tag``: its status, severity counts and enhanced findings (empty while it runs)."""
    try:
        found = lab.client("ecr").describe_image_scan_findings(repositoryName=REPOSITORY, imageId={"imageTag": tag})
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ScanNotFoundException":
            return "NONE", {}, []
        raise
    body = found.get("imageScanFindings", {})
    return found["imageScanStatus"]["status"], body.get("findingSeverityCounts", {}), body.get("enhancedFindings", [])


def _pod(cluster: Cluster) -> dict[str, Any]:
    pods = [p for p in cluster.pods() if p["name"].startswith("checkout-")]
    if not pods:
        raise NotAttempted("the cluster runs no `checkout` pod yet: `cluster.apply(ex.deployment(image))`.")
    return pods[-1]


def _cluster(answer: Any) -> Cluster:
    if not isinstance(answer, Cluster):
        raise NotAttempted("pass the cluster, `check(cluster)`: the value `ex.setup_cluster(lab)` returned.")
    return answer


# -- the questions -----------------------------------------------------------------------------------


class BuildRelease(Problem):
    title = "Build release 1.0.0 of the service from its source folder `source` (its Dockerfile), as `image`."
    takes_answer = True
    hints = (
        "The source folder holds a Dockerfile: build it, don't assemble the image by hand.",
        "`images.build_dockerfile(context=source)` builds what the Dockerfile says, from that folder.",
    )
    solution_text = "Build the Dockerfile in its folder (no engine needed: the lab builds this Dockerfile subset):"
    solution_code = "image = images.build_dockerfile(context=source)\nprint(image.digest)\nex.q1.check(image)"
    wrong_answers = (
        "image = images.base_image('alpine:3.18.0')  # the base image the Dockerfile starts FROM\nex.q1.check(image)",
        (
            "image = images.ImageBuilder(images.base_image('alpine:3.18.0')).copy_bytes(\n"
            "    (source / 'app' / 'main.py').read_bytes(), '/app/main.py').build()\n"
            "ex.q1.check(image)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        from ecrlab.images import Image

        if not isinstance(answer, Image):
            raise Incorrect(f"`image` should be an image (`images.Image`), not {type(answer).__name__}.")
        expected = _release("1.0.0", "alpine:3.18.0", "5.3.1")
        if answer.digest == expected.digest:
            return f"built {answer.digest}: the same source gives this digest on any machine."
        if answer.digest == base_image("alpine:3.18.0").digest:
            raise Incorrect("that is the base image alone: the Dockerfile adds the app and its dependency on top.")
        raise Incorrect("this is not the image `source`'s Dockerfile builds: build it with `images.build_dockerfile`.")


class ScanOnPush(Problem):
    title = (
        f"Make ECR scan every image pushed to `{REPOSITORY}` on push, with the scanning that reads the app's "
        "Python packages too."
    )
    hints = (
        "Basic scanning reads OS packages only; enhanced scanning (Amazon Inspector) reads language packages too.",
        (
            "`ecr.put_registry_scanning_configuration(scanType='ENHANCED', rules=[{'scanFrequency': "
            "'SCAN_ON_PUSH', 'repositoryFilters': [{'filter': 'shop/*', 'filterType': 'WILDCARD'}]}])`"
        ),
    )
    solution_text = "Enhanced scanning, on push, for the team's repositories:"
    solution_code = (
        "ecr.put_registry_scanning_configuration(\n"
        "    scanType='ENHANCED',\n"
        "    rules=[{'scanFrequency': 'SCAN_ON_PUSH',\n"
        "            'repositoryFilters': [{'filter': 'shop/*', 'filterType': 'WILDCARD'}]}],\n"
        ")\n"
        "ex.q2.check()"
    )
    wrong_answers = (
        (
            "ecr.put_registry_scanning_configuration(\n"
            "    scanType='BASIC',\n"
            "    rules=[{'scanFrequency': 'SCAN_ON_PUSH',\n"
            "            'repositoryFilters': [{'filter': 'shop/*', 'filterType': 'WILDCARD'}]}],\n"
            ")\n"
            "ex.q2.check()"
        ),
        (
            "ecr.put_registry_scanning_configuration(\n"
            "    scanType='ENHANCED',\n"
            "    rules=[{'scanFrequency': 'SCAN_ON_PUSH',\n"
            "            'repositoryFilters': [{'filter': 'prod-*', 'filterType': 'WILDCARD'}]}],\n"
            ")\n"
            "ex.q2.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        ecr = lab.client("ecr")
        _require_repository(lab)
        config = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
        if not config.get("rules"):
            raise NotAttempted("the registry has no scanning rule yet: `put_registry_scanning_configuration`.")
        mine = ecr.batch_get_repository_scanning_configuration(repositoryNames=[REPOSITORY])
        frequency = mine["scanningConfigurations"][0]["scanFrequency"]
        if frequency not in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
            raise Incorrect(f"`{REPOSITORY}` is scanned {frequency}: no rule's filter matches its name.")
        if config["scanType"] != "ENHANCED":
            raise Incorrect(
                "basic scanning reads the OS package database only: the app's Python packages would go unseen."
            )
        return f"`{REPOSITORY}`: ENHANCED, {frequency}. The next push is scanned as it lands."


class PushWithCliLogin(Problem):
    title = (
        f"Push `image` to `{REPOSITORY}` as `1.0.0`, logged in to the registry with the AWS CLI's "
        "`get-login-password`, as a CI job does."
    )
    hints = (
        "`password = lab.aws('ecr get-login-password').stdout.strip()`: the user name is `AWS`.",
        "`RegistryClient(lab.registry, username='AWS', password=password)` then `.push(image, repository, tag)`.",
    )
    solution_text = "The CLI's password, the user `AWS`, and a push by tag:"
    solution_code = (
        "password = lab.aws('ecr get-login-password').stdout.strip()\n"
        "with RegistryClient(lab.registry, username='AWS', password=password) as client:\n"
        "    print(client.push(image, 'shop/checkout', '1.0.0'))\n"
        "ex.q3.check()"
    )
    wrong_answers = (
        (
            "with RegistryClient.for_lab(lab) as client:  # boto3's token, not the CLI's\n"
            "    client.push(image, 'shop/checkout', '1.0.0')\n"
            "ex.q3.check()"
        ),
        (
            "password = lab.aws('ecr get-login-password').stdout.strip()\n"
            "with RegistryClient(lab.registry, username='AWS', password=password) as client:\n"
            "    client.push(image, 'shop/checkout', 'latest')\n"
            "ex.q3.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        _require_repository(lab)
        detail = _image(lab, "1.0.0")
        if detail is None:
            raise NotAttempted(f"`{REPOSITORY}` has no image tagged `1.0.0` yet.")
        expected = _release("1.0.0", "alpine:3.18.0", "5.3.1").digest
        if detail["imageDigest"] != expected:
            raise Incorrect("`1.0.0` names another image than the one `source` builds (question 1).")
        # A push of what is already there is refused as ImageAlreadyExistsException: still a push, for the client.
        records = [
            r
            for r in lab.trail.records
            if (r["recipientAccountId"], r["awsRegion"]) == (lab.account_id, lab.region)
            and r.get("errorCode") in (None, "ImageAlreadyExistsException")
        ]
        pushes = [
            i
            for i, r in enumerate(records)
            if r["eventName"] == "PutImage"
            and r["requestParameters"].get("repositoryName") == REPOSITORY
            and r["requestParameters"].get("imageTag") == "1.0.0"
        ]
        logins = [r for r in records[: pushes[-1]] if r["eventName"] == "GetAuthorizationToken"] if pushes else []
        if not logins or not logins[-1]["userAgent"].startswith("aws-cli/"):
            raise Incorrect(
                "the last login before the push did not come from the AWS CLI: "
                "use `lab.aws('ecr get-login-password')` and the user `AWS`."
            )
        return (
            f"1.0.0 is {expected[:19]}…, pushed with the CLI's password (CloudTrail: GetAuthorizationToken by aws-cli)."
        )


class BlockingFindings(Problem):
    title = (
        "The gate refuses an image with CRITICAL or HIGH findings. Once 1.0.0's scan is complete, which findings "
        "block it? Answer with the set of their vulnerability ids."
    )
    takes_answer = True
    hints = (
        "Move the lab clock a minute on so the scan completes, then read `describe_image_scan_findings`.",
        (
            "Enhanced findings are in `imageScanFindings.enhancedFindings`: each has a `severity` and "
            "`packageVulnerabilityDetails.vulnerabilityId`."
        ),
    )
    solution_text = "Let the scan finish, then keep the CRITICAL and HIGH findings' ids:"
    solution_code = (
        "lab.clock.advance(minutes=1)\n"
        "found = ecr.describe_image_scan_findings(repositoryName='shop/checkout', imageId={'imageTag': '1.0.0'})\n"
        "blocking = {f['packageVulnerabilityDetails']['vulnerabilityId']\n"
        "            for f in found['imageScanFindings']['enhancedFindings']\n"
        "            if f['severity'] in ('CRITICAL', 'HIGH')}\n"
        "print(gate('shop/checkout', '1.0.0'), blocking)\n"
        "ex.q4.check(blocking)"
    )
    wrong_answers = (
        (  # every finding, not only the blocking ones
            "lab.clock.advance(minutes=1)\n"
            "found = ecr.describe_image_scan_findings(repositoryName='shop/checkout', imageId={'imageTag': '1.0.0'})\n"
            "blocking = {f['packageVulnerabilityDetails']['vulnerabilityId']\n"
            "            for f in found['imageScanFindings']['enhancedFindings']}\n"
            "ex.q4.check(blocking)"
        ),
        (  # basic scanning's key: empty under enhanced scanning
            "found = ecr.describe_image_scan_findings(repositoryName='shop/checkout', imageId={'imageTag': '1.0.0'})\n"
            "blocking = {f['name'] for f in found.get('imageScanFindings', {}).get('findings', [])\n"
            "            if f['severity'] in ('CRITICAL', 'HIGH')}\n"
            "ex.q4.check(blocking)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if _image(lab, "1.0.0") is None:
            raise NotAttempted("push 1.0.0 first (question 3).")
        status, _, findings = _scan(lab, "1.0.0")
        if status not in ("COMPLETE", "ACTIVE"):
            raise NotAttempted(f"1.0.0's scan is {status}: move the lab clock on (`lab.clock.advance(minutes=1)`).")
        expected = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in findings if f["severity"] in _BLOCKING}
        if not isinstance(answer, set | frozenset | list | tuple):
            raise Incorrect("answer with a set of vulnerability ids, e.g. `{'CVE-...'}`.")
        given = set(answer)
        if given == expected:
            return f"{sorted(expected)} stop 1.0.0: it never ships. Step 6 fixes it."
        if given > expected:
            extra = min(given - expected)
            raise Incorrect(f"{extra} is not CRITICAL or HIGH: the gate lets it through.")
        raise Incorrect(f"{len(expected)} finding(s) block 1.0.0 and you named {len(given & expected)} of them.")


class Replicate(Problem):
    title = (
        f"Before shipping the fix: replicate `{REPOSITORY}` to `{SECOND_REGION}` of this account and to `us-east-1` "
        f"of the partner account `{PARTNER}`, which must allow it."
    )
    hints = (
        (
            "`ecr.put_replication_configuration` with one rule, two `destinations` (`region`, `registryId`) and a "
            "`PREFIX_MATCH` filter (there is no `create-replication-configuration` in ECR)."
        ),
        (
            "In the partner's account (`lab.account(PARTNER).client('ecr')`), `put_registry_policy` allowing "
            "`arn:aws:iam::{lab.account_id}:root` `ecr:ReplicateImage` and `ecr:CreateRepository`."
        ),
    )
    solution_text = "The source's configuration, and the destination's consent:"
    solution_code = (
        "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
        "    'destinations': [{'region': 'us-west-2', 'registryId': lab.account_id},\n"
        "                     {'region': 'us-east-1', 'registryId': '210987654321'}],\n"
        "    'repositoryFilters': [{'filter': 'shop/', 'filterType': 'PREFIX_MATCH'}]}]})\n"
        "lab.account('210987654321').client('ecr').put_registry_policy(policyText=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [{'Sid': 'FromShop', 'Effect': 'Allow',\n"
        "                   'Principal': {'AWS': f'arn:aws:iam::{lab.account_id}:root'},\n"
        "                   'Action': ['ecr:ReplicateImage', 'ecr:CreateRepository'], 'Resource': '*'}]}))\n"
        "ex.q5.check()"
    )
    wrong_answers = (
        (  # the partner's consent is missing
            "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
            "    'destinations': [{'region': 'us-west-2', 'registryId': lab.account_id},\n"
            "                     {'region': 'us-east-1', 'registryId': '210987654321'}]}]})\n"
            "ex.q5.check()"
        ),
        (  # ReplicateImage alone: the repository does not exist in the partner's registry yet
            "ecr.put_replication_configuration(replicationConfiguration={'rules': [{\n"
            "    'destinations': [{'region': 'us-west-2', 'registryId': lab.account_id},\n"
            "                     {'region': 'us-east-1', 'registryId': '210987654321'}]}]})\n"
            "lab.account('210987654321').client('ecr').put_registry_policy(policyText=json.dumps({\n"
            "    'Version': '2012-10-17',\n"
            "    'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{lab.account_id}:root'},\n"
            "                   'Action': 'ecr:ReplicateImage', 'Resource': '*'}]}))\n"
            "ex.q5.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        rules = lab.client("ecr").describe_registry().get("replicationConfiguration", {}).get("rules", [])
        if not rules:
            raise NotAttempted("the registry has no replication configuration yet: `put_replication_configuration`.")
        covered: set[tuple[str, str]] = set()
        for rule in rules:
            filters = rule.get("repositoryFilters") or []
            if not filters or any(REPOSITORY.startswith(f["filter"]) for f in filters):
                covered |= {(d["registryId"], d["region"]) for d in rule["destinations"]}
        for account, region in ((lab.account_id, SECOND_REGION), (PARTNER, lab.region)):
            if (account, region) not in covered:
                raise Incorrect(f"no rule replicates `{REPOSITORY}` to {account} in {region}.")
        partner = lab.account(PARTNER).client("ecr")
        exists = REPOSITORY in {r["repositoryName"] for r in partner.describe_repositories()["repositories"]}
        actions = ["ecr:ReplicateImage"] + ([] if exists else ["ecr:CreateRepository"])
        for action in actions:
            decision = lab.engine.authorizer.replication_decision(
                lab.account_id, PARTNER, lab.region, REPOSITORY, action
            )
            if not decision.allowed:
                raise Incorrect(
                    f"the partner's registry policy does not allow {lab.account_id} `{action}`: "
                    "every copy to it would be FAILED."
                )
        return "both destinations are covered and the partner allows the copies: the next push goes three places."


class FixAndShip(Problem):
    title = (
        "Fix the release: build 1.0.1 on a newer lab base image with the fixed PyYAML, push it, and let its scan "
        "(no CRITICAL, HIGH or MEDIUM finding) and its replication finish."
    )
    hints = (
        (
            "`ex.service_source('1.0.1', base=..., pyyaml=...)`: lesson 06 found the oldest clean base image "
            "(`alpine:3.18.9`); the scan's `fixedInVersion` says which PyYAML fixes its finding."
        ),
        "Push as in question 3, then `lab.clock.advance(minutes=1)`: the scan takes 5 s and a copy 30 s of lab time.",
    )
    solution_text = "A newer base for the OS findings, the fixed PyYAML for the CRITICAL one; then let time pass:"
    solution_code = (
        "fixed = images.build_dockerfile(context=ex.service_source('1.0.1', base='alpine:3.18.9', pyyaml='5.4'))\n"
        "password = lab.aws('ecr get-login-password').stdout.strip()\n"
        "with RegistryClient(lab.registry, username='AWS', password=password) as client:\n"
        "    client.push(fixed, 'shop/checkout', '1.0.1')\n"
        "lab.clock.advance(minutes=1)\n"
        "print(gate('shop/checkout', '1.0.1'))\n"
        "ex.q6.check()"
    )
    wrong_answers = (
        (  # the base image only: PyYAML's CRITICAL finding stays
            "fixed = images.build_dockerfile(context=ex.service_source('1.0.1', base='alpine:3.18.9', pyyaml='5.3.1'))\n"
            "with RegistryClient.for_lab(lab) as client:\n"
            "    client.push(fixed, 'shop/checkout', '1.0.1')\n"
            "lab.clock.advance(minutes=1)\n"
            "ex.q6.check()"
        ),
        (  # PyYAML only: the old base's OS findings stay
            "fixed = images.build_dockerfile(context=ex.service_source('1.0.1', base='alpine:3.18.0', pyyaml='5.4'))\n"
            "with RegistryClient.for_lab(lab) as client:\n"
            "    client.push(fixed, 'shop/checkout', '1.0.1')\n"
            "lab.clock.advance(minutes=1)\n"
            "ex.q6.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        detail = _image(lab, "1.0.1")
        if detail is None:
            raise NotAttempted(f"`{REPOSITORY}` has no image tagged `1.0.1` yet.")
        status, counts, _ = _scan(lab, "1.0.1")
        if status == "NONE":
            raise Incorrect("1.0.1 was not scanned on push: is question 2's configuration still in place?")
        if status not in ("COMPLETE", "ACTIVE"):
            raise NotAttempted(f"1.0.1's scan is {status}: move the lab clock on.")
        blocking = {s: n for s, n in counts.items() if s in _BLOCKING}
        if blocking:
            raise Incorrect(f"the gate still stops 1.0.1: {blocking}. Which package's finding is it?")
        if counts.get("MEDIUM"):
            raise Incorrect(
                f"1.0.1 still carries {counts['MEDIUM']} MEDIUM finding(s) of the old base image: build FROM a newer one."
            )
        statuses = lab.client("ecr").describe_image_replication_status(
            repositoryName=REPOSITORY, imageId={"imageDigest": detail["imageDigest"]}
        )["replicationStatuses"]
        states = {(s["registryId"], s["region"]): s["status"] for s in statuses}
        for where in ((lab.account_id, SECOND_REGION), (PARTNER, lab.region)):
            state = states.get(where, "not replicated")
            if state != "COMPLETE":
                hint = (
                    "move the lab clock on" if state == "IN_PROGRESS" else "was replication set up first (question 5)?"
                )
                raise Incorrect(f"1.0.1 in {where[0]} {where[1]}: {state}: {hint}")
        return f"1.0.1 passes the gate ({counts or 'no findings'}) and is in all three registries."


class DeployByDigest(Problem):
    title = "Deploy 1.0.1 to the cluster by its digest (`...@sha256:...`), and see its pod run."
    takes_answer = True
    hints = (
        "`ecr.describe_images(repositoryName='shop/checkout', imageIds=[{'imageTag': '1.0.1'}])` gives `imageDigest`.",
        "`cluster.apply(ex.deployment(f'{lab.registry_host}/shop/checkout@{digest}'))`",
    )
    solution_text = "Look the digest up, name the image by it, apply:"
    solution_code = (
        "digest = ecr.describe_images(repositoryName='shop/checkout', imageIds=[{'imageTag': '1.0.1'}])"
        "['imageDetails'][0]['imageDigest']\n"
        "cluster.apply(ex.deployment(f'{lab.registry_host}/shop/checkout@{digest}'))\n"
        "ex.q7.check(cluster)"
    )
    wrong_answers = (
        "cluster.apply(ex.deployment(f'{lab.registry_host}/shop/checkout:1.0.1'))\nex.q7.check(cluster)",
        (
            "digest = ecr.describe_images(repositoryName='shop/checkout', imageIds=[{'imageTag': '1.0.0'}])"
            "['imageDetails'][0]['imageDigest']\n"
            "cluster.apply(ex.deployment(f'{lab.registry_host}/shop/checkout@{digest}'))\n"
            "ex.q7.check(cluster)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        cluster = _cluster(answer)
        detail = _image(lab, "1.0.1")
        if detail is None:
            raise NotAttempted("there is no 1.0.1 to deploy: question 6 first.")
        return _runs(cluster, detail["imageDigest"], "1.0.1")


def _runs(cluster: Cluster, digest: str, name: str) -> str:
    pod = _pod(cluster)
    if "@" not in pod["image"]:
        raise Incorrect(f"the pod's image is {pod['image']}: name it by digest, `shop/checkout@sha256:...`.")
    if parse_image(pod["image"]).digest != digest:
        raise Incorrect(f"the pod runs another image than {name}: read {name}'s `imageDigest` with DescribeImages.")
    if pod["phase"] != "Running":
        raise Incorrect(f"the pod is {pod['reason']}: `cluster.events()` says why.")
    return f"`checkout` runs {pod['imageID']}: exactly {name}, whatever its tags do later."


class RollBack(Problem):
    title = (
        "1.1.0 breaks in production. Roll back: put the tag `prod` back on 1.0.1 without pushing again, and run "
        "that image on the cluster by digest."
    )
    takes_answer = True
    hints = (
        "Retag: `batch_get_image` 1.0.1's manifest, `put_image` it as `prod` (run twice, ECR says it is already there).",
        "Then apply the Deployment with `...shop/checkout@<1.0.1's digest>`, as in question 7.",
    )
    solution_text = "Move the tag (same bytes, same digest), then deploy the digest it names:"
    solution_code = (
        "good = ecr.batch_get_image(repositoryName='shop/checkout', imageIds=[{'imageTag': '1.0.1'}])['images'][0]\n"
        "try:\n"
        "    ecr.put_image(repositoryName='shop/checkout', imageManifest=good['imageManifest'], imageTag='prod')\n"
        "except ecr.exceptions.ImageAlreadyExistsException:\n"
        "    pass  # prod already names 1.0.1\n"
        "cluster.apply(ex.deployment(f\"{lab.registry_host}/shop/checkout@{good['imageId']['imageDigest']}\"))\n"
        "ex.q8.check(cluster)"
    )
    wrong_answers = (
        (  # the tag moved, the cluster still runs 1.1.0
            "good = ecr.batch_get_image(repositoryName='shop/checkout', imageIds=[{'imageTag': '1.0.1'}])['images'][0]\n"
            "try:\n"
            "    ecr.put_image(repositoryName='shop/checkout', imageManifest=good['imageManifest'], imageTag='prod')\n"
            "except ecr.exceptions.ImageAlreadyExistsException:\n"
            "    pass\n"
            "ex.q8.check(cluster)"
        ),
        (  # deploys by the moving tag
            "good = ecr.batch_get_image(repositoryName='shop/checkout', imageIds=[{'imageTag': '1.0.1'}])['images'][0]\n"
            "try:\n"
            "    ecr.put_image(repositoryName='shop/checkout', imageManifest=good['imageManifest'], imageTag='prod')\n"
            "except ecr.exceptions.ImageAlreadyExistsException:\n"
            "    pass\n"
            "cluster.apply(ex.deployment(f'{lab.registry_host}/shop/checkout:prod'))\n"
            "ex.q8.check(cluster)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        cluster = _cluster(answer)
        good, tagged = _image(lab, "1.0.1"), _image(lab, "prod")
        if good is None:
            raise NotAttempted("there is no 1.0.1 to roll back to: question 6 first.")
        if tagged is None:
            raise NotAttempted("no image is tagged `prod`: run the cell above that ships 1.1.0 first.")
        if tagged["imageDigest"] != good["imageDigest"]:
            raise Incorrect("`prod` does not name 1.0.1.")
        return _runs(cluster, good["imageDigest"], "1.0.1") + " `prod` names it again."


class CleanUp(Problem):
    title = (
        f"Save a lifecycle policy on `{REPOSITORY}` that never expires the image tagged `prod` and otherwise keeps "
        "only the 2 newest images."
    )
    hints = (
        (
            "A rule that selects `prod` (`tagStatus: tagged`, `tagPatternList: ['prod']`) protects it from every "
            "lower-priority rule: give it a huge `imageCountMoreThan`."
        ),
        "Then, with a larger `rulePriority`: `tagStatus: any`, `imageCountMoreThan: 2`.",
    )
    solution_text = "A rule that selects `prod` first, then keep-2 for the rest:"
    solution_code = (
        "policy = {'rules': [\n"
        "    {'rulePriority': 1, 'description': 'never expire prod',\n"
        "     'selection': {'tagStatus': 'tagged', 'tagPatternList': ['prod'],\n"
        "                   'countType': 'imageCountMoreThan', 'countNumber': 10000},\n"
        "     'action': {'type': 'expire'}},\n"
        "    {'rulePriority': 2, 'description': 'keep the 2 newest',\n"
        "     'selection': {'tagStatus': 'any', 'countType': 'imageCountMoreThan', 'countNumber': 2},\n"
        "     'action': {'type': 'expire'}}]}\n"
        "ecr.put_lifecycle_policy(repositoryName='shop/checkout', lifecyclePolicyText=json.dumps(policy))\n"
        "ex.q9.check()"
    )
    wrong_answers = (
        (  # keep the 3 newest: prod's image goes once three newer releases exist
            "policy = {'rules': [{'rulePriority': 1, 'selection': {'tagStatus': 'any',\n"
            "    'countType': 'imageCountMoreThan', 'countNumber': 3}, 'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/checkout', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q9.check()"
        ),
        (  # keeps prod, but counts only untagged images: tagged releases pile up
            "policy = {'rules': [\n"
            "    {'rulePriority': 1, 'selection': {'tagStatus': 'tagged', 'tagPatternList': ['prod'],\n"
            "                                      'countType': 'imageCountMoreThan', 'countNumber': 10000},\n"
            "     'action': {'type': 'expire'}},\n"
            "    {'rulePriority': 2, 'selection': {'tagStatus': 'untagged', 'countType': 'imageCountMoreThan',\n"
            "                                      'countNumber': 2}, 'action': {'type': 'expire'}}]}\n"
            "ecr.put_lifecycle_policy(repositoryName='shop/checkout', lifecyclePolicyText=json.dumps(policy))\n"
            "ex.q9.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        _require_repository(lab)
        repo = lab.engine.registry(lab.account_id, lab.region).repositories[REPOSITORY]
        if not repo.lifecycle_policy_text:
            raise NotAttempted(f"`{REPOSITORY}` has no lifecycle policy yet.")
        policy = parse_lifecycle_policy(repo.lifecycle_policy_text)
        prod = _image(lab, "prod")
        if prod is None:
            raise NotAttempted("no image is tagged `prod` yet: do the rollback (question 8) first.")
        # Today's images, then the same with four newer releases on top: prod must survive both, and the
        # others must be cut to the 2 newest.
        now = lab.clock.now()
        today = list(repo.images.values())
        future = [
            SimpleNamespace(
                digest=f"sha256:{n:064x}",
                tags=(f"9.{n}.0",),
                pushed_at=now + timedelta(days=n),
                last_pulled_at=None,
                sequence=10**9 + n,
            )
            for n in range(1, 5)
        ]
        for images, when in ((today, now), (today + future, now + timedelta(days=5))):
            expired = evaluate_lifecycle_policy(policy, images, when).expired_digests()
            later = " once newer releases arrive" if images is not today else ""
            if prod["imageDigest"] in expired:
                raise Incorrect(f"the policy would expire the image `prod` names{later}: the rollback target.")
            newest = sorted(images, key=lambda im: (im.pushed_at, im.sequence), reverse=True)[:2]
            keep = {im.digest for im in newest} | {prod["imageDigest"]}
            for image in images:
                shown = ", ".join(image.tags) or image.digest[:19]
                if image.digest in keep and image.digest in expired:
                    raise Incorrect(f"the policy would expire {shown}{later}, one of the 2 newest.")
                if image.digest not in keep and image.digest not in expired:
                    raise Incorrect(f"the policy would keep {shown}{later}: only `prod` and the 2 newest should stay.")
        return "`prod` is kept whatever comes, and the 2 newest images: the rest go. ECR runs a saved policy within 24 hours."


class WhoPushedWhat(Problem):
    title = (
        f"Who pushed what, when? From CloudTrail, list every successful `PutImage` on `{REPOSITORY}` in this "
        "registry as `(user name, image tag, event time)`, oldest first."
    )
    takes_answer = True
    hints = (
        (
            "`cloudtrail.lookup_events(LookupAttributes=[{'AttributeKey': 'ResourceName', 'AttributeValue': "
            "'shop/checkout'}])` (newest first; follow `NextToken`)."
        ),
        (
            "Keep `EventName == 'PutImage'` records without an `errorCode` (parse `CloudTrailEvent`); the tag is "
            "`requestParameters.imageTag`; reverse the list."
        ),
    )
    solution_text = "Search by resource, keep the successful PutImage records, oldest first:"
    solution_code = (
        "pages = cloudtrail.get_paginator('lookup_events').paginate(\n"
        "    LookupAttributes=[{'AttributeKey': 'ResourceName', 'AttributeValue': 'shop/checkout'}])\n"
        "pushes = []\n"
        "for event in (e for page in pages for e in page['Events']):\n"
        "    record = json.loads(event['CloudTrailEvent'])\n"
        "    if event['EventName'] == 'PutImage' and 'errorCode' not in record:\n"
        "        pushes.append((event['Username'], record['requestParameters'].get('imageTag'), event['EventTime']))\n"
        "pushes.reverse()\n"
        "ex.q10.check(pushes)"
    )
    wrong_answers = (
        (  # DescribeImages: today's images and their first push, not who pushed or re-tagged
            "details = ecr.describe_images(repositoryName='shop/checkout')['imageDetails']\n"
            "pushes = sorted((('root', tag, d['imagePushedAt']) for d in details for tag in d.get('imageTags', [])),\n"
            "                key=lambda p: p[2])\n"
            "ex.q10.check(pushes)"
        ),
        (  # newest first, as LookupEvents answers
            "events = cloudtrail.lookup_events(\n"
            "    LookupAttributes=[{'AttributeKey': 'EventName', 'AttributeValue': 'PutImage'}])['Events']\n"
            "pushes = [(e['Username'], json.loads(e['CloudTrailEvent'])['requestParameters'].get('imageTag'),\n"
            "           e['EventTime']) for e in events if 'errorCode' not in json.loads(e['CloudTrailEvent'])]\n"
            "ex.q10.check(pushes)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        expected = [
            (r["userIdentity"].get("userName", "root"), r["requestParameters"].get("imageTag"), r["eventTime"])
            for r in lab.trail.records
            if r["eventName"] == "PutImage"
            and r["awsRegion"] == lab.region
            and r["recipientAccountId"] == lab.account_id
            and r["requestParameters"].get("repositoryName") == REPOSITORY
            and not r.get("errorCode")
        ]
        if not expected:
            raise NotAttempted(f"nothing was pushed to `{REPOSITORY}` yet.")
        if not isinstance(answer, list | tuple) or not all(isinstance(p, tuple | list) and len(p) == 3 for p in answer):
            raise Incorrect("answer with a list of `(user name, image tag, event time)` tuples.")
        given = [(str(user), tag, _stamp(when)) for user, tag, when in answer]
        wanted = [(user, tag, _stamp(when)) for user, tag, when in expected]
        if given == wanted[::-1] and len(wanted) > 1:
            raise Incorrect("that is newest first, as LookupEvents answers: reverse it.")
        if given != wanted:
            if len(given) != len(wanted):
                raise Incorrect(
                    f"the trail holds {len(wanted)} successful PutImage calls on `{REPOSITORY}`, not {len(given)}."
                )
            first = next(i for i, (g, w) in enumerate(zip(given, wanted, strict=True)) if g != w)
            raise Incorrect(f"entry {first + 1} is {given[first]}; the trail says {wanted[first]}.")
        users = sorted({user for user, _, _ in wanted})
        return (
            f"{len(wanted)} pushes and retags by {', '.join(users)}: the trail remembers what DescribeImages forgets."
        )


def _stamp(when: Any) -> str:
    """A time as CloudTrail writes it (``2026-01-05T09:00:01Z``), from a datetime or such a string."""
    if isinstance(when, datetime):
        return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(when)


def _delete_clusters(lab: Lab, only: str | None = None) -> list[str]:
    eks = lab.client("eks")
    gone = []
    for name in eks.list_clusters()["clusters"]:
        if only is not None and name != only:
            continue
        for group in eks.list_nodegroups(clusterName=name)["nodegroups"]:
            eks.delete_nodegroup(clusterName=name, nodegroupName=group)
        eks.delete_cluster(name=name)
        gone.append(name)
    return gone


def reset(lab: Lab) -> str:
    """Start the capstone over: its cluster, the registry's scanning and replication settings, the replicas in
    the second region and the partner account, then every repository, registry policy, IAM user and role (see
    :mod:`ecrlab.exercises.reset`). CloudTrail keeps its history and the lab clock is not turned back."""
    clusters = _delete_clusters(lab)
    ecr = lab.client("ecr")
    ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])
    ecr.put_replication_configuration(replicationConfiguration={"rules": []})
    west = lab.client("ecr", region_name=SECOND_REGION)
    for page in west.get_paginator("describe_repositories").paginate():
        for repo in page["repositories"]:
            west.delete_repository(repositoryName=repo["repositoryName"], force=True)
    summary = reset_lab(lab)
    return f"{len(clusters)} cluster(s) deleted; " + summary


q1 = BuildRelease()
q2 = ScanOnPush()
q3 = PushWithCliLogin()
q4 = BlockingFindings()
q5 = Replicate()
q6 = FixAndShip()
q7 = DeployByDigest()
q8 = RollBack()
q9 = CleanUp()
q10 = WhoPushedWhat()

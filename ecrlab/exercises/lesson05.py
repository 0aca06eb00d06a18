"""Exercises for notebooks/05-access-control.ipynb: least privilege, read-only, cross-account, deny
beats allow, tag conditions and the managed policies.

Every check asks the lab's authorizer (the same one that decides real requests) what it would decide
for the learner's principals, so a policy that only *looks* right is caught, and nothing is changed.
"""

from __future__ import annotations

from typing import Any

from ecrlab.access.authorizer import resource_arn_for
from ecrlab.access.evaluation import IDENTITY, Policy, Request, evaluate
from ecrlab.access.identities import principal_for_arn
from ecrlab.access.managed import MANAGED_POLICY_NAMES, managed_policy
from ecrlab.exercises.core import Incorrect, NotAttempted, Problem

__all__ = [
    "OTHER_ACCOUNT",
    "PULL_ACTIONS",
    "PUSH_ACTIONS",
    "managed_allows",
    "managed_policy_table",
    "q1",
    "q2",
    "q3",
    "q4",
    "q5",
    "q6",
]

OTHER_ACCOUNT = "222222222222"
PUSH_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
PULL_ACTIONS = ("ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def _decide(lab: Any, arn: str, action: str, repository: str, account: str | None = None) -> Any:
    principal = principal_for_arn(arn)
    resource = resource_arn_for(action, account or lab.account_id, lab.region, repository)
    return lab.engine.authorizer.decide(principal, action, resource, region=lab.region)


def _exists(lab: Any, kind: str, name: str, account: str | None = None) -> str:
    iam = lab.account(account).client("iam") if account else lab.client("iam")
    try:
        if kind == "user":
            return iam.get_user(UserName=name)["User"]["Arn"]
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        where = f" in account {account}" if account else ""
        raise NotAttempted(f"there is no IAM {kind} `{name}`{where} yet.") from None


def _first_refusal(lab: Any, arn: str, actions: tuple[str, ...], repository: str, account: str | None = None) -> Any:
    for action in actions:
        decision = _decide(lab, arn, action, repository, account)
        if not decision.allowed:
            return decision
    return None


class LeastPrivilegePusher(Problem):
    title = "Give the IAM user `ci-pusher` exactly what pushing to `shop/web` needs, and nothing more."
    hints = (
        (
            "A push is GetAuthorizationToken, BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, "
            "CompleteLayerUpload and PutImage (see PUSH_ACTIONS)."
        ),
        'GetAuthorizationToken takes `Resource: "*"`; the other five can be limited to the repository\'s ARN.',
        "Put both statements in one inline policy with `iam.put_user_policy(UserName='ci-pusher', ...)`.",
    )
    solution_text = "Two statements: the token for `*`, the push actions for the one repository:"
    solution_code = (
        "iam.create_user(UserName='ci-pusher')\n"
        "iam.put_user_policy(UserName='ci-pusher', PolicyName='push-shop-web', PolicyDocument=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [\n"
        "        {'Effect': 'Allow', 'Action': 'ecr:GetAuthorizationToken', 'Resource': '*'},\n"
        "        {'Effect': 'Allow', 'Action': ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload',\n"
        "                                       'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],\n"
        "         'Resource': 'arn:aws:ecr:us-east-1:123456789012:repository/shop/web'}]}))"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        arn = _exists(lab, "user", "ci-pusher")
        refused = _first_refusal(lab, arn, PUSH_ACTIONS, "shop/web")
        if refused is not None:
            raise Incorrect(f"`ci-pusher` cannot push yet: {refused.message()}")
        for action, repo in (
            ("ecr:PutImage", "shop/other"),
            ("ecr:DeleteRepository", "shop/web"),
            ("ecr:SetRepositoryPolicy", "shop/web"),
            ("ecr:BatchDeleteImage", "shop/web"),
        ):
            decision = _decide(lab, arn, action, repo)
            if decision.allowed:
                why = "; ".join(str(m) for m in decision.deciding) or "allowed"
                raise Incorrect(
                    f"`ci-pusher` may also {action} on `{repo}` ({why}): that is more than pushing to `shop/web`."
                )
        return "`ci-pusher` can push to `shop/web` and do nothing else: least privilege."


class ReadOnlyConsumer(Problem):
    title = "Let the role `deploy-reader` pull from every repository, but never push."
    hints = (
        "An AWS managed policy does exactly this: compare the four in the table above.",
        "`iam.attach_role_policy(RoleName='deploy-reader', PolicyArn='arn:aws:iam::aws:policy/...')`.",
    )
    solution_text = "Attach the read-only managed policy (PullOnly would do too, without the Describe/List actions):"
    solution_code = (
        "iam.attach_role_policy(RoleName='deploy-reader',\n"
        "                      PolicyArn='arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly')"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        arn = _exists(lab, "role", "deploy-reader")
        for repo in ("shop/web", "shop/other"):
            refused = _first_refusal(lab, arn, PULL_ACTIONS, repo)
            if refused is not None:
                raise Incorrect(f"`deploy-reader` cannot pull from `{repo}`: {refused.message()}")
        for action in PUSH_ACTIONS[2:]:  # BatchCheckLayerAvailability is read-only: pulls use it too
            if _decide(lab, arn, action, "shop/web").allowed:
                raise Incorrect(f"`deploy-reader` may {action}: a read-only consumer must not be able to push.")
        return "`deploy-reader` pulls from any repository and cannot push."


class CrossAccountPull(Problem):
    title = f"Let `consumer` in account {OTHER_ACCOUNT} pull `shop/web`, and only pull."
    hints = (
        (
            "Across accounts two policies must allow: `consumer`'s identity policy (already ReadOnly) and the "
            "repository policy of `shop/web`."
        ),
        f'The repository policy names the other account as principal: `{{"AWS": "arn:aws:iam::{OTHER_ACCOUNT}:root"}}`.',
        (
            "Pulling needs ecr:BatchGetImage and ecr:GetDownloadUrlForLayer (BatchCheckLayerAvailability helps clients "
            "that check first)."
        ),
    )
    solution_text = "A repository policy in the lab account, naming the other account:"
    solution_code = (
        "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [{'Sid': 'CrossAccountPull', 'Effect': 'Allow',\n"
        f"                   'Principal': {{'AWS': 'arn:aws:iam::{OTHER_ACCOUNT}:root'}},\n"
        "                   'Action': ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer',\n"
        "                              'ecr:BatchCheckLayerAvailability']}]}))"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        arn = _exists(lab, "user", "consumer", OTHER_ACCOUNT)
        refused = _first_refusal(lab, arn, PULL_ACTIONS[1:], "shop/web")
        if refused is not None:
            raise Incorrect(f"`consumer` cannot pull `shop/web` yet: {refused.message()}")
        if _decide(lab, arn, "ecr:PutImage", "shop/web").allowed:
            raise Incorrect("`consumer` may also push to `shop/web`: grant only the pull actions.")
        stranger = f"arn:aws:iam::{'3' * 12}:root"
        if lab.engine.authorizer.decide(
            principal_for_arn(stranger),
            "ecr:BatchGetImage",
            resource_arn_for("ecr:BatchGetImage", lab.account_id, lab.region, "shop/web"),
            region=lab.region,
            identity=_admin_identity(stranger),
        ).allowed:
            raise Incorrect(
                'any account in the world could pull `shop/web` now (`"Principal": "*"`?): '
                f"name account {OTHER_ACCOUNT} only."
            )
        return f"`consumer` in {OTHER_ACCOUNT} pulls `shop/web`: its identity policy and the repository policy both allow it."


def _admin_identity(arn: str) -> Any:
    """A principal of a third account whose own policies allow everything, to test the resource side alone."""
    from ecrlab.access.identities import Identity

    allow_all = Policy(
        "allow everything",
        IDENTITY,
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]},
    )
    return Identity(arn, (allow_all,), None, None, {})


class DenyBeatsAllow(Problem):
    title = "Stop `full-admin` (FullAccess) from deleting `shop/web` with a repository policy, without taking its push away."
    hints = (
        "An explicit Deny wins over any Allow, wherever each is written.",
        (
            'Add a statement with `"Effect": "Deny"`, `"Principal": "*"`, `"Action": "ecr:DeleteRepository"` '
            "to `shop/web`'s repository policy (keep the cross-account statement from exercise 3)."
        ),
    )
    solution_text = "Read the policy, add a Deny statement, write it back:"
    solution_code = (
        "policy = json.loads(ecr.get_repository_policy(repositoryName='shop/web')['policyText'])\n"
        "policy['Statement'].append({'Sid': 'NoDelete', 'Effect': 'Deny', 'Principal': '*',\n"
        "                            'Action': 'ecr:DeleteRepository'})\n"
        "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps(policy))"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        arn = _exists(lab, "user", "full-admin")
        decision = _decide(lab, arn, "ecr:DeleteRepository", "shop/web")
        if decision.allowed:
            raise NotAttempted("`full-admin` can still delete `shop/web`.")
        if decision.decision != "explicitDeny" or decision.denied_in != "resource-based policy":
            raise Incorrect(
                f"`full-admin` cannot delete `shop/web`, but not because of a Deny in the repository policy: "
                f"{decision.message()}"
            )
        if not _decide(lab, arn, "ecr:PutImage", "shop/web").allowed:
            raise Incorrect("the Deny also stops `full-admin` from pushing: deny only ecr:DeleteRepository.")
        return "the repository policy's explicit Deny beats FullAccess's `ecr:*` Allow."


class TagCondition(Problem):
    title = "Let `blue-dev` (tagged team=blue) list images only in repositories tagged with its own team."
    hints = (
        "The repository's tags are `ecr:ResourceTag/<key>` (or `aws:ResourceTag/<key>`) in a Condition.",
        'Compare them with the user\'s own tag: `"${aws:PrincipalTag/team}"` is replaced by `blue` at request time.',
    )
    solution_text = "One statement, conditioned on the repository's team tag matching the caller's:"
    solution_code = (
        "iam.put_user_policy(UserName='blue-dev', PolicyName='own-team-only', PolicyDocument=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [{'Effect': 'Allow', 'Action': ['ecr:ListImages', 'ecr:DescribeImages'], 'Resource': '*',\n"
        "                   'Condition': {'StringEquals': {'ecr:ResourceTag/team': '${aws:PrincipalTag/team}'}}}]}))"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        arn = _exists(lab, "user", "blue-dev")
        if not _decide(lab, arn, "ecr:ListImages", "blue/app").allowed:
            raise NotAttempted("`blue-dev` cannot list images in `blue/app` yet.")
        if _decide(lab, arn, "ecr:ListImages", "red/app").allowed:
            raise Incorrect("`blue-dev` can also list `red/app`, tagged team=red: the condition does not hold it back.")
        return "`blue-dev` lists `blue/app` and is refused on `red/app`, by the repositories' tags."


class ManagedPolicyChoice(Problem):
    title = "Which AWS managed policy lets a CI job push images but not delete repositories or change their policies?"
    takes_answer = True
    hints = ("Compare the four columns of the table: push needs ecr:PutImage and the layer-upload actions.",)
    solution_text = "Only one of the four allows pushing without `ecr:*`:"
    solution_code = "ex.q6.check('AmazonEC2ContainerRegistryPowerUser')"

    def assess(self, lab: Any, answer: Any) -> str:
        name = str(answer).rsplit("/", 1)[-1].strip()
        if name not in MANAGED_POLICY_NAMES:
            raise Incorrect(f"`{answer}` is not one of the managed ECR policies: {', '.join(MANAGED_POLICY_NAMES)}.")
        verdicts = {
            a: managed_allows(name, a) for a in (*PUSH_ACTIONS, "ecr:DeleteRepository", "ecr:SetRepositoryPolicy")
        }
        missing = [a for a in PUSH_ACTIONS if not verdicts[a]]
        if missing:
            raise Incorrect(f"{name} does not allow {', '.join(missing)}: it cannot push.")
        extra = [a for a in ("ecr:DeleteRepository", "ecr:SetRepositoryPolicy") if verdicts[a]]
        if extra:
            raise Incorrect(f"{name} pushes, but also allows {', '.join(extra)}.")
        return f"{name}: read-only plus the push actions, and no delete or policy changes."


def managed_allows(name: str, action: str, resource: str = "arn:aws:ecr:us-east-1:123456789012:repository/app") -> bool:
    """Whether the managed policy ``name`` on its own allows ``action`` (same account)."""
    record = managed_policy(name)
    policy = Policy(name, IDENTITY, {**record["Document"], "Statement": list(record["Document"]["Statement"])})
    request = Request("arn:aws:iam::123456789012:user/someone", "123456789012", action, resource, "123456789012")
    return evaluate(request, [policy]).allowed


def managed_policy_table(actions: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows action × managed policy (✓/–), computed from the policies' real texts."""
    short = {n: n.replace("AmazonEC2ContainerRegistry", "") for n in sorted(MANAGED_POLICY_NAMES)}
    return [{"action": a, **{short[n]: "✓" if managed_allows(n, a) else "–" for n in short}} for a in actions]


q1 = LeastPrivilegePusher()
q2 = ReadOnlyConsumer()
q3 = CrossAccountPull()
q4 = DenyBeatsAllow()
q5 = TagCondition()
q6 = ManagedPolicyChoice()

"""Exercises for notebooks/05-access-control.ipynb: least privilege, read-only, cross-account, deny
beats allow, tag conditions and the managed policies.

Every check asks the lab's authorizer (the same one that decides real requests) what it would decide
for the learner's principals, so a policy that only *looks* right is caught, and nothing is changed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ecrlab.access.authorizer import resource_arn_for
from ecrlab.access.evaluation import IDENTITY, Policy, Request, evaluate
from ecrlab.access.identities import principal_for_arn
from ecrlab.access.managed import MANAGED_POLICY_NAMES, managed_policy
from ecrlab.errors import Incorrect, NotAttempted
from ecrlab.exercises.core import Problem
from ecrlab.exercises.reset import reset_lab

if TYPE_CHECKING:
    from ecrlab.lab import Lab

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
    "reset",
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


def _ecr_actions() -> tuple[str, ...]:
    """Every ECR action, one per operation of botocore's ECR model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecr")
    return tuple(f"ecr:{name}" for name in model.operation_names)


def _policy_json(statements: str) -> str:
    """Starter text for a solution: ``json.dumps`` of a policy document with ``statements``."""
    return "json.dumps({'Version': '2012-10-17', 'Statement': " + statements + "})"


_PUSH_ON = (
    "['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart',\n"
    "                    'ecr:CompleteLayerUpload', 'ecr:PutImage']"
)
_SHOP_WEB = "f'arn:aws:ecr:{lab.region}:{ACCOUNT}:repository/shop/web'"


def _decide(lab: Lab, arn: str, action: str, repository: str, account: str | None = None) -> Any:
    principal = principal_for_arn(arn)
    resource = resource_arn_for(action, account or lab.account_id, lab.region, repository)
    return lab.engine.authorizer.decide(principal, action, resource, region=lab.region)


def _exists(lab: Lab, kind: str, name: str, account: str | None = None) -> str:
    iam = lab.account(account).client("iam") if account else lab.client("iam")
    try:
        if kind == "user":
            return iam.get_user(UserName=name)["User"]["Arn"]
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        where = f" in account {account}" if account else ""
        raise NotAttempted(f"there is no IAM {kind} `{name}`{where} yet.") from None


def _first_refusal(lab: Lab, arn: str, actions: tuple[str, ...], repository: str, account: str | None = None) -> Any:
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
        "iam.put_user_policy(UserName='ci-pusher', PolicyName='push-shop-web', PolicyDocument=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [\n"
        "        {'Effect': 'Allow', 'Action': 'ecr:GetAuthorizationToken', 'Resource': '*'},\n"
        "        {'Effect': 'Allow', 'Action': ['ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload',\n"
        "                                       'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],\n"
        "         'Resource': f'arn:aws:ecr:{lab.region}:{ACCOUNT}:repository/shop/web'}]}))\n"
        "ex.q1.check()"
    )
    wrong_answers = (
        # the push actions on every repository
        "iam.put_user_policy(UserName='ci-pusher', PolicyName='push-shop-web', PolicyDocument=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [{'Effect': 'Allow', 'Action': ['ecr:GetAuthorizationToken'] + " + _PUSH_ON + ",\n"
        "                   'Resource': '*'}]}))\n"
        "ex.q1.check()",
        # the push on shop/web, plus reading every repository and putting lifecycle policies
        "iam.put_user_policy(UserName='ci-pusher', PolicyName='push-shop-web', PolicyDocument=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [\n"
        "        {'Effect': 'Allow', 'Action': ['ecr:GetAuthorizationToken', 'ecr:DescribeImages', 'ecr:BatchGetImage',\n"
        "                                       'ecr:PutLifecyclePolicy'], 'Resource': '*'},\n"
        "        {'Effect': 'Allow', 'Action': " + _PUSH_ON + ", 'Resource': " + _SHOP_WEB + "}]}))\n"
        "ex.q1.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        arn = _exists(lab, "user", "ci-pusher")
        refused = _first_refusal(lab, arn, PUSH_ACTIONS, "shop/web")
        if refused is not None:
            if not _allows_anything(lab, arn):
                raise NotAttempted("`ci-pusher` has no permissions yet.")
            raise Incorrect(f"`ci-pusher` cannot push yet: {refused.message()}")
        # every other ECR action on shop/web, and every action (the token aside) on another repository
        extra = [(a, "shop/web") for a in _ecr_actions() if a not in PUSH_ACTIONS]
        extra += [(a, "shop/other") for a in _ecr_actions() if a != "ecr:GetAuthorizationToken"]
        for action, repo in extra:
            decision = _decide(lab, arn, action, repo)
            if decision.allowed:
                why = "; ".join(str(m) for m in decision.deciding) or "allowed"
                raise Incorrect(
                    f"`ci-pusher` may also {action} on `{repo}` ({why}): that is more than pushing to `shop/web`."
                )
        return "`ci-pusher` can push to `shop/web` and do nothing else: least privilege."


def _allows_anything(lab: Lab, arn: str) -> bool:
    """Whether ``arn`` may do any ECR action at all on `shop/web` (so a refusal is a wrong attempt, not none)."""
    return any(_decide(lab, arn, a, "shop/web").allowed for a in _ecr_actions())


class ReadOnlyConsumer(Problem):
    title = "Let the role `deploy-reader` pull from every repository, but never push."
    hints = (
        "An AWS managed policy does exactly this: compare the four in the table above.",
        "`iam.attach_role_policy(RoleName='deploy-reader', PolicyArn='arn:aws:iam::aws:policy/...')`.",
    )
    solution_text = (
        "An inline policy with the three pull actions on every repository (attaching the managed "
        "`AmazonEC2ContainerRegistryPullOnly` or `...ReadOnly` does the same):"
    )
    solution_code = (
        "iam.put_role_policy(RoleName='deploy-reader', PolicyName='pull', PolicyDocument=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [{'Effect': 'Allow', 'Resource': '*',\n"
        "                   'Action': ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']}]}))\n"
        "ex.q2.check()"
    )
    wrong_answers = (
        # no token: the pull never gets past the login
        (
            "iam.put_role_policy(RoleName='deploy-reader', PolicyName='pull', PolicyDocument=json.dumps({\n"
            "    'Version': '2012-10-17',\n"
            "    'Statement': [{'Effect': 'Allow', 'Resource': '*',\n"
            "                   'Action': ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']}]}))\n"
            "ex.q2.check()"
        ),
        # pulls and pushes
        (
            "iam.put_role_policy(RoleName='deploy-reader', PolicyName='pull', PolicyDocument=json.dumps({\n"
            "    'Version': '2012-10-17',\n"
            "    'Statement': [{'Effect': 'Allow', 'Resource': '*', 'Action': ['ecr:Get*', 'ecr:Batch*', 'ecr:PutImage',\n"
            "                   'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload']}]}))\n"
            "ex.q2.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        arn = _exists(lab, "role", "deploy-reader")
        for repo in ("shop/web", "shop/other"):
            refused = _first_refusal(lab, arn, PULL_ACTIONS, repo)
            if refused is not None:
                if not _allows_anything(lab, arn):
                    raise NotAttempted("`deploy-reader` has no permissions yet.")
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
    wrong_answers = (
        (
            "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps({\n"
            "    'Version': '2012-10-17',\n"
            "    'Statement': [{'Sid': 'CrossAccountPull', 'Effect': 'Allow', 'Principal': '*',\n"
            "                   'Action': ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']}]}))\n"
            "ex.q3.check()"
        ),
        (
            "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps({\n"
            "    'Version': '2012-10-17',\n"
            f"    'Statement': [{{'Sid': 'CrossAccountPull', 'Effect': 'Allow', 'Principal': {{'AWS': '{OTHER_ACCOUNT}'}},\n"
            "                   'Action': 'ecr:*'}]}))\n"
            "ex.q3.check()"
        ),
    )
    solution_code = (
        "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps({\n"
        "    'Version': '2012-10-17',\n"
        "    'Statement': [{'Sid': 'CrossAccountPull', 'Effect': 'Allow',\n"
        f"                   'Principal': {{'AWS': 'arn:aws:iam::{OTHER_ACCOUNT}:root'}},\n"
        "                   'Action': ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer',\n"
        "                              'ecr:BatchCheckLayerAvailability']}]}))\n"
        "ex.q3.check()"
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        arn = _exists(lab, "user", "consumer", OTHER_ACCOUNT)
        refused = _first_refusal(lab, arn, PULL_ACTIONS[1:], "shop/web")
        if refused is not None:
            if _no_repository_policy(lab, "shop/web"):
                raise NotAttempted("`shop/web` has no repository policy yet.")
            raise Incorrect(f"`consumer` cannot pull `shop/web` yet: {refused.message()}")
        if _decide(lab, arn, "ecr:PutImage", "shop/web").allowed:
            raise Incorrect("`consumer` may also push to `shop/web`: grant only the pull actions.")
        # what the repository policy alone grants the other account, whatever its own policies say today
        partner = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
        for action in ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:BatchDeleteImage", "ecr:DeleteRepository"):
            if lab.engine.authorizer.decide(
                principal_for_arn(partner),
                action,
                resource_arn_for(action, lab.account_id, lab.region, "shop/web"),
                region=lab.region,
                identity=_admin_identity(partner),
            ).allowed:
                raise Incorrect(
                    f"`shop/web`'s repository policy also grants account {OTHER_ACCOUNT} {action}: "
                    "grant only the pull actions."
                )
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


def _no_repository_policy(lab: Lab, repository: str) -> bool:
    ecr = lab.client("ecr")
    try:
        ecr.get_repository_policy(repositoryName=repository)
    except ecr.exceptions.RepositoryPolicyNotFoundException:
        return True
    return False


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
    solution_text = "Read the policy, put a Deny statement in it (replacing an earlier `NoDelete`), write it back:"
    solution_code = (
        "policy = json.loads(ecr.get_repository_policy(repositoryName='shop/web')['policyText'])\n"
        "policy['Statement'] = [s for s in policy['Statement'] if s.get('Sid') != 'NoDelete']\n"
        "policy['Statement'].append({'Sid': 'NoDelete', 'Effect': 'Deny', 'Principal': '*',\n"
        "                            'Action': 'ecr:DeleteRepository'})\n"
        "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps(policy))\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        # denies everything, the push included
        (
            "policy = json.loads(ecr.get_repository_policy(repositoryName='shop/web')['policyText'])\n"
            "policy['Statement'] = [s for s in policy['Statement'] if s.get('Sid') != 'NoDelete']\n"
            "policy['Statement'].append({'Sid': 'NoDelete', 'Effect': 'Deny', 'Principal': '*', 'Action': 'ecr:*'})\n"
            "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps(policy))\n"
            "ex.q4.check()"
        ),
        # an Allow cannot take away what FullAccess allows
        (
            "policy = json.loads(ecr.get_repository_policy(repositoryName='shop/web')['policyText'])\n"
            "policy['Statement'] = [s for s in policy['Statement'] if s.get('Sid') != 'NoDelete']\n"
            "policy['Statement'].append({'Sid': 'NoDelete', 'Effect': 'Allow', 'Principal': '*',\n"
            "                            'NotAction': 'ecr:DeleteRepository'})\n"
            "ecr.set_repository_policy(repositoryName='shop/web', policyText=json.dumps(policy))\n"
            "ex.q4.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
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
        "                   'Condition': {'StringEquals': {'ecr:ResourceTag/team': '${aws:PrincipalTag/team}'}}}]}))\n"
        "ex.q5.check()"
    )
    wrong_answers = (
        # by name, not by tag: blue/legacy belongs to the red team now
        (
            "iam.put_user_policy(UserName='blue-dev', PolicyName='own-team-only', PolicyDocument=json.dumps({\n"
            "    'Version': '2012-10-17',\n"
            "    'Statement': [{'Effect': 'Allow', 'Action': ['ecr:ListImages', 'ecr:DescribeImages'],\n"
            "                   'Resource': f'arn:aws:ecr:{lab.region}:{ACCOUNT}:repository/blue/*'}]}))\n"
            "ex.q5.check()"
        ),
        # by tag, but for the blue team only: no policy variable
        (
            "iam.put_user_policy(UserName='blue-dev', PolicyName='own-team-only', PolicyDocument=json.dumps({\n"
            "    'Version': '2012-10-17',\n"
            "    'Statement': [{'Effect': 'Allow', 'Action': ['ecr:ListImages', 'ecr:DescribeImages'], 'Resource': '*',\n"
            "                   'Condition': {'StringEquals': {'ecr:ResourceTag/team': 'blue'}}}]}))\n"
            "ex.q5.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        arn = _exists(lab, "user", "blue-dev")
        if not _decide(lab, arn, "ecr:ListImages", "blue/app").allowed:
            raise NotAttempted("`blue-dev` cannot list images in `blue/app` yet.")
        if _decide(lab, arn, "ecr:ListImages", "red/app").allowed:
            raise Incorrect("`blue-dev` can also list `red/app`, tagged team=red: the condition does not hold it back.")
        if _decide(lab, arn, "ecr:ListImages", "blue/legacy").allowed:
            raise Incorrect(
                "`blue-dev` can list `blue/legacy`, which is tagged team=red: the decision follows the name, "
                "not the repository's `team` tag."
            )
        # the same policies on a member of the red team: a policy variable follows the caller's own tag
        from ecrlab.access.identities import identity_of

        mine = identity_of(principal_for_arn(arn))
        red_member = replace(mine, tags={**mine.tags, "team": "red"})
        red_repo = resource_arn_for("ecr:ListImages", lab.account_id, lab.region, "red/app")
        decision = lab.engine.authorizer.decide(
            principal_for_arn(arn), "ecr:ListImages", red_repo, region=lab.region, identity=red_member
        )
        if not decision.allowed:
            raise Incorrect(
                "the policy works for the blue team only: with `team=red` on the user, `red/app` is still refused. "
                "Compare with `${aws:PrincipalTag/team}` instead of a fixed value."
            )
        return (
            "`blue-dev` lists only repositories tagged with its own team, whatever the name, by the repositories' tags."
        )


class ManagedPolicyChoice(Problem):
    title = "Which AWS managed policy lets a CI job push images but not delete repositories or change their policies?"
    takes_answer = True
    hints = ("Compare the four columns of the table: push needs ecr:PutImage and the layer-upload actions.",)
    solution_text = "Only one of the four allows pushing without `ecr:*`:"
    solution_code = "answer = 'AmazonEC2ContainerRegistryPowerUser'\nex.q6.check(answer)"
    wrong_answers = (
        "answer = 'AmazonEC2ContainerRegistryFullAccess'\nex.q6.check(answer)",
        "answer = 'AmazonEC2ContainerRegistryReadOnly'\nex.q6.check(answer)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
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


def reset(lab: Lab) -> str:
    """Start lesson 05 over (see :mod:`ecrlab.exercises.reset`)."""
    return reset_lab(lab)

"""Exercises for notebooks/01-repositories.ipynb: create, tag, name and delete repositories.

The checks look at the running lab the way a learner would, through the lab's boto3 client
(``DescribeRepositories``, ``ListTagsForResource``) and the lab's CloudTrail-shaped event log.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.display import utc
from ecrlab.errors import Incorrect, InvalidParameterException, NotAttempted
from ecrlab.exercises.core import Problem
from ecrlab.exercises.reset import reset_lab

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["CANDIDATE_NAMES", "accepted_by_ecr", "q1", "q2", "q3", "q4", "reset"]


def _repositories(lab: Lab) -> dict[str, dict[str, Any]]:
    pages = lab.client("ecr").get_paginator("describe_repositories").paginate()
    return {r["repositoryName"]: r for page in pages for r in page["repositories"]}


def _near(name: str, names: Iterable[str]) -> list[str]:
    """Names that differ from ``name`` only by separators: web-frontend for web/frontend, say."""

    def key(n: str) -> str:
        return "".join(ch for ch in n.lower() if ch.isalnum())

    return sorted(n for n in names if key(n) == key(name) and n != name)


class ImmutableRepository(Problem):
    title = "Create a repository named `web/frontend` whose image tags are immutable."
    hints = (
        "`create_repository` takes `repositoryName` and `imageTagMutability`.",
        "If it already exists with mutable tags, change it with `put_image_tag_mutability` instead of creating it again.",
    )
    solution_text = (
        "Either create it immutable from the start (or switch an existing one with put_image_tag_mutability):"
    )
    solution_code = (
        "try:\n"
        "    ecr.create_repository(repositoryName='web/frontend', imageTagMutability='IMMUTABLE')\n"
        "except ecr.exceptions.RepositoryAlreadyExistsException:\n"
        "    # made earlier (perhaps MUTABLE): switch it instead of creating it again\n"
        "    ecr.put_image_tag_mutability(repositoryName='web/frontend', imageTagMutability='IMMUTABLE')\n"
        "# the AWS CLI: aws ecr create-repository --repository-name web/frontend --image-tag-mutability IMMUTABLE\n"
        "ex.q1.check()"
    )
    wrong_answers = (
        "ecr.create_repository(repositoryName='web/frontend')\nex.q1.check()",
        "ecr.create_repository(repositoryName='web-frontend', imageTagMutability='IMMUTABLE')\nex.q1.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        repos = _repositories(lab)
        repo = repos.get("web/frontend")
        if repo is None:
            near = _near("web/frontend", repos)
            if near:
                raise Incorrect(
                    f"there is `{near[0]}` but no `web/frontend`: the slash is part of the name "
                    "(it groups repositories like a folder would)."
                )
            raise NotAttempted("there is no repository named `web/frontend` in the lab yet.")
        mutability = repo["imageTagMutability"]
        if mutability == "MUTABLE":
            raise Incorrect(
                "`web/frontend` exists but its tags are MUTABLE (the default): "
                "set `imageTagMutability='IMMUTABLE'` with `put_image_tag_mutability`."
            )
        if mutability != "IMMUTABLE":
            raise Incorrect(
                f"`web/frontend` is {mutability}: exclusions make some tags mutable; this exercise wants every tag immutable."
            )
        return "`web/frontend` exists and a pushed tag can never be moved to another image."


class TeamTag(Problem):
    title = "Tag the repository `web/frontend` with `team` = `storefront`."
    hints = (
        "Resource tags are set with `tag_resource(resourceArn=..., tags=[{'Key': ..., 'Value': ...}])`.",
        "The ARN is in `describe_repositories(repositoryNames=['web/frontend'])['repositories'][0]['repositoryArn']`.",
    )
    solution_text = "Tags are attached to the repository's ARN:"
    solution_code = (
        "arn = ecr.describe_repositories(repositoryNames=['web/frontend'])['repositories'][0]['repositoryArn']\n"
        "ecr.tag_resource(resourceArn=arn, tags=[{'Key': 'team', 'Value': 'storefront'}])\n"
        "ex.q2.check()"
    )
    wrong_answers = (
        (
            "arn = ecr.describe_repositories(repositoryNames=['web/frontend'])['repositories'][0]['repositoryArn']\n"
            "ecr.tag_resource(resourceArn=arn, tags=[{'Key': 'team', 'Value': 'Storefront'}])\n"
            "ex.q2.check()"
        ),
        (
            "arn = ecr.describe_repositories(repositoryNames=['web/frontend'])['repositories'][0]['repositoryArn']\n"
            "ecr.tag_resource(resourceArn=arn, tags=[{'Key': 'storefront', 'Value': 'team'}])\n"
            "ex.q2.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        repo = _repositories(lab).get("web/frontend")
        if repo is None:
            raise NotAttempted("create `web/frontend` first (exercise 1).")
        tags = {
            t["Key"]: t["Value"]
            for t in lab.client("ecr").list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
        }
        if not tags:
            raise NotAttempted("`web/frontend` has no tags yet.")
        if "team" not in tags:
            same = [k for k in tags if k.lower() == "team"]
            if same:
                raise Incorrect(f"tag keys are case-sensitive: the key is `{same[0]}`, it should be `team`.")
            raise Incorrect(f"`web/frontend` has tags {sorted(tags)} but no `team` key.")
        if tags["team"] != "storefront":
            raise Incorrect(f"the `team` tag is `{tags['team']}`; it should be `storefront`.")
        return "`web/frontend` carries `team=storefront` (cost reports and IAM conditions can use it)."


#: The names exercise 3 asks about.
CANDIDATE_NAMES = ("MyRepository", "my-repository", "team/app", "app_", "a", "base//image", "ab", "web.frontend")


def accepted_by_ecr(name: str) -> bool:
    """Whether ECR accepts ``name`` for a new repository (the model's length and pattern rules)."""
    from ecrlab.ecr.params import validate

    try:
        validate("CreateRepository", {"repositoryName": name})
    except InvalidParameterException:
        return False
    return True


class ValidNames(Problem):
    title = "Which of `ex.CANDIDATE_NAMES` would ECR accept as repository names?"
    takes_answer = True
    hints = (
        "Names are 2 to 256 characters: lowercase letters and digits, separated by `.`, `_`, `-` or `/`.",
        (
            "A separator must sit between two letters or digits: no separator at the start, at the end, or twice "
            "in a row (except `__` and runs of `-`). Try the doubtful ones with `expect_error()` around "
            "`create_repository`."
        ),
    )
    solution_text = (
        "Ask ECR: a name it accepts creates a repository; the others fail with InvalidParameterException "
        "(or, too short, with boto3's ParamValidationError before the request is sent)."
    )
    solution_code = (
        "from botocore.exceptions import ClientError, ParamValidationError\n\n"
        "accepted = []\n"
        "for name in ex.CANDIDATE_NAMES:\n"
        "    try:\n"
        "        ecr.create_repository(repositoryName=name)\n"
        "        accepted.append(name)\n"
        "    except ecr.exceptions.RepositoryAlreadyExistsException:\n"
        "        accepted.append(name)  # accepted on an earlier run\n"
        "    except (ClientError, ParamValidationError):\n"
        "        pass\n"
        "ex.q3.check(accepted)"
    )
    wrong_answers = (
        "accepted = ['MyRepository', 'my-repository', 'team/app', 'ab', 'web.frontend']\nex.q3.check(accepted)",
        "accepted = ['my-repository', 'team/app', 'app_', 'ab']\nex.q3.check(accepted)",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if isinstance(answer, str) or not isinstance(answer, Iterable):
            raise Incorrect("answer with a list of names, e.g. `['team/app', 'ab']`.")
        given = set(answer)
        unknown = sorted(given - set(CANDIDATE_NAMES))
        if unknown:
            raise Incorrect(f"{unknown} are not among `CANDIDATE_NAMES`; pick from those.")
        truth = {n for n in CANDIDATE_NAMES if accepted_by_ecr(n)}
        wrongly_in = sorted(given - truth)
        missing = sorted(truth - given)
        if wrongly_in:
            reasons = {
                "MyRepository": "uppercase letters are not allowed",
                "app_": "a name cannot end with a separator",
                "a": "a name needs at least 2 characters",
                "base//image": "empty path segments are not allowed",
            }
            why = "; ".join(f"`{n}`: {reasons.get(n, 'it breaks the name pattern')}" for n in wrongly_in)
            raise Incorrect(f"ECR rejects {', '.join(f'`{n}`' for n in wrongly_in)} ({why}).")
        if missing:
            raise Incorrect(f"you left out {', '.join(f'`{n}`' for n in missing)}, which ECR accepts.")
        return f"ECR accepts exactly {', '.join(f'`{n}`' for n in sorted(truth))}."


class DeleteRepository(Problem):
    title = "Delete the repository `old/service` (the notebook created it for you)."
    hints = ("`delete_repository(repositoryName=...)`; it holds no images, so `force` is not needed.",)
    solution_text = "An empty repository is deleted without `force` (a second run finds it gone, and says so):"
    solution_code = (
        "try:\n"
        "    ecr.delete_repository(repositoryName='old/service')\n"
        "except ecr.exceptions.RepositoryNotFoundException:\n"
        "    print('old/service is already deleted')\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        "lab.aws('ecr delete-repository --repository-name old-service')\nex.q4.check()",
        "ecr.batch_delete_image(repositoryName='old/service', imageIds=[{'imageTag': 'latest'}])\nex.q4.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        try:
            lab.client("ecr").describe_repositories(repositoryNames=["old/service"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryNotFoundException":
                raise
        else:
            raise NotAttempted("`old/service` is still there.")
        deleted = [
            e
            for e in lab.trail.records
            if e["eventName"] == "DeleteRepository"
            and "errorCode" not in e
            and e["requestParameters"].get("repositoryName") == "old/service"
        ]
        if not deleted:
            raise Incorrect(
                "`old/service` does not exist, but it was never deleted: run the cell that creates it first."
            )
        return f"`old/service` was deleted at {utc(deleted[-1]['eventTime'])} (the lab's event log recorded the DeleteRepository call)."


q1 = ImmutableRepository()
q2 = TeamTag()
q3 = ValidNames()
q4 = DeleteRepository()


def reset(lab: Lab) -> str:
    """Start lesson 01 over (see :mod:`ecrlab.exercises.reset`)."""
    return reset_lab(lab)

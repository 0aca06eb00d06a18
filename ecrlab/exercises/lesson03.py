"""Exercises for notebooks/03-push-and-pull.ipynb: push, digests, immutable tags, copying images.

The checks look at the running lab through its boto3 client (``DescribeImages``,
``DescribeRepositories``), as a learner would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.errors import Incorrect, NotAttempted
from ecrlab.exercises.core import Problem
from ecrlab.exercises.reset import reset_lab
from ecrlab.images import Image, ImageBuilder, base_image, layer_files
from ecrlab.images.client import RegistryClient

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["APP_FILE", "my_build", "q1", "q2", "q3", "q4", "q5", "reset", "teammate_pushes"]


def _images(lab: Lab, repository: str) -> list[dict[str, Any]] | None:
    """The repository's image details, or None when it does not exist."""
    try:
        pages = lab.client("ecr").get_paginator("describe_images").paginate(repositoryName=repository)
        return [d for page in pages for d in page["imageDetails"]]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
            return None
        raise


def _tagged(lab: Lab, repository: str, tag: str) -> dict[str, Any]:
    details = _images(lab, repository)
    if details is None:
        raise NotAttempted(f"there is no repository `{repository}` yet.")
    for detail in details:
        if tag in detail.get("imageTags", []):
            return detail
    raise NotAttempted(f"`{repository}` has no image tagged `{tag}` yet.")


_CREATE = (
    "try:\n"
    "    ecr.create_repository(repositoryName='{name}')\n"
    "except ecr.exceptions.RepositoryAlreadyExistsException:\n"
    "    pass  # created on an earlier run\n"
)

#: What question 1's image must hold: a file on the `alpine:3.20.3` lab base image.
APP_FILE = "/srv/app.txt"


class PushApp(Problem):
    title = f"Build an image FROM `alpine:3.20.3` holding `{APP_FILE}` and push it to `lesson03/app` as `v1`."
    hints = (
        "Create the repository, build with `images.ImageBuilder(images.base_image('alpine:3.20.3'))`, then push.",
        "`RegistryClient.for_lab(lab).push(image, 'lesson03/app', 'v1', progress=default_progress())`",
    )
    solution_text = "Create the repository (once), build, push with progress:"
    solution_code = (
        _CREATE.format(name="lesson03/app")
        + "app = images.ImageBuilder(images.base_image('alpine:3.20.3')).copy_bytes(b'my app\\n', '/srv/app.txt').build()\n"
        "RegistryClient.for_lab(lab).push(app, 'lesson03/app', 'v1', progress=default_progress())\n"
        "ex.q1.check()"
    )
    wrong_answers = (
        _CREATE.format(name="lesson03/app")
        + "app = images.ImageBuilder().copy_bytes(b'my app\\n', '/srv/app.txt').build()\n"
        "RegistryClient.for_lab(lab).push(app, 'lesson03/app', 'v1')\n"
        "ex.q1.check()",
        _CREATE.format(name="lesson03/app")
        + "app = images.ImageBuilder(images.base_image('alpine:3.20.3')).copy_bytes(b'my app\\n', '/srv/app.txt').build()\n"
        "RegistryClient.for_lab(lab).push(app, 'lesson03/app', 'latest')\n"
        "ex.q1.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        details = _images(lab, "lesson03/app")
        if details is None:
            raise NotAttempted("there is no repository `lesson03/app` yet.")
        tagged = [d for d in details if "v1" in d.get("imageTags", [])]
        if not tagged:
            others = sorted(t for d in details for t in d.get("imageTags", []))
            if others:
                raise Incorrect(
                    f"`lesson03/app` has {', '.join(f'`{t}`' for t in others)} but no `v1`: push with the tag `v1`."
                )
            raise NotAttempted("`lesson03/app` has no image tagged `v1` yet.")
        # pull it back as any client would: every blob must be there, and the content must be what was asked
        with RegistryClient.for_lab(lab) as client:
            pulled = client.pull("lesson03/app", "v1")
        if not isinstance(pulled, Image):
            raise Incorrect("`lesson03/app:v1` is an index; push a single image.")
        base = base_image("alpine:3.20.3")
        if not pulled.layers or pulled.layers[0].digest != base.layers[0].digest:
            raise Incorrect(
                "`lesson03/app:v1` is not built on `alpine:3.20.3`: start from `images.base_image('alpine:3.20.3')`."
            )
        added = {path for layer in pulled.layers[1:] for path in layer_files(layer)}
        if APP_FILE not in added:
            raise Incorrect(f"no layer of `lesson03/app:v1` adds `{APP_FILE}`.")
        detail = tagged[0]
        return f"`lesson03/app:v1` is `{detail['imageDigest'][:19]}…`, {detail['imageSizeInBytes']} bytes of layers."


#: Question 2: the image the learner builds and pushes as `lesson03/team:latest`, then a teammate's.
def my_build() -> Image:
    """The image the notebook's set-up cell builds as yours (`mine`)."""
    return ImageBuilder(base_image("alpine:3.20.3")).copy_bytes(b"version 1\n", "/srv/version.txt").build()


def _teammates_build() -> Image:
    return (
        ImageBuilder(base_image("alpine:3.20.3"))
        .copy_bytes(b"version 2\n", "/srv/version.txt")
        .label(pushed_by="a teammate")
        .build()
    )


def teammate_pushes(lab: Lab) -> str:
    """A teammate's CI pushes its own build over `lesson03/team:latest` (the set-up of question 2)."""
    with RegistryClient.for_lab(lab) as client:
        return str(client.push(_teammates_build(), "lesson03/team", "latest"))


class TeamDigest(Problem):
    title = (
        "You pushed `mine` as `lesson03/team:latest`, then a teammate pushed. Which digest does `latest` name in ECR?"
    )
    takes_answer = True
    hints = (
        "A local image knows only its own digest; the tag lives in the repository. Ask ECR.",
        "`ecr.describe_images(repositoryName='lesson03/team', imageIds=[{'imageTag': 'latest'}])['imageDetails'][0]`",
    )
    solution_text = "ECR reports the digest its tag names now:"
    solution_code = (
        "details = ecr.describe_images(repositoryName='lesson03/team', imageIds=[{'imageTag': 'latest'}])['imageDetails']\n"
        "digest = details[0]['imageDigest']\n"
        "ex.q2.check(digest)"
    )
    wrong_answers = (
        "digest = mine.digest\nex.q2.check(digest)",
        (
            "details = ecr.describe_images(repositoryName='lesson03/team', imageIds=[{'imageTag': 'latest'}])['imageDetails']\n"
            "digest = details[0]['imageDigest'].split(':')[1]\n"
            "ex.q2.check(digest)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        detail = _tagged(lab, "lesson03/team", "latest")
        if not isinstance(answer, str):
            raise Incorrect(f"a digest is a string like `sha256:…`, not a {type(answer).__name__}.")
        answer = answer.strip()
        if answer == detail["imageDigest"]:
            return (
                "that is what `latest` names in ECR now: pin `lesson03/team@"
                + detail["imageDigest"][:19]
                + "…` to deploy exactly this image, whatever the tag does next."
            )
        if answer == my_build().digest:
            raise Incorrect("that is your local build's digest: the tag has moved since. Ask ECR what `latest` names.")
        if answer == detail["imageDigest"].split(":", 1)[1]:
            raise Incorrect("right hash, but put `sha256:` in front.")
        raise Incorrect("that is not the digest ECR reports for `lesson03/team:latest`.")


class ImmutableApp(Problem):
    title = "Make `lesson03/app`'s tags immutable, so `v1` can never be pushed over."
    hints = ("`ecr.put_image_tag_mutability(repositoryName=..., imageTagMutability=...)`",)
    solution_text = "One call; a push of another image to an existing tag is then refused:"
    solution_code = (
        "ecr.put_image_tag_mutability(repositoryName='lesson03/app', imageTagMutability='IMMUTABLE')\nex.q3.check()"
    )
    wrong_answers = (
        (
            "ecr.put_image_tag_mutability(repositoryName='lesson03/app', imageTagMutability='IMMUTABLE_WITH_EXCLUSION',\n"
            "                             imageTagMutabilityExclusionFilters=[{'filterType': 'WILDCARD', 'filter': 'v*'}])\n"
            "ex.q3.check()"
        ),
        (
            "lab.aws('ecr put-image-tag-mutability --repository-name lesson03/app --image-tag-mutability MUTABLE')\n"
            "ex.q3.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        try:
            repo = lab.client("ecr").describe_repositories(repositoryNames=["lesson03/app"])["repositories"][0]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
                raise NotAttempted("there is no repository `lesson03/app` yet: do question 1 first.") from None
            raise
        if repo["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION":
            filters = [f["filter"] for f in repo.get("imageTagMutabilityExclusionFilters", [])]
            raise Incorrect(f"`lesson03/app` excludes {filters} from immutability; `v1` must never move: IMMUTABLE.")
        if repo["imageTagMutability"] != "IMMUTABLE":
            raise Incorrect(f"`lesson03/app` is {repo['imageTagMutability']}; it must be IMMUTABLE.")
        return "`lesson03/app` is immutable: a tag, once pushed, always names the same digest."


class CopyImage(Problem):
    title = "Copy `lesson03/app:v1` to `lesson03/copy:v1`, keeping its digest."
    hints = (
        "Pull it (`client.pull('lesson03/app', 'v1')`) and push what you pulled, or use skopeo as in the lesson.",
        "A copy that keeps the manifest bytes keeps the digest; one that rebuilds the image does not.",
    )
    solution_text = (
        "Pull and push the same bytes. ECR keeps layers per repository, so the client uploads them again into "
        "`lesson03/copy`, unless the account's `BLOB_MOUNTING` setting is on and the client asks to mount them:"
    )
    solution_code = (
        _CREATE.format(name="lesson03/copy") + "client = RegistryClient.for_lab(lab)\n"
        "client.push(client.pull('lesson03/app', 'v1'), 'lesson03/copy', 'v1')\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        _CREATE.format(name="lesson03/copy") + "client = RegistryClient.for_lab(lab)\n"
        "rebuilt = images.ImageBuilder(client.pull('lesson03/app', 'v1')).label(copied='yes').build()\n"
        "client.push(rebuilt, 'lesson03/copy', 'v1')\n"
        "ex.q4.check()",
        _CREATE.format(name="lesson03/copy") + "client = RegistryClient.for_lab(lab)\n"
        "client.push(client.pull('lesson03/app', 'v1'), 'lesson03/copy', 'latest')\n"
        "ex.q4.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        source = _tagged(lab, "lesson03/app", "v1")
        copy = _tagged(lab, "lesson03/copy", "v1")
        if copy["imageDigest"] != source["imageDigest"]:
            raise Incorrect("`lesson03/copy:v1` has another digest: copy the pulled image as is, don't rebuild it.")
        return "same digest in both repositories: it is the same image."


_RULE_AGAIN = (
    "try:\n"
    "    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix='quay')  # a rule from an earlier attempt\n"
    "except ecr.exceptions.PullThroughCacheRuleNotFoundException:\n"
    "    pass\n"
)


class PullThroughQuay(Problem):
    title = (
        "Create a pull through cache rule with the prefix `quay` for Quay (`quay.io`), then pull `library/nginx:1.27` "
        "through it."
    )
    hints = (
        "`ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=..., upstreamRegistryUrl=...)`: Quay needs no secret.",
        "Pull `<prefix>/<upstream repository>:<tag>` from the lab's registry: `client.pull('quay/library/nginx', '1.27')`.",
    )
    solution_text = "One rule, then one pull through the lab's registry; ECR creates `quay/library/nginx` on the way:"
    solution_code = (
        _RULE_AGAIN + "ecr.create_pull_through_cache_rule(ecrRepositoryPrefix='quay', upstreamRegistryUrl='quay.io')\n"
        "RegistryClient.for_lab(lab).pull('quay/library/nginx', '1.27')\n"
        "ex.q5.check()"
    )
    wrong_answers = (
        _RULE_AGAIN + "ecr.create_pull_through_cache_rule(ecrRepositoryPrefix='quay', upstreamRegistryUrl='quay.io')\n"
        "try:\n"
        "    ecr.create_repository(repositoryName='quay/library/nginx')\n"
        "except ecr.exceptions.RepositoryAlreadyExistsException:\n"
        "    pass\n"
        "ex.q5.check()",
        _RULE_AGAIN
        + "ecr.create_pull_through_cache_rule(ecrRepositoryPrefix='quay', upstreamRegistryUrl='public.ecr.aws')\n"
        "RegistryClient.for_lab(lab).pull('quay/library/nginx', '1.27')\n"
        "ex.q5.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        ecr = lab.client("ecr")
        try:
            (rule,) = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["quay"])["pullThroughCacheRules"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "PullThroughCacheRuleNotFoundException":
                raise NotAttempted("there is no pull through cache rule with the prefix `quay` yet.") from None
            raise
        if rule["upstreamRegistryUrl"] != "quay.io":
            raise Incorrect(f"the rule `quay` caches from `{rule['upstreamRegistryUrl']}`; Quay's URL is `quay.io`.")
        detail = _tagged(lab, "quay/library/nginx", "1.27") if _images(lab, "quay/library/nginx") else None
        if detail is None:
            raise Incorrect(
                "`quay/library/nginx` holds no image yet: ECR fills it when you pull `quay/library/nginx:1.27` "
                "from the registry, not when you create it."
            )
        return (
            f"`quay/library/nginx:1.27` is `{detail['imageDigest'][:19]}…`, the upstream's digest: "
            "later pulls are answered from your registry."
        )


q1 = PushApp()
q2 = TeamDigest()
q3 = ImmutableApp()
q4 = CopyImage()
q5 = PullThroughQuay()


def reset(lab: Lab) -> str:
    """Start lesson 03 over (see :mod:`ecrlab.exercises.reset`)."""
    return reset_lab(lab)

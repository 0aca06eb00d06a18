"""Exercises for notebooks/03-push-and-pull.ipynb: push, digests, immutable tags, copying images.

The checks look at the running lab through its boto3 client (``DescribeImages``,
``DescribeRepositories``), as a learner would.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ecrlab.exercises.core import Incorrect, NotAttempted, Problem

__all__ = ["q1", "q2", "q3", "q4"]


def _images(lab: Any, repository: str) -> list[dict[str, Any]] | None:
    """The repository's image details, or None when it does not exist."""
    try:
        pages = lab.client("ecr").get_paginator("describe_images").paginate(repositoryName=repository)
        return [d for page in pages for d in page["imageDetails"]]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
            return None
        raise


def _tagged(lab: Any, repository: str, tag: str) -> dict[str, Any]:
    details = _images(lab, repository)
    if details is None:
        raise NotAttempted(f"there is no repository `{repository}` yet.")
    for detail in details:
        if tag in detail.get("imageTags", []):
            return detail
    raise NotAttempted(f"`{repository}` has no image tagged `{tag}` yet.")


class PushApp(Problem):
    title = "Push an image of your choice to `lesson03/app` with the tag `v1`."
    hints = (
        "Create the repository, build an image (`images.build_dockerfile(...)` or `images.ImageBuilder()`), then push it.",
        "`RegistryClient.for_lab(lab).push(image, 'lesson03/app', 'v1', progress=default_progress())`",
    )
    solution_text = "Any image will do; here, a one-file scratch image:"
    solution_code = (
        "ecr.create_repository(repositoryName='lesson03/app')\n"
        "app = images.ImageBuilder().copy_bytes(b'my app\\n', '/app.txt').build()\n"
        "RegistryClient.for_lab(lab).push(app, 'lesson03/app', 'v1', progress=default_progress())\n"
        "ex.q1.check()"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        detail = _tagged(lab, "lesson03/app", "v1")
        return f"`lesson03/app:v1` is `{detail['imageDigest'][:19]}…`, {detail['imageSizeInBytes']} bytes of layers."


class AppDigest(Problem):
    title = "What is the digest of `lesson03/app:v1`? Ask ECR, not your local copy."
    takes_answer = True
    hints = (
        "`ecr.describe_images(repositoryName='lesson03/app', imageIds=[{'imageTag': 'v1'}])`",
        "The digest is in `imageDetails[0]['imageDigest']`.",
    )
    solution_text = "ECR reports the digest of the manifest it stores:"
    solution_code = (
        "details = ecr.describe_images(repositoryName='lesson03/app', imageIds=[{'imageTag': 'v1'}])['imageDetails']\n"
        "ex.q2.check(details[0]['imageDigest'])"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        detail = _tagged(lab, "lesson03/app", "v1")
        if not isinstance(answer, str):
            raise Incorrect(f"a digest is a string like `sha256:…`, not a {type(answer).__name__}.")
        if answer.strip() == detail["imageDigest"]:
            return (
                "that digest pins exactly this image: `lesson03/app@" + detail["imageDigest"][:19] + "…` never changes."
            )
        if answer.strip() == detail["imageDigest"].split(":", 1)[1]:
            raise Incorrect("right hash, but put `sha256:` in front.")
        raise Incorrect("that is not the digest ECR reports for `lesson03/app:v1` (did you push another image since?).")


class ImmutableApp(Problem):
    title = "Make `lesson03/app`'s tags immutable, so `v1` can never be pushed over."
    hints = ("`ecr.put_image_tag_mutability(repositoryName=..., imageTagMutability=...)`",)
    solution_text = "One call; pushes of an existing tag then fail with `TAG_INVALID` in the registry:"
    solution_code = (
        "ecr.put_image_tag_mutability(repositoryName='lesson03/app', imageTagMutability='IMMUTABLE')\nex.q3.check()"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        try:
            repo = lab.client("ecr").describe_repositories(repositoryNames=["lesson03/app"])["repositories"][0]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
                raise NotAttempted("there is no repository `lesson03/app` yet: do question 1 first.") from None
            raise
        if repo["imageTagMutability"] != "IMMUTABLE":
            raise Incorrect(f"`lesson03/app` is {repo['imageTagMutability']}; it must be IMMUTABLE.")
        return "`lesson03/app` is immutable: a tag, once pushed, always names the same digest."


class CopyImage(Problem):
    title = "Copy `lesson03/app:v1` to `lesson03/copy:v1`, keeping its digest."
    hints = (
        "Pull it (`client.pull('lesson03/app', 'v1')`) and push what you pulled, or use skopeo as in the lesson.",
        "A copy that keeps the manifest bytes keeps the digest; one that rebuilds the image does not.",
    )
    solution_text = "Pull and push the same bytes (the layers are already in the registry, so nothing is re-sent):"
    solution_code = (
        "ecr.create_repository(repositoryName='lesson03/copy')\n"
        "client = RegistryClient.for_lab(lab)\n"
        "client.push(client.pull('lesson03/app', 'v1'), 'lesson03/copy', 'v1')\n"
        "ex.q4.check()"
    )

    def assess(self, lab: Any, answer: Any) -> str:
        source = _tagged(lab, "lesson03/app", "v1")
        copy = _tagged(lab, "lesson03/copy", "v1")
        if copy["imageDigest"] != source["imageDigest"]:
            raise Incorrect("`lesson03/copy:v1` has another digest: copy the pulled image as is, don't rebuild it.")
        return "same digest in both repositories: it is the same image."


q1 = PushApp()
q2 = AppDigest()
q3 = ImmutableApp()
q4 = CopyImage()

"""Exercises for notebooks/02-images-and-layers.ipynb: digests, layers, base images and indexes.

Questions 1 and 2 check a value the learner computes or builds; 3 and 4 look at the running lab through
its boto3 client (``DescribeImages``, ``BatchGetImage``), as a learner would.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.errors import Incorrect, NotAttempted
from ecrlab.exercises.core import Problem
from ecrlab.exercises.reset import reset_lab
from ecrlab.images import Image, RegistryClient, base_image, layer_files
from ecrlab.oci import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["q1", "q2", "q3", "q4", "reset"]

_CREATE = (
    "try:\n"
    "    ecr.create_repository(repositoryName='{name}')\n"
    "except ecr.exceptions.RepositoryAlreadyExistsException:\n"
    "    pass  # created on an earlier run\n"
)


class BaseDigest(Problem):
    title = "Compute the digest of the `alpine:3.18.0` lab base image yourself, from its manifest bytes."
    takes_answer = True
    hints = (
        "An image's digest is the sha256 of its manifest's exact bytes: `images.base_image('alpine:3.18.0').manifest`.",
        "`hashlib.sha256(data).hexdigest()` gives the hex; a digest is written `sha256:<hex>`.",
    )
    solution_text = "Hash the manifest bytes, and write the algorithm in front:"
    solution_code = (
        "import hashlib\n"
        "manifest = images.base_image('alpine:3.18.0').manifest\n"
        "answer = 'sha256:' + hashlib.sha256(manifest).hexdigest()\n"
        "ex.q1.check(answer)"
    )
    wrong_answers = (
        "answer = hashlib.sha256(images.base_image('alpine:3.18.0').manifest).hexdigest()\nex.q1.check(answer)",
        "answer = images.base_image('alpine:3.18.0').config.digest\nex.q1.check(answer)",
        (
            "answer = 'sha256:' + hashlib.sha256(json.dumps(images.base_image('alpine:3.18.0').manifest_json).encode())"
            ".hexdigest()\nex.q1.check(answer)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        image = base_image("alpine:3.18.0")
        if not isinstance(answer, str):
            raise Incorrect(f"a digest is a string like `sha256:…`, not a {type(answer).__name__}.")
        answer = answer.strip()
        if answer == image.digest:
            return "that is the image digest: the same one ECR, Docker and any registry would report for these bytes."
        if answer == image.digest.split(":", 1)[1]:
            raise Incorrect("right hash, but a digest names its algorithm: put `sha256:` in front.")
        if answer == image.config.digest:
            raise Incorrect("that is the digest of the image's *config* blob; the image digest hashes the *manifest*.")
        if answer in {layer.digest for layer in image.layers}:
            raise Incorrect("that is a *layer* digest; the image digest hashes the *manifest*.")
        raise Incorrect(
            "that is not the sha256 of `alpine:3.18.0`'s manifest bytes: hash `.manifest`, not its JSON re-encoded."
        )


class HelloOnBase(Problem):
    title = (
        "Build an image FROM `alpine:3.18.9` that adds `/app/hello.txt` (content `hello\\n`) and the label `team=web`."
    )
    takes_answer = True
    hints = (
        "`images.ImageBuilder(images.base_image('alpine:3.18.9'))` starts from the base; `.copy_bytes(...)` adds a layer.",
        "`.label(team='web')` changes only the config; finish with `.build()` and pass the image to `check`.",
    )
    solution_text = "One COPY layer on top of the base layer, and a label in the config:"
    solution_code = (
        "hello = (images.ImageBuilder(images.base_image('alpine:3.18.9'))\n"
        "         .copy_bytes(b'hello\\n', '/app/hello.txt')\n"
        "         .label(team='web')\n"
        "         .build())\n"
        "ex.q2.check(hello)"
    )
    wrong_answers = (
        (
            "hello = (images.ImageBuilder(images.base_image('alpine:3.20.3'))\n"
            "         .copy_bytes(b'hello\\n', '/app/hello.txt').label(team='web').build())\n"
            "ex.q2.check(hello)"
        ),
        (
            "hello = images.ImageBuilder(images.base_image('alpine:3.18.9')).copy_bytes(b'hello\\n', '/app/hello.txt').build()\n"
            "ex.q2.check(hello)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if not isinstance(answer, Image):
            raise Incorrect(f"pass the built image (what `.build()` returns), not a {type(answer).__name__}.")
        base = base_image("alpine:3.18.9")
        if not answer.layers or answer.layers[0].digest != base.layers[0].digest:
            raise Incorrect(
                "its first layer is not `alpine:3.18.9`'s: start the builder from `base_image('alpine:3.18.9')`."
            )
        added = {path: data for layer in answer.layers[1:] for path, data in layer_files(layer).items()}
        if added.get("/app/hello.txt") != b"hello\n":
            found = added.get("/app/hello.txt")
            raise Incorrect(
                "no layer adds `/app/hello.txt`."
                if found is None
                else f"`/app/hello.txt` holds {found!r}, not `b'hello\\n'`."
            )
        labels = answer.config_json.get("config", {}).get("Labels", {})
        if labels.get("team") != "web":
            raise Incorrect("the config has no label `team=web`.")
        return (
            f"{len(answer.layers)} layers, the first shared with `alpine:3.18.9` byte for byte "
            f"(`{base.layers[0].digest[:19]}…`)."
        )


class PushedHello(Problem):
    title = "Push your image from question 2 to the repository `lesson02/hello` with the tag `v1`."
    hints = (
        "Create the repository first: `ecr.create_repository(repositoryName='lesson02/hello')`.",
        "`RegistryClient.for_lab(lab).push(image, 'lesson02/hello', 'v1')` logs in with an ECR token and pushes.",
    )
    solution_text = "Create the repository (once), then push with the lab's client:"
    solution_code = (
        _CREATE.format(name="lesson02/hello") + "RegistryClient.for_lab(lab).push(hello, 'lesson02/hello', 'v1')\n"
        "ex.q3.check()"
    )
    wrong_answers = (
        _CREATE.format(name="lesson02/hello")
        + "RegistryClient.for_lab(lab).push(images.base_image('alpine:3.18.9'), 'lesson02/hello', 'v1')\n"
        "ex.q3.check()",
        _CREATE.format(name="lesson02/hello") + "RegistryClient.for_lab(lab).push(hello, 'lesson02/hello', 'latest')\n"
        "ex.q3.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        ecr = lab.client("ecr")
        try:
            got = ecr.batch_get_image(repositoryName="lesson02/hello", imageIds=[{"imageTag": "v1"}])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
                raise NotAttempted("there is no repository `lesson02/hello` yet.") from None
            raise
        if not got["images"]:
            raise NotAttempted("`lesson02/hello` has no image tagged `v1` yet.")
        # pull it back, as any client would, and judge what ECR holds by question 2's rules
        with RegistryClient.for_lab(lab) as client:
            pulled = client.pull("lesson02/hello", "v1")
        try:
            HelloOnBase().assess(lab, pulled)
        except Incorrect as exc:
            raise Incorrect(f"`lesson02/hello:v1` is not question 2's image: {exc}") from None
        return (
            f"`lesson02/hello:v1` is `{got['images'][0]['imageId']['imageDigest'][:19]}…` in ECR, "
            f"with {len(pulled.layers)} layers."
        )


class MultiPlatform(Problem):
    title = "Push a multi-platform image (linux/amd64 and linux/arm64) as `lesson02/multi:latest`."
    hints = (
        "Build one image per platform: `images.ImageBuilder(platform='linux/arm64')...build()`.",
        "`images.build_index([amd64_image, arm64_image])` makes the index; push the index like an image.",
    )
    solution_text = "Two images, one index, one push (the client uploads both images, then the index):"
    solution_code = (
        _CREATE.format(name="lesson02/multi")
        + "per_platform = [images.ImageBuilder(platform=p).copy_bytes(p.encode(), '/platform.txt').build()\n"
        "                for p in ('linux/amd64', 'linux/arm64')]\n"
        "RegistryClient.for_lab(lab).push(images.build_index(per_platform), 'lesson02/multi', 'latest')\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        _CREATE.format(name="lesson02/multi")
        + "amd64 = images.ImageBuilder(platform='linux/amd64').copy_bytes(b'amd64', '/platform.txt').build()\n"
        "RegistryClient.for_lab(lab).push(amd64, 'lesson02/multi', 'latest')\n"
        "ex.q4.check()",
        _CREATE.format(name="lesson02/multi")
        + "per_platform = [images.ImageBuilder(platform=p).copy_bytes(p.encode(), '/platform.txt').build()\n"
        "                for p in ('linux/amd64', 'linux/arm64')]\n"
        "RegistryClient.for_lab(lab).push(images.build_index(per_platform), 'lesson02/multi', 'multi')\n"
        "ex.q4.check()",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        ecr = lab.client("ecr")
        try:
            got = ecr.batch_get_image(
                repositoryName="lesson02/multi",
                imageIds=[{"imageTag": "latest"}],
                acceptedMediaTypes=[OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST],
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
                raise NotAttempted("there is no repository `lesson02/multi` yet.") from None
            raise
        if not got["images"]:
            raise NotAttempted("`lesson02/multi` has no image tagged `latest` yet.")
        manifest = json.loads(got["images"][0]["imageManifest"])
        if "manifests" not in manifest:
            raise Incorrect(
                "`lesson02/multi:latest` is a single image, not an index: push `images.build_index([...])`."
            )
        platforms = sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in manifest["manifests"])
        if not {"linux/amd64", "linux/arm64"} <= set(platforms):
            raise Incorrect(f"the index lists {', '.join(platforms)}; it needs linux/amd64 and linux/arm64.")
        return f"an index over {', '.join(platforms)}: a client picks the image for its own platform."


q1 = BaseDigest()
q2 = HelloOnBase()
q3 = PushedHello()
q4 = MultiPlatform()


def reset(lab: Lab) -> str:
    """Start lesson 02 over (see :mod:`ecrlab.exercises.reset`)."""
    return reset_lab(lab)

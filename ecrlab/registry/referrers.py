"""The referrers API: the manifests whose ``subject`` is a digest, as an OCI image index.

Authorized as ``ecr:BatchGetImage``, as ECR authorizes ``ListImageReferrers``. ``artifactType``
filters the list, and the answer says so with ``OCI-Filters-Applied``.
"""

from __future__ import annotations

from starlette.responses import Response

from ecrlab.oci import OCI_INDEX
from ecrlab.registry.context import Context, checked_digest, json_response

__all__ = ["list_referrers"]


async def list_referrers(ctx: Context, args: dict[str, str]) -> Response:
    digest = checked_digest(args["digest"])
    await ctx.authorize("BatchGetImage", fallback="NAME_INVALID", imageIds=[{"imageDigest": digest}])
    wanted = ctx.request.query_params.get("artifactType")
    descriptors = []
    for image in await ctx.run(ctx.plane.referrers, ctx.name, digest, wanted):
        descriptor = {"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest)}
        if image.artifact_type:
            descriptor["artifactType"] = image.artifact_type
        if image.annotations:
            descriptor["annotations"] = dict(image.annotations)
        descriptors.append(descriptor)
    headers = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
    return json_response(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}, headers=headers, media_type=OCI_INDEX
    )

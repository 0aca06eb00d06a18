"""The tag list: every tag of the repository, sorted lexically, paginated with ``n`` and ``last``."""

from __future__ import annotations

from starlette.responses import Response

from ecrlab.registry.context import Context, json_response
from ecrlab.registry.errors import RegistryError

__all__ = ["list_tags"]


async def list_tags(ctx: Context, args: dict[str, str]) -> Response:
    query = ctx.request.query_params
    n_value = query.get("n")
    if n_value is not None and not n_value.isdigit():
        raise RegistryError("UNSUPPORTED", message=f"n must be a non-negative integer, not {n_value!r}", status=400)
    tags: list[str] = []
    token = None
    while True:  # authorized as ListImages, page by page like the CLI does
        extra = {"filter": {"tagStatus": "TAGGED"}, "maxResults": 1000}
        if token:
            extra["nextToken"] = token
        page = await ctx.call("ListImages", fallback="NAME_INVALID", **extra)
        tags.extend(i["imageTag"] for i in page["imageIds"] if "imageTag" in i)
        token = page.get("nextToken")
        if not token:
            break
    tags.sort()
    last = query.get("last")
    if last:
        tags = [t for t in tags if t > last]
    headers = {}
    if n_value is not None:
        n = int(n_value)
        if len(tags) > n > 0:
            headers["Link"] = f'</v2/{ctx.name}/tags/list?n={n}&last={tags[n - 1]}>; rel="next"'
        tags = tags[:n]
    return json_response({"name": ctx.name, "tags": tags}, headers=headers)

"""Lab base images: the real package databases of official Alpine releases, and nothing else.

A lab base image has one layer holding ``/etc/alpine-release`` and ``/lib/apk/db/installed`` from the
official minirootfs (see ``ecrlab/data/base-images/PROVENANCE.md``). It carries no programs, so it
does not run, and its labels say so. What it gives the lessons is real: a scanner finds real
packages in it, and every image built ``FROM`` it shares its layer blob byte for byte.
"""

from __future__ import annotations

import functools
from importlib import resources

from ecrlab.images.builder import DEFAULT_PATH, ImageBuilder
from ecrlab.images.errors import ImageBuildError
from ecrlab.images.oci import Image

__all__ = ["BASE_IMAGES", "base_image"]


def _available() -> tuple[str, ...]:
    folder = resources.files("ecrlab") / "data" / "base-images"
    versions = [
        entry.name.removeprefix("alpine-").removesuffix(".installed")
        for entry in folder.iterdir()
        if entry.name.endswith(".installed")
    ]
    return tuple(f"alpine:{v}" for v in sorted(versions, key=lambda v: tuple(int(p) for p in v.split("."))))


BASE_IMAGES: tuple[str, ...] = _available()


@functools.cache
def base_image(name: str) -> Image:
    """The lab base image ``name`` (one of :data:`BASE_IMAGES`, e.g. ``"alpine:3.20.3"``)."""
    if name not in BASE_IMAGES:
        raise ImageBuildError(
            f"{name!r} is not a lab base image; without an engine you can build FROM scratch or from "
            f"{', '.join(BASE_IMAGES)}"
        )
    version = name.split(":", 1)[1]
    installed = (resources.files("ecrlab") / "data" / "base-images" / f"alpine-{version}.installed").read_bytes()
    builder = ImageBuilder("scratch", platform="linux/amd64").copy_files(
        {"/etc/alpine-release": f"{version}\n".encode(), "/lib/apk/db/installed": installed},
        created_by=f"COPY alpine-minirootfs-{version}-x86_64: /etc/alpine-release /lib/apk/db/installed",
    )
    builder.env(PATH=DEFAULT_PATH)
    builder.labels(
        {
            "ecrlab.base-image.contents": "package-database-only",
            "ecrlab.base-image.runnable": "false",
            "org.opencontainers.image.description": (
                f"The package database of the official Alpine {version} minirootfs (x86_64), for lessons. "
                "It holds no programs and does not run."
            ),
            "org.opencontainers.image.title": f"ecrlab lab base image alpine {version}",
            "org.opencontainers.image.version": version,
        }
    )
    return builder.build()

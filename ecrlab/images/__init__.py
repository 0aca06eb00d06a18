"""Images without an engine: build, lay out, push and pull OCI images.

>>> from ecrlab import images
>>> app = images.ImageBuilder(images.base_image("alpine:3.20.3")).copy_bytes(b"hi", "/app/hi.txt").build()
>>> app.digest  # the same on every machine, for the same inputs
>>> images.RegistryClient.for_lab(lab).push(app, "hello", "v1", progress=images.TextProgress())

Every name a lesson needs is here; the modules behind them: ``builder`` and ``dockerfile`` (build),
``base`` (lab base images), ``oci`` and ``layers`` (the objects and their bytes), ``layout`` (OCI
layout folders), ``client`` and ``progress`` (push and pull over the registry API), ``docker_engine``
(the docker SDK path), ``skopeo``, ``distribution`` (a CNCF Distribution registry beside the sandbox)
and ``diagram`` (images and their shared layers, drawn). Media types and the digest helper live one
layer down, in :mod:`ecrlab.oci`.

Names load on first use (PEP 562), so ``import ecrlab.images.oci`` does not pay for the HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrlab.lazy import lazy_exports

if TYPE_CHECKING:
    from ecrlab.errors import RegistryClientError
    from ecrlab.images.base import BASE_IMAGES, base_image
    from ecrlab.images.builder import ImageBuilder, build_index
    from ecrlab.images.client import PushResult, RegistryClient
    from ecrlab.images.diagram import layer_diagram
    from ecrlab.images.distribution import Distribution, start_distribution
    from ecrlab.images.docker_engine import engine_registry, find_engine
    from ecrlab.images.dockerfile import build_dockerfile, parse_dockerfile
    from ecrlab.images.errors import DockerfileError, ImageBuildError
    from ecrlab.images.layers import FileEntry, layer_files, make_layer
    from ecrlab.images.layout import read_layout, write_layout
    from ecrlab.images.oci import Blob, Image, ImageIndex, Platform
    from ecrlab.images.progress import ProgressEvent, TextProgress
    from ecrlab.images.skopeo import skopeo_copy

__all__ = [
    "BASE_IMAGES",
    "Blob",
    "Distribution",
    "DockerfileError",
    "FileEntry",
    "Image",
    "ImageBuildError",
    "ImageBuilder",
    "ImageIndex",
    "Platform",
    "ProgressEvent",
    "PushResult",
    "RegistryClient",
    "RegistryClientError",
    "TextProgress",
    "base_image",
    "build_dockerfile",
    "build_index",
    "engine_registry",
    "find_engine",
    "layer_diagram",
    "layer_files",
    "make_layer",
    "parse_dockerfile",
    "read_layout",
    "skopeo_copy",
    "start_distribution",
    "write_layout",
]

# Where each public name is defined.
_LAZY = {
    "BASE_IMAGES": "ecrlab.images.base",
    "Blob": "ecrlab.images.oci",
    "Distribution": "ecrlab.images.distribution",
    "DockerfileError": "ecrlab.images.errors",
    "FileEntry": "ecrlab.images.layers",
    "Image": "ecrlab.images.oci",
    "ImageBuildError": "ecrlab.images.errors",
    "ImageBuilder": "ecrlab.images.builder",
    "ImageIndex": "ecrlab.images.oci",
    "Platform": "ecrlab.images.oci",
    "ProgressEvent": "ecrlab.images.progress",
    "PushResult": "ecrlab.images.client",
    "RegistryClient": "ecrlab.images.client",
    "RegistryClientError": "ecrlab.errors",
    "TextProgress": "ecrlab.images.progress",
    "base_image": "ecrlab.images.base",
    "build_dockerfile": "ecrlab.images.dockerfile",
    "build_index": "ecrlab.images.builder",
    "engine_registry": "ecrlab.images.docker_engine",
    "find_engine": "ecrlab.images.docker_engine",
    "layer_diagram": "ecrlab.images.diagram",
    "layer_files": "ecrlab.images.layers",
    "make_layer": "ecrlab.images.layers",
    "parse_dockerfile": "ecrlab.images.dockerfile",
    "read_layout": "ecrlab.images.layout",
    "skopeo_copy": "ecrlab.images.skopeo",
    "start_distribution": "ecrlab.images.distribution",
    "write_layout": "ecrlab.images.layout",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)

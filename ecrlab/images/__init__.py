"""Images without an engine: build, lay out, push and pull OCI images.

>>> from ecrlab import images
>>> app = images.ImageBuilder(images.base_image("alpine:3.20.3")).copy_bytes(b"hi", "/app/hi.txt").build()
>>> app.digest  # the same on every machine, for the same inputs

Modules: ``builder`` and ``dockerfile`` (build), ``base`` (lab base images), ``oci`` and ``layers``
(the objects and their bytes), ``layout`` (OCI layout folders), ``client`` and ``progress`` (push and
pull), ``docker_engine`` (the docker SDK path), ``skopeo``, ``distribution`` (a CNCF Distribution
registry beside the sandbox) and ``diagram`` (images and their shared layers, drawn).
"""

from ecrlab.images.base import BASE_IMAGES, base_image
from ecrlab.images.builder import ImageBuilder, build_index
from ecrlab.images.client import RegistryClient
from ecrlab.images.diagram import layer_diagram
from ecrlab.images.dockerfile import build_dockerfile, parse_dockerfile
from ecrlab.images.errors import DockerfileError, ImageBuildError, RegistryClientError
from ecrlab.images.layers import FileEntry, layer_files, make_layer
from ecrlab.images.oci import Blob, Image, ImageIndex, Platform
from ecrlab.images.progress import TextProgress, default_progress

__all__ = [
    "BASE_IMAGES",
    "Blob",
    "DockerfileError",
    "FileEntry",
    "Image",
    "ImageBuildError",
    "ImageBuilder",
    "ImageIndex",
    "Platform",
    "RegistryClient",
    "RegistryClientError",
    "TextProgress",
    "base_image",
    "build_dockerfile",
    "build_index",
    "default_progress",
    "layer_diagram",
    "layer_files",
    "make_layer",
    "parse_dockerfile",
]

"""An OCI image layout on disk for an image made by ``random_image()``, for skopeo to copy from."""

from __future__ import annotations

import json
import os

from ecrlab.registry.client import Image


def write_oci_layout(path: str, image: Image, tag: str = "v1") -> None:
    """Write ``image`` (its blobs and manifest) as an OCI image layout directory, tagged ``tag``."""
    os.makedirs(os.path.join(path, "blobs", "sha256"))
    for digest, data in {**image.blobs, image.digest: image.manifest}.items():
        with open(os.path.join(path, "blobs", "sha256", digest.split(":")[1]), "wb") as f:
            f.write(data)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": image.media_type,
                "digest": image.digest,
                "size": len(image.manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump(index, f)

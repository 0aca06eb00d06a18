"""Twenty pushes at once of images that share layers: every one lands whole and pulls back identical."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from ecrlab.images import RegistryClient
from tests.images.random_images import random_image


def test_twenty_parallel_pushes_sharing_layers(lab, ecr):
    ecr.create_repository(repositoryName="team/app")
    shared = [os.urandom(200_000), os.urandom(50_000)]
    images = [random_image(layers=1, layer_size=10_000 + i, shared=shared) for i in range(20)]
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]

    def push(index: int) -> str:
        client = RegistryClient(lab.registry, token)
        try:
            image = images[index]
            # Half the clients push chunked, half monolithic, all racing on the shared layers.
            for blob in image.blobs():
                # Two chunks, or one monolithic POST (chunk_size=None).
                client.push_blob("team/app", blob.data, chunk_size=blob.size // 2 + 1 if index % 2 else None)
            client.push_manifest("team/app", f"build-{index:02d}", image.manifest)
            return image.digest
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        digests = list(pool.map(push, range(20)))
    assert digests == [i.digest for i in images]
    described = {d["imageDigest"]: d for d in ecr.describe_images(repositoryName="team/app")["imageDetails"]}
    assert set(described) == set(digests)
    client = RegistryClient(lab.registry, token)
    for index, image in enumerate(images):
        body, _ = client.get_manifest("team/app", f"build-{index:02d}")
        assert body == image.manifest
        for blob in image.blobs():
            assert client.get_blob("team/app", blob.digest) == blob.data
    assert lab.engine.blobs.store(lab.account_id, lab.region).uploads == {}

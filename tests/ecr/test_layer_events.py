"""The layer-upload API publishes LayerUploaded once a layer is committed, and only then."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError

from ecrlab.ecr.events import LayerUploaded


def test_complete_layer_upload_publishes_layer_uploaded(lab, ecr):
    ecr.create_repository(repositoryName="team/app")
    heard: list[LayerUploaded] = []
    lab.engine.events.subscribe(heard.append, LayerUploaded)
    data = b"a layer through the API"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    upload_id = ecr.initiate_layer_upload(repositoryName="team/app")["uploadId"]
    ecr.upload_layer_part(
        repositoryName="team/app", uploadId=upload_id, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data
    )
    assert heard == []  # parts are not a layer yet
    with pytest.raises(ClientError):  # a wrong digest commits nothing
        ecr.complete_layer_upload(repositoryName="team/app", uploadId=upload_id, layerDigests=["sha256:" + "0" * 64])
    assert heard == []
    upload_id = ecr.initiate_layer_upload(repositoryName="team/app")["uploadId"]
    ecr.upload_layer_part(
        repositoryName="team/app", uploadId=upload_id, partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data
    )
    ecr.complete_layer_upload(repositoryName="team/app", uploadId=upload_id, layerDigests=[digest])
    assert [(e.repository, e.digest, e.size, e.principal.account) for e in heard] == [
        ("team/app", digest, len(data), lab.account_id)
    ]
    available = ecr.batch_check_layer_availability(repositoryName="team/app", layerDigests=[digest])["layers"][0]
    assert available["layerAvailability"] == "AVAILABLE" and "mediaType" not in available

"""The lab's administrator is exempt from lock-out only in the lab's own account. In another account
it is that account's stranger: the root of account A, holding every identity permission in A, and
needing B's repository (or registry) policy for anything in B, on the API and the registry alike."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from ecrlab.errors import RegistryClientError
from ecrlab.images import RegistryClient
from tests.images.random_images import random_image

OTHER = "222222222222"


def code(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


@pytest.fixture
def foreign_image(lab):
    """An image in account B's repository ``shared``, pushed by B's own administrator."""
    other = lab.account(OTHER)
    other.client("ecr").create_repository(repositoryName="shared")
    registry = RegistryClient.for_lab(lab, session=other.session(), account_id=OTHER)
    image = random_image()
    try:
        registry.push(image, "shared", "v1")
    finally:
        registry.close()
    return image


def test_the_lab_administrator_needs_the_other_accounts_policy_on_the_api(lab, ecr, foreign_image):
    pull = lambda: ecr.batch_get_image(registryId=OTHER, repositoryName="shared", imageIds=[{"imageTag": "v1"}])
    delete = lambda: ecr.batch_delete_image(registryId=OTHER, repositoryName="shared", imageIds=[{"imageTag": "v1"}])
    assert code(pull) == "AccessDeniedException"
    assert code(delete) == "AccessDeniedException"
    assert code(lambda: ecr.create_repository(registryId=OTHER, repositoryName="planted")) == "AccessDeniedException"
    with pytest.raises(ClientError, match="because no resource-based policy allows the ecr:BatchGetImage action"):
        pull()

    lab.account(OTHER).client("ecr").set_repository_policy(
        repositoryName="shared",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{lab.account_id}:root"},
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    }
                ],
            }
        ),
    )
    assert pull()["images"][0]["imageId"]["imageDigest"] == foreign_image.digest
    assert code(delete) == "AccessDeniedException"  # B granted pulls, not deletes
    assert lab.account(OTHER).client("ecr").describe_images(repositoryName="shared")["imageDetails"]


def test_the_lab_administrators_token_is_refused_by_the_other_registry(lab, foreign_image):
    registry = RegistryClient.for_lab(lab, account_id=OTHER)  # the lab administrator's token
    try:
        assert registry.http.get("/v2/shared/manifests/v1").status_code == 403
        assert registry.http.get(f"/v2/shared/blobs/{foreign_image.layers[0].digest}").status_code == 403
        assert registry.http.delete(f"/v2/shared/manifests/{foreign_image.digest}").status_code == 403
        with pytest.raises(RegistryClientError) as info:
            registry.push(random_image(), "shared", "v2")
        assert info.value.status == 403

        lab.account(OTHER).client("ecr").set_repository_policy(
            repositoryName="shared",
            policyText=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": lab.account_id},
                            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        }
                    ],
                }
            ),
        )
        assert registry.get_manifest("shared", "v1")[0] == foreign_image.manifest
        assert registry.http.delete(f"/v2/shared/manifests/{foreign_image.digest}").status_code == 403
    finally:
        registry.close()
    # the image is still there for its owner
    images = lab.account(OTHER).client("ecr").describe_images(repositoryName="shared")["imageDetails"]
    assert [i["imageDigest"] for i in images] == [foreign_image.digest]


def test_in_its_own_account_the_lab_administrator_cannot_be_locked_out(lab, ecr):
    ecr.create_repository(repositoryName="mine")
    ecr.set_repository_policy(
        repositoryName="mine",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}],
            }
        ),
    )
    assert ecr.describe_repositories(repositoryNames=["mine"])["repositories"][0]["repositoryName"] == "mine"
    ecr.delete_repository_policy(repositoryName="mine")


def test_the_other_accounts_administrator_is_a_stranger_in_the_lab_account(lab, ecr):
    ecr.create_repository(repositoryName="mine")
    other = lab.account(OTHER).client("ecr")
    assert code(lambda: other.describe_images(registryId=lab.account_id, repositoryName="mine")) == (
        "AccessDeniedException"
    )

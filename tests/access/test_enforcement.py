"""Enforcement end to end: boto3, the AWS CLI and the registry decide the same way, from IAM users,
role sessions and a second account, with real AWS's refusal messages."""

from __future__ import annotations

import json
import shlex

import pytest
from botocore.exceptions import ClientError

from ecrlab.errors import RegistryClientError
from ecrlab.images import RegistryClient
from tests.access.policies import trust_policy
from tests.images.random_images import random_image

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
FULL = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"
PULL_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"


def user(lab, name, *managed, inline=None):
    iam = lab.client("iam")
    iam.create_user(UserName=name)
    for arn in managed:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
    return lab.session(user=name)


def error(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]


@pytest.fixture
def pushed(lab, ecr):
    ecr.create_repository(repositoryName="app")
    registry = RegistryClient.for_lab(lab)
    image = random_image(layers=2)
    registry.push(image, "app", "v1")
    registry.close()
    return image


def test_managed_policies_are_attachable_with_their_real_texts(lab):
    iam = lab.client("iam")
    policy = iam.get_policy(PolicyArn=READ_ONLY)["Policy"]
    assert policy["DefaultVersionId"] == "v3"
    version = iam.get_policy_version(PolicyArn=READ_ONLY, VersionId="v3")["PolicyVersion"]
    document = version["Document"] if isinstance(version["Document"], dict) else json.loads(version["Document"])
    assert "ecr:PutImage" not in document["Statement"][0]["Action"]
    assert "ecr:BatchGetImage" in document["Statement"][0]["Action"]
    names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert {
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEC2ContainerRegistryPowerUser",
        "AmazonEC2ContainerRegistryFullAccess",
        "AmazonEC2ContainerRegistryPullOnly",
    } <= names


def test_read_only_pulls_but_cannot_push_through_boto3(lab, pushed):
    reader = user(lab, "reader", READ_ONLY).client("ecr")
    got = reader.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])
    assert got["images"][0]["imageId"]["imageDigest"] == pushed.digest
    err = error(lambda: reader.put_image(repositoryName="app", imageManifest=pushed.manifest.decode(), imageTag="v2"))
    assert err["Code"] == "AccessDeniedException"
    assert err["Message"] == (
        "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: ecr:PutImage on resource: "
        "arn:aws:ecr:us-east-1:123456789012:repository/app because no identity-based policy allows the ecr:PutImage action"
    )
    err = error(lambda: reader.initiate_layer_upload(repositoryName="app"))
    assert "ecr:InitiateLayerUpload" in err["Message"]


def test_read_only_pulls_but_cannot_push_through_the_registry(lab, pushed):
    session = user(lab, "reader", READ_ONLY)
    registry = RegistryClient.for_lab(lab, session=session)
    try:
        manifest, _ = registry.get_manifest("app", "v1")
        assert manifest == pushed.manifest
        for blob in pushed.blobs():
            assert registry.get_blob("app", blob.digest) == blob.data
        with pytest.raises(RegistryClientError) as info:
            registry.push(random_image(), "app", "v2")
        assert info.value.status == 403
        assert info.value.code == "DENIED"
    finally:
        registry.close()


def test_power_user_pushes_and_pull_only_cannot_list(lab, pushed):
    registry = RegistryClient.for_lab(lab, session=user(lab, "pusher", POWER_USER))
    try:
        image = random_image()
        assert registry.push(image, "app", "v2").digest == image.digest
    finally:
        registry.close()
    puller = user(lab, "kubelet", PULL_ONLY).client("ecr")
    assert puller.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v2"}])["images"]
    assert error(lambda: puller.describe_images(repositoryName="app"))["Code"] == "AccessDeniedException"


def test_get_authorization_token_needs_an_identity_policy(lab, ecr):
    ecr.create_repository(repositoryName="app")
    ecr.set_repository_policy(
        repositoryName="app",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"]}
                ],
            }
        ),
    )
    nobody = user(lab, "nobody").client("ecr")
    err = error(lambda: nobody.get_authorization_token())
    assert err["Message"].endswith(
        "on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action"
    )
    assert nobody.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "none"}])["failures"]


def test_repository_policy_deny_stops_a_full_access_user(lab, ecr, pushed):
    admin = user(lab, "admin", FULL)
    ecr.set_repository_policy(
        repositoryName="app",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "NoPush",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"],
                    }
                ],
            }
        ),
    )
    err = error(
        lambda: admin.client("ecr").put_image(
            repositoryName="app", imageManifest=pushed.manifest.decode(), imageTag="v9"
        )
    )
    assert err["Message"].endswith("with an explicit deny in a resource-based policy")
    registry = RegistryClient.for_lab(lab, session=admin)
    try:
        with pytest.raises(RegistryClientError) as info:
            registry.push(random_image(), "app", "v3")
        assert info.value.status == 403
        assert registry.get_manifest("app", "v1")[0] == pushed.manifest
    finally:
        registry.close()
    # the lab's own administrator is never locked out, so the learner can undo the policy
    ecr.delete_repository_policy(repositoryName="app")
    assert admin.client("ecr").put_image(repositoryName="app", imageManifest=pushed.manifest.decode(), imageTag="v9")


def test_role_sessions_and_tag_conditions(lab, ecr):
    ecr.create_repository(repositoryName="blue-app", tags=[{"Key": "team", "Value": "blue"}])
    ecr.create_repository(repositoryName="red-app", tags=[{"Key": "team", "Value": "red"}])
    iam = lab.client("iam")
    iam.create_role(
        RoleName="blue-ci",
        AssumeRolePolicyDocument=trust_policy("arn:aws:iam::123456789012:root"),
        Tags=[{"Key": "team", "Value": "blue"}],
    )
    iam.put_role_policy(
        RoleName="blue-ci",
        PolicyName="own-team",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ecr:ListImages",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"ecr:ResourceTag/team": "${aws:PrincipalTag/team}"}},
                    }
                ],
            }
        ),
    )
    session = lab.session(role="blue-ci")
    assert session.client("sts").get_caller_identity()["Arn"] == "arn:aws:sts::123456789012:assumed-role/blue-ci/ecrlab"
    ci = session.client("ecr")
    assert ci.list_images(repositoryName="blue-app")["imageIds"] == []
    err = error(lambda: ci.list_images(repositoryName="red-app"))
    assert err["Message"].startswith("User: arn:aws:sts::123456789012:assumed-role/blue-ci/ecrlab is not authorized")


def test_tag_on_create_condition(lab):
    create_tagged = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecr:CreateRepository", "ecr:TagResource"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/owner": "${aws:username}"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["owner"]},
                },
            }
        ],
    }
    dev = user(lab, "dev", inline=create_tagged).client("ecr")
    assert dev.create_repository(repositoryName="mine", tags=[{"Key": "owner", "Value": "dev"}])
    assert (
        error(lambda: dev.create_repository(repositoryName="theirs", tags=[{"Key": "owner", "Value": "ops"}]))["Code"]
        == "AccessDeniedException"
    )
    assert error(lambda: dev.create_repository(repositoryName="untagged"))["Code"] == "AccessDeniedException"


def test_cross_account_pull_needs_both_policies(lab, ecr, pushed):
    other = lab.account("222222222222")
    iam = other.client("iam")
    iam.create_user(UserName="consumer")
    consumer = other.session(user="consumer")
    assert consumer.client("sts").get_caller_identity()["Arn"] == "arn:aws:iam::222222222222:user/consumer"
    pull = lambda: consumer.client("ecr").batch_get_image(
        registryId=lab.account_id, repositoryName="app", imageIds=[{"imageTag": "v1"}]
    )
    assert error(pull)["Message"].endswith("because no identity-based policy allows the ecr:BatchGetImage action")
    iam.attach_user_policy(UserName="consumer", PolicyArn=READ_ONLY)
    assert error(pull)["Message"].endswith("because no resource-based policy allows the ecr:BatchGetImage action")
    ecr.set_repository_policy(
        repositoryName="app",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Pull",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                        "Action": [
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                            "ecr:BatchCheckLayerAvailability",
                        ],
                    }
                ],
            }
        ),
    )
    assert pull()["images"][0]["imageId"]["imageDigest"] == pushed.digest
    registry = RegistryClient.for_lab(lab, session=consumer)  # the consumer's token opens the lab account's registry
    try:
        assert registry.get_manifest("app", "v1")[0] == pushed.manifest
        with pytest.raises(RegistryClientError) as info:
            registry.push(random_image(), "app", "v2")
        assert info.value.status == 403
    finally:
        registry.close()
    iam.detach_user_policy(UserName="consumer", PolicyArn=READ_ONLY)
    assert error(pull)["Code"] == "AccessDeniedException"


def test_second_account_has_its_own_registry_and_admin(lab):
    other = lab.account("222222222222")
    assert other is lab.account("222222222222")
    repo = other.client("ecr").create_repository(repositoryName="mine")["repository"]
    assert repo["repositoryArn"] == "arn:aws:ecr:us-east-1:222222222222:repository/mine"
    assert lab.client("ecr").describe_repositories()["repositories"] == []
    err = error(lambda: other.client("ecr").describe_repositories(registryId=lab.account_id))
    assert err["Message"].startswith("User: arn:aws:iam::222222222222:root is not authorized")


def test_registry_policy_governs_replication_and_scope(lab, ecr):
    other = lab.account("222222222222")
    authorizer = lab.engine.authorizer
    decision = authorizer.replication_decision(other.account_id, lab.account_id, lab.region, "app")
    assert not decision.allowed and decision.missing == "resource-based policy"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Replication",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{other.account_id}:root"},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": f"arn:aws:ecr:{lab.region}:{lab.account_id}:repository/*",
            }
        ],
    }
    ecr.put_registry_policy(policyText=json.dumps(policy))
    assert json.loads(ecr.get_registry_policy()["policyText"]) == policy
    assert authorizer.replication_decision(other.account_id, lab.account_id, lab.region, "app").allowed
    assert authorizer.replication_decision(
        other.account_id, lab.account_id, lab.region, "app", "ecr:CreateRepository"
    ).allowed
    assert not authorizer.replication_decision("333333333333", lab.account_id, lab.region, "app").allowed
    # under V1 the registry policy may grant only the replication and creation actions
    ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V1")
    assert ecr.get_account_setting(name="REGISTRY_POLICY_SCOPE")["value"] == "V1"
    policy["Statement"][0]["Action"] = "ecr:BatchGetImage"
    err = error(lambda: ecr.put_registry_policy(policyText=json.dumps(policy)))
    assert err["Code"] == "InvalidParameterException" and "V1" in err["Message"]
    assert (
        error(lambda: ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V3"))["Code"]
        == "InvalidParameterException"
    )
    ecr.delete_registry_policy()
    assert error(lambda: ecr.get_registry_policy())["Code"] == "RegistryPolicyNotFoundException"


def test_aws_cli_with_a_users_keys(lab, pushed):
    creds = user(lab, "reader", READ_ONLY).get_credentials()
    env = {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
    listed = lab.aws("ecr list-images --repository-name app", env=env)
    assert listed.ok, listed.stderr
    assert json.loads(listed.stdout)["imageIds"][0]["imageTag"] == "v1"
    got = lab.aws(
        "ecr batch-get-image --repository-name app --image-ids imageTag=v1 --query images[].imageId.imageTag", env=env
    )
    assert got.ok and json.loads(got.stdout) == ["v1"], got.stderr
    pushed_by_cli = lab.aws(
        f"ecr put-image --repository-name app --image-tag v2 --image-manifest {shlex.quote(pushed.manifest.decode())}",
        env=env,
    )
    assert not pushed_by_cli.ok
    assert (
        "(AccessDeniedException) when calling the PutImage operation: User: arn:aws:iam::123456789012:user/reader"
        in pushed_by_cli.stderr
    )
    refused = lab.aws("ecr delete-repository --repository-name app --force", env=env)
    assert not refused.ok
    assert "AccessDeniedException" in refused.stderr
    assert (
        "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: ecr:DeleteRepository on resource: "
        "arn:aws:ecr:us-east-1:123456789012:repository/app because no identity-based policy allows the "
        "ecr:DeleteRepository action"
    ) in refused.stderr


def test_denials_are_recorded_in_the_event_log(lab, pushed):
    reader = user(lab, "reader", READ_ONLY).client("ecr")
    error(lambda: reader.delete_repository(repositoryName="app"))
    event = lab.trail.records[-1]
    assert event["eventName"] == "DeleteRepository" and event["errorCode"] == "AccessDeniedException"
    assert event["userIdentity"]["arn"] == "arn:aws:iam::123456789012:user/reader"


def test_group_policies_apply_to_their_members(lab, pushed):
    iam = lab.client("iam")
    iam.create_group(GroupName="pullers")
    iam.attach_group_policy(GroupName="pullers", PolicyArn=PULL_ONLY)
    member = user(lab, "member").client("ecr")
    refused = error(lambda: member.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}]))
    assert refused["Code"] == "AccessDeniedException"
    iam.add_user_to_group(GroupName="pullers", UserName="member")
    assert member.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])["images"]


def test_registry_and_repository_policies_never_grant_the_login_token(lab, ecr):
    ecr.put_registry_policy(
        policyText=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*"}]}
        )
    )
    nobody = user(lab, "nobody").client("ecr")
    assert error(lambda: nobody.get_authorization_token())["Code"] == "AccessDeniedException"
    ecr.create_repository(repositoryName="app")
    assert nobody.list_images(repositoryName="app")["imageIds"] == []  # the V2 registry policy grants this one


def test_deleted_or_inactive_keys_and_expired_sessions_are_refused(lab, ecr):
    ecr.create_repository(repositoryName="app")
    session = user(lab, "temp", READ_ONLY)
    client = session.client("ecr")
    key = session.get_credentials().access_key
    assert client.list_images(repositoryName="app")["imageIds"] == []
    iam = lab.client("iam")
    iam.update_access_key(UserName="temp", AccessKeyId=key, Status="Inactive")
    err = error(lambda: client.list_images(repositoryName="app"))
    assert (err["Code"], err["Message"]) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    iam.delete_access_key(UserName="temp", AccessKeyId=key)
    assert error(lambda: client.list_images(repositoryName="app"))["Code"] == "UnrecognizedClientException"
    assert lab.session(user="temp").client("ecr").list_images(repositoryName="app")["imageIds"] == []  # a new key

    iam.create_role(
        RoleName="short",
        AssumeRolePolicyDocument=trust_policy("arn:aws:iam::123456789012:root"),
    )
    iam.attach_role_policy(RoleName="short", PolicyArn=READ_ONLY)
    role = lab.session(role="short").client("ecr")
    assert role.list_images(repositoryName="app")["imageIds"] == []
    lab.clock.advance(hours=2)  # the lab's role sessions last one hour
    err = error(lambda: role.list_images(repositoryName="app"))
    assert (err["Code"], err["Message"]) == (
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )


def test_registry_policy_lets_another_account_create_repositories(lab, ecr):
    other = lab.account("222222222222")
    other.client("iam").create_user(UserName="builder")
    other.client("iam").attach_user_policy(UserName="builder", PolicyArn=FULL)
    builder = other.session(user="builder").client("ecr")
    create = lambda name: builder.create_repository(registryId=lab.account_id, repositoryName=name)
    assert error(lambda: create("from-b"))["Message"].endswith(
        "because no resource-based policy allows the ecr:CreateRepository action"
    )
    ecr.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V1")
    ecr.put_registry_policy(
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                        "Action": "ecr:CreateRepository",
                        "Resource": f"arn:aws:ecr:{lab.region}:{lab.account_id}:repository/from-b*",
                    }
                ],
            }
        )
    )
    assert (
        create("from-b")["repository"]["repositoryArn"] == f"arn:aws:ecr:us-east-1:{lab.account_id}:repository/from-b"
    )
    assert error(lambda: create("elsewhere"))["Code"] == "AccessDeniedException"
    # V1 scope: the registry policy is not consulted for other actions
    assert (
        error(lambda: builder.list_images(registryId=lab.account_id, repositoryName="from-b"))["Code"]
        == "AccessDeniedException"
    )

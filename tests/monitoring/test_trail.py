"""CloudTrail records of real pushes, pulls and refusals, and LookupEvents over boto3 and the AWS CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from ecrlab.images import RegistryClient
from tests.images.random_images import random_image
from tests.lifecycle.lifecycle_support import policy, rule

PUSH = ["InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload"]


def trail_json(event: dict) -> dict:
    assert isinstance(event["CloudTrailEvent"], str)
    return json.loads(event["CloudTrailEvent"])


def all_events(cloudtrail, **kwargs) -> list[dict]:
    pages = cloudtrail.get_paginator("lookup_events").paginate(**kwargs)
    return [e for page in pages for e in page["Events"]]


def test_a_push_and_a_pull_record_the_documented_calls(lab, registry, repo):
    image = random_image(layers=1)
    registry.push(image, repo, "v1")
    registry.get_manifest(repo, "v1")
    registry.get_blob(repo, image.layers[0].digest)
    names = [r["eventName"] for r in lab.trail.records if r["eventName"] != "GetAuthorizationToken"]
    # As docker does: a HEAD per blob first (BatchCheckLayerAvailability), then the upload.
    assert names[names.index("BatchCheckLayerAvailability") :] == [
        *["BatchCheckLayerAvailability", *PUSH],  # the config blob
        *["BatchCheckLayerAvailability", *PUSH],  # the layer
        "PutImage",
        "BatchGetImage",
        "GetDownloadUrlForLayer",
    ]


def test_record_shape_field_by_field(lab, registry, repo):
    registry.push(random_image(), repo, "v1")
    put = next(r for r in reversed(lab.trail.records) if r["eventName"] == "PutImage")
    assert list(put) == [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "requestParameters",
        "responseElements",
        "requestID",
        "eventID",
        "readOnly",
        "resources",
        "eventType",
        "managementEvent",
        "recipientAccountId",
        "eventCategory",
    ]
    assert put["userIdentity"] == {
        "type": "Root",
        "principalId": "123456789012",
        "arn": "arn:aws:iam::123456789012:root",
        "accountId": "123456789012",
        "accessKeyId": "AKIAECRLABADMIN00000",
    }
    assert put["eventTime"] <= lab.clock.now()
    assert put["eventSource"] == "ecr.amazonaws.com" and put["awsRegion"] == "us-east-1"
    assert put["sourceIPAddress"] == "127.0.0.1" and put["userAgent"].startswith("python-httpx/")
    assert put["requestParameters"]["repositoryName"] == repo and put["requestParameters"]["imageTag"] == "v1"
    assert "imageManifest" not in put["requestParameters"]
    assert put["responseElements"]["image"]["imageId"]["imageTag"] == "v1"
    assert put["readOnly"] is False and put["eventType"] == "AwsApiCall" and put["managementEvent"] is True
    assert put["resources"] == [
        {"accountId": "123456789012", "ARN": f"arn:aws:ecr:us-east-1:123456789012:repository/{repo}"}
    ]
    assert put["recipientAccountId"] == "123456789012" and put["eventCategory"] == "Management"
    assert put["eventID"] != put["requestID"]
    token = next(r for r in lab.trail.records if r["eventName"] == "GetAuthorizationToken")
    assert token["readOnly"] is True and token["responseElements"] is None  # the password is never logged


def test_iam_user_and_role_session_identities(lab, ecr, repo):
    iam = lab.client("iam")
    user = iam.create_user(UserName="alice")["User"]
    iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    alice = lab.session(user="alice")
    alice.client("ecr").describe_repositories()
    record = lab.trail.records[-1]
    key = alice.get_credentials().access_key
    assert record["userIdentity"] == {
        "type": "IAMUser",
        "principalId": user["UserId"],
        "arn": user["Arn"],
        "accountId": "123456789012",
        "accessKeyId": key,
        "userName": "alice",
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.attach_role_policy(RoleName="deployer", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    lab.session(role="deployer").client("ecr").list_images(repositoryName=repo)
    identity = lab.trail.records[-1]["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/deployer/ecrlab"
    assert identity["principalId"] == f"{role['RoleId']}:ecrlab"
    assert identity["accessKeyId"].startswith("ASIA")
    assert identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role",
        "principalId": role["RoleId"],
        "arn": role["Arn"],
        "accountId": "123456789012",
        "userName": "deployer",
    }


def test_refused_call_records_error_code_and_message(lab, repo):
    lab.client("iam").create_user(UserName="mallory")
    with pytest.raises(ClientError) as refused:
        lab.session(user="mallory").client("ecr").batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    record = lab.trail.records[-1]
    assert record["eventName"] == "BatchDeleteImage"
    assert record["errorCode"] == "AccessDeniedException"
    assert record["errorMessage"] == refused.value.response["Error"]["Message"]
    assert record["responseElements"] is None


def test_lookup_events_filters_on_each_attribute(lab, ecr, cloudtrail, registry, repo):
    registry.push(random_image(), repo, "v1")
    ecr.create_repository(repositoryName="other")
    put = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutImage"}])
    (event,) = put["Events"]
    assert set(event) == {
        "EventId",
        "EventName",
        "ReadOnly",
        "AccessKeyId",
        "EventTime",
        "EventSource",
        "Username",
        "Resources",
        "CloudTrailEvent",
    }
    assert event["ReadOnly"] == "false" and event["Username"] == "root"
    assert event["Resources"] == [{"ResourceType": "AWS::ECR::Repository", "ResourceName": repo}]
    body = trail_json(event)
    assert body["eventID"] == event["EventId"] and body["eventName"] == "PutImage"
    recorded = next(r for r in lab.trail.records if r["eventID"] == event["EventId"])
    assert body["eventTime"] == recorded["eventTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert event["EventTime"] == recorded["eventTime"]

    def names(key: str, value: str) -> list[str]:
        found = all_events(cloudtrail, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
        return [e["EventName"] for e in found]

    assert names("EventId", event["EventId"]) == ["PutImage"]
    assert names("ResourceName", "other") == ["CreateRepository"]
    assert names("ResourceName", f"arn:aws:ecr:us-east-1:123456789012:repository/{repo}")[-1] == "CreateRepository"
    assert set(names("ReadOnly", "true")) == {"GetAuthorizationToken", "BatchCheckLayerAvailability"}
    assert "GetAuthorizationToken" not in names("ReadOnly", "false")
    assert len(names("EventSource", "ecr.amazonaws.com")) == len(lab.trail.records)
    assert len(names("AccessKeyId", "AKIAECRLABADMIN00000")) == len(lab.trail.records)
    assert len(names("Username", "root")) == len(lab.trail.records)
    assert names("Username", "nobody") == []
    assert "GetAuthorizationToken" not in names("ResourceType", "AWS::ECR::Repository")


def test_lookup_pages_newest_first_once_each(lab, ecr, cloudtrail):
    for n in range(7):
        ecr.create_repository(repositoryName=f"r{n}")
    pages = list(cloudtrail.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["Events"]) for p in pages] == [3, 3, 1]
    ids = [e["EventId"] for p in pages for e in p["Events"]]
    assert ids == [r["eventID"] for r in reversed(lab.trail.records)]
    token = pages[0]["NextToken"]
    with pytest.raises(ClientError) as changed:  # a token belongs to the query that made it
        cloudtrail.lookup_events(
            NextToken=token, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateRepository"}]
        )
    assert changed.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_lookup_time_range_is_the_lab_clock(lab, ecr, cloudtrail):
    ecr.create_repository(repositoryName="early")
    middle = lab.clock.advance(hours=2)
    ecr.create_repository(repositoryName="late")
    after = [trail_json(e)["requestParameters"]["repositoryName"] for e in all_events(cloudtrail, StartTime=middle)]
    assert after == ["late"]
    before = [trail_json(e)["requestParameters"]["repositoryName"] for e in all_events(cloudtrail, EndTime=middle)]
    assert before == ["early"]
    lab.clock.advance(days=91)  # event history keeps 90 days
    assert all_events(cloudtrail) == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        (
            {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "PutImage"}] * 2},
            "InvalidLookupAttributesException",
        ),
        ({"LookupAttributes": [{"AttributeKey": "Region", "AttributeValue": "x"}]}, "InvalidLookupAttributesException"),
        (
            {"LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]},
            "InvalidLookupAttributesException",
        ),
        (
            {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "x" * 2001}]},
            "InvalidLookupAttributesException",
        ),
        ({"EventCategory": "management"}, "InvalidEventCategoryException"),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
    ],
)
def test_lookup_validation_errors(cloudtrail, kwargs, code):
    with pytest.raises(ClientError) as error:
        cloudtrail.lookup_events(**kwargs)
    assert error.value.response["Error"]["Code"] == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_lookup_time_range_error(lab, cloudtrail):
    now = lab.clock.now()
    with pytest.raises(ClientError) as error:
        cloudtrail.lookup_events(StartTime=now, EndTime=now - timedelta(hours=1))
    assert error.value.response["Error"]["Code"] == "InvalidTimeRangeException"


def test_each_account_sees_its_own_history(lab, ecr):
    other = lab.account("210987654321")
    other.client("ecr").create_repository(repositoryName="theirs")
    ecr.create_repository(repositoryName="ours")
    theirs = all_events(other.client("cloudtrail"))
    assert [trail_json(e)["requestParameters"]["repositoryName"] for e in theirs] == ["theirs"]
    assert trail_json(theirs[0])["recipientAccountId"] == "210987654321"
    assert "theirs" not in [
        trail_json(e)["requestParameters"]["repositoryName"] for e in all_events(lab.client("cloudtrail"))
    ]


def test_cli_lookup_events_answers_from_the_trail(lab, ecr):
    ecr.create_repository(repositoryName="seen-by-cli")
    result = lab.aws(
        "cloudtrail lookup-events --max-items 1 --lookup-attributes AttributeKey=EventName,AttributeValue=CreateRepository"
    )
    assert result.ok, result.stderr
    (event,) = json.loads(result.stdout)["Events"]
    assert json.loads(event["CloudTrailEvent"])["requestParameters"]["repositoryName"] == "seen-by-cli"
    refused = lab.aws("cloudtrail lookup-events --max-results 51")
    assert not refused.ok and "InvalidMaxResultsException" in refused.stderr


def test_who_deleted_an_image(lab, ecr, registry, repo):
    registry.push(random_image(), repo, "v1")
    iam = lab.client("iam")
    iam.create_user(UserName="bob")
    delete = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:BatchDeleteImage", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="bob", PolicyName="delete", PolicyDocument=json.dumps(delete))
    lab.session(user="bob").client("ecr").batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    (deleted,) = lab.trail.who("BatchDeleteImage", repository=repo)
    assert deleted["userIdentity"]["userName"] == "bob"
    found = lab.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "BatchDeleteImage"}]
    )["Events"]
    assert [e["Username"] for e in found] == ["bob"]


def test_lifecycle_expiry_of_many_images_is_split_across_policy_execution_events(lab, ecr, repo):
    pusher = RegistryClient.for_lab(lab)
    for _ in range(11):
        pusher.push(random_image(layer_size=16), repo)  # untagged, each its own digest
    pusher.close()
    ecr.put_lifecycle_policy(
        repositoryName=repo, lifecyclePolicyText=policy(rule(1, "untagged", "imageCountMoreThan", 1))
    )
    lab.clock.advance(days=1)
    found = all_events(
        lab.client("cloudtrail"),
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PolicyExecutionEvent"}],
    )
    bodies = [trail_json(e) for e in found]
    assert sorted(len(b["serviceEventDetails"]["lifecycleEventImageActions"]) for b in bodies) == [1, 9]
    assert all(b["eventType"] == "AwsServiceEvent" and b["userIdentity"]["invokedBy"] == "AWS Internal" for b in bodies)
    assert {e["Resources"][0]["ResourceName"] for e in found} == {repo}

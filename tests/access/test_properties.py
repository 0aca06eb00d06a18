"""Properties of the decision, for any policies hypothesis can think of: an explicit deny always
wins, adding an Allow never removes access, and the data plane and the API agree."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecrlab
from ecrlab.access.actions import ECR_ACTIONS
from ecrlab.access.evaluation import IDENTITY, RESOURCE, Policy, Request, evaluate
from ecrlab.images import RegistryClient
from tests.images.random_images import random_image

A, B = "111122223333", "444455556666"
REPOS = [f"arn:aws:ecr:us-east-1:{A}:repository/{n}" for n in ("app", "app/web", "base")]
PRINCIPALS = [(f"arn:aws:iam::{A}:user/alice", A), (f"arn:aws:iam::{B}:user/bob", B)]

actions = st.sampled_from(list(ECR_ACTIONS[:12]) + ["ecr:*", "ecr:Batch*", "ecr:Get*", "*"])
resources = st.sampled_from(["*", *REPOS, f"arn:aws:ecr:*:{A}:repository/app*"])
conditions = st.sampled_from(
    [
        None,
        {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
        {"StringNotEquals": {"aws:PrincipalTag/team": "blue"}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    ]
)
principals = st.sampled_from(["*", {"AWS": A}, {"AWS": B}, {"AWS": PRINCIPALS[0][0]}, {"AWS": PRINCIPALS[1][0]}])


@st.composite
def statements(draw, resource_policy: bool, effect=None):
    s = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    s["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = draw(
        st.lists(actions, min_size=1, max_size=3)
    )
    if resource_policy:
        s["Principal"] = draw(principals)
    else:
        s["Resource"] = draw(st.lists(resources, min_size=1, max_size=2))
    condition = draw(conditions)
    if condition:
        s["Condition"] = condition
    return s


def policy(kind, statement_list):
    return Policy.from_text(json.dumps({"Version": "2012-10-17", "Statement": statement_list}), kind, kind)


@st.composite
def requests(draw):
    principal, account = draw(st.sampled_from(PRINCIPALS))
    context = {"aws:sourceip": draw(st.sampled_from(["10.1.1.1", "192.0.2.9"]))}
    if draw(st.booleans()):
        context["aws:principaltag/team"] = draw(st.sampled_from(["blue", "red"]))
    return Request(principal, account, draw(st.sampled_from(ECR_ACTIONS)), draw(st.sampled_from(REPOS)), A, context)


identity_lists = st.lists(statements(False), max_size=4)
resource_lists = st.lists(statements(True), max_size=4)


def decide(request, identity, resource):
    return evaluate(
        request, [policy(IDENTITY, identity)] if identity else [], [policy(RESOURCE, resource)] if resource else []
    )


@given(requests(), identity_lists, resource_lists, st.booleans())
def test_an_explicit_deny_always_wins(request, identity, resource, in_resource):
    denial = {"Effect": "Deny", "Action": request.action}
    if in_resource:
        resource = [*resource, {**denial, "Principal": "*"}]
    else:
        identity = [*identity, {**denial, "Resource": request.resource}]
    decision = decide(request, identity, resource)
    assert decision.decision == "explicitDeny"
    assert any(m.effect == "Deny" for m in decision.deciding)


@given(requests(), identity_lists, resource_lists, statements(False, "Allow"), statements(True, "Allow"))
def test_adding_an_allow_never_removes_access(request, identity, resource, extra_identity, extra_resource):
    before = decide(request, identity, resource)
    assert not (before.allowed and not decide(request, [*identity, extra_identity], resource).allowed)
    assert not (before.allowed and not decide(request, identity, [*resource, extra_resource]).allowed)
    # and a deny stays a deny
    if before.decision == "explicitDeny":
        assert decide(request, [*identity, extra_identity], [*resource, extra_resource]).decision == "explicitDeny"


DATA_PLANE = (
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
)


@pytest.fixture(scope="module")
def prop_lab():
    with ecrlab.start(deterministic=True) as lab:
        lab.client("ecr").create_repository(repositoryName="app")
        admin = RegistryClient.for_lab(lab)
        image = random_image()
        admin.push(image, "app", "v1")
        admin.close()
        lab.client("iam").create_user(UserName="prop")
        yield lab, image


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(granted=st.sets(st.sampled_from(DATA_PLANE)), by_repository_policy=st.booleans())
def test_the_data_plane_and_the_api_decide_alike(prop_lab, granted, by_repository_policy):
    lab, image = prop_lab
    ecr = lab.client("ecr")
    iam = lab.client("iam")
    identity = [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]
    if by_repository_policy and granted:
        ecr.set_repository_policy(
            repositoryName="app",
            policyText=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::123456789012:user/prop"},
                            "Action": sorted(granted),
                        }
                    ],
                }
            ),
        )
    else:
        try:
            ecr.delete_repository_policy(repositoryName="app")
        except ClientError:
            pass
        if granted:
            identity.append({"Effect": "Allow", "Action": sorted(granted), "Resource": "*"})
    iam.put_user_policy(
        UserName="prop", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": identity})
    )
    session = lab.session(user="prop")
    api = session.client("ecr")
    layer = image.layers[0].digest
    api_calls = {
        "ecr:BatchGetImage": lambda: api.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}]),
        "ecr:GetDownloadUrlForLayer": lambda: api.get_download_url_for_layer(repositoryName="app", layerDigest=layer),
        "ecr:BatchCheckLayerAvailability": lambda: api.batch_check_layer_availability(
            repositoryName="app", layerDigests=[layer]
        ),
        "ecr:InitiateLayerUpload": lambda: api.initiate_layer_upload(repositoryName="app"),
    }
    registry = RegistryClient.for_lab(lab, session=session)
    http = {
        "ecr:BatchGetImage": lambda: registry.http.get("/v2/app/manifests/v1"),
        "ecr:GetDownloadUrlForLayer": lambda: registry.http.get(f"/v2/app/blobs/{layer}"),
        "ecr:BatchCheckLayerAvailability": lambda: registry.http.head(f"/v2/app/blobs/{layer}"),
        "ecr:InitiateLayerUpload": lambda: registry.http.post("/v2/app/blobs/uploads/"),
    }
    try:
        for action in DATA_PLANE:
            try:
                api_calls[action]()
                api_allowed = True
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "AccessDeniedException"
                api_allowed = False
            registry_allowed = http[action]().status_code != 403
            assert api_allowed == registry_allowed == (action in granted), action
    finally:
        registry.close()

"""The cases of AWS's documented policy evaluation logic, decided by the engine alone."""

from __future__ import annotations

import json

import pytest

from ecrlab.access.evaluation import BOUNDARY, IDENTITY, RESOURCE, SESSION, Policy, Request, evaluate

A, B = "111122223333", "444455556666"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{B}:user/bob"
REPO = f"arn:aws:ecr:us-east-1:{A}:repository/app"


def policy(kind, *statements, name=None):
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return Policy.from_text(text, name or f"{kind} #{len(statements)}", kind)


def allow(action="ecr:BatchGetImage", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="ecr:BatchGetImage", resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal, action="ecr:BatchGetImage", effect="Allow", **extra):
    return {"Effect": effect, "Principal": principal, "Action": action, **extra}


def req(principal=ALICE, account=A, action="ecr:BatchGetImage", resource=REPO, resource_account=A, **kw):
    return Request(
        principal,
        account,
        action,
        resource,
        resource_account,
        kw.pop("context", {}),
        principal_arn=kw.pop("principal_arn", principal),
        **kw,
    )


def test_nothing_applies_is_an_implicit_deny_naming_identity_policies():
    d = evaluate(req())
    assert d.decision == "implicitDeny"
    assert d.message() == (
        f"User: {ALICE} is not authorized to perform: ecr:BatchGetImage on resource: {REPO} "
        "because no identity-based policy allows the ecr:BatchGetImage action"
    )


def test_identity_allow_suffices_in_one_account():
    d = evaluate(req(), identity=[policy(IDENTITY, allow())])
    assert d.allowed and [m.effect for m in d.deciding] == ["Allow"]


def test_resource_policy_naming_the_user_suffices_in_one_account():
    assert evaluate(req(), resource=[policy(RESOURCE, grant({"AWS": ALICE}))]).allowed
    assert evaluate(req(), resource=[policy(RESOURCE, grant("*"))]).allowed


def test_resource_policy_naming_only_the_account_delegates_to_identity_policies():
    account_grant = policy(RESOURCE, grant({"AWS": f"arn:aws:iam::{A}:root"}))
    assert not evaluate(req(), resource=[account_grant]).allowed
    assert evaluate(req(), identity=[policy(IDENTITY, allow())], resource=[account_grant]).allowed


def test_resource_policy_naming_the_role_grants_its_sessions():
    session = f"arn:aws:sts::{A}:assumed-role/ci/s1"
    role = f"arn:aws:iam::{A}:role/ci"
    r = req(principal=session, principal_arn=role)
    assert evaluate(r, resource=[policy(RESOURCE, grant({"AWS": role}))]).allowed
    assert not evaluate(r, resource=[policy(RESOURCE, grant({"AWS": f"arn:aws:iam::{A}:role/other"}))]).allowed


@pytest.mark.parametrize("where", [IDENTITY, RESOURCE])
def test_explicit_deny_beats_any_allow(where):
    identity = [policy(IDENTITY, allow("ecr:*"))]
    resource = [policy(RESOURCE, grant("*", "ecr:*"))]
    if where == IDENTITY:
        identity.append(policy(IDENTITY, deny("ecr:BatchGetImage")))
    else:
        resource.append(policy(RESOURCE, grant("*", "ecr:BatchGetImage", effect="Deny")))
    d = evaluate(req(), identity=identity, resource=resource)
    assert d.decision == "explicitDeny"
    article = "an" if where == IDENTITY else "a"
    assert d.message().endswith(f"with an explicit deny in {article} {where}")
    assert [m.effect for m in d.deciding] == ["Deny"]


def test_cross_account_needs_both_policies():
    r = req(principal=BOB, account=B)
    identity = [policy(IDENTITY, allow())]
    resource = [policy(RESOURCE, grant({"AWS": B}))]
    assert evaluate(r, identity=identity, resource=resource).allowed
    only_identity = evaluate(r, identity=identity)
    assert only_identity.decision == "implicitDeny" and only_identity.missing == RESOURCE
    assert only_identity.message().endswith("because no resource-based policy allows the ecr:BatchGetImage action")
    only_resource = evaluate(r, resource=resource)
    assert only_resource.decision == "implicitDeny" and only_resource.missing == IDENTITY
    assert not evaluate(r, identity=identity, resource=[policy(RESOURCE, grant({"AWS": "999999999999"}))]).allowed


def test_wildcards_in_actions_are_case_insensitive_and_in_resources_case_sensitive():
    assert evaluate(req(), identity=[policy(IDENTITY, allow("ECR:batch*"))]).allowed
    assert evaluate(req(), identity=[policy(IDENTITY, allow("ecr:Batch?etImage"))]).allowed
    assert evaluate(req(), identity=[policy(IDENTITY, allow(resource=f"arn:aws:ecr:*:{A}:repository/a*"))]).allowed
    assert not evaluate(req(), identity=[policy(IDENTITY, allow(resource=f"arn:aws:ecr:*:{A}:repository/A*"))]).allowed


def test_not_action_and_not_resource():
    everything_but_push = {"Effect": "Allow", "NotAction": "ecr:PutImage", "Resource": "*"}
    assert evaluate(req(), identity=[policy(IDENTITY, everything_but_push)]).allowed
    assert not evaluate(req(action="ecr:PutImage"), identity=[policy(IDENTITY, everything_but_push)]).allowed
    not_this_repo = {"Effect": "Allow", "Action": "ecr:*", "NotResource": REPO}
    assert not evaluate(req(), identity=[policy(IDENTITY, not_this_repo)]).allowed
    assert evaluate(req(resource=REPO + "2"), identity=[policy(IDENTITY, not_this_repo)]).allowed


def test_not_principal_deny_spares_only_the_listed_principal():
    deny_others = policy(RESOURCE, {"Effect": "Deny", "NotPrincipal": {"AWS": ALICE}, "Action": "ecr:*"})
    identity = [policy(IDENTITY, allow("ecr:*"))]
    assert evaluate(req(), identity=identity, resource=[deny_others]).allowed
    carol = f"arn:aws:iam::{A}:user/carol"
    assert evaluate(req(principal=carol), identity=identity, resource=[deny_others]).decision == "explicitDeny"


def test_conditions_decide_whether_a_statement_applies():
    tagged = allow(Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}})
    assert evaluate(req(context={"aws:resourcetag/team": "blue"}), identity=[policy(IDENTITY, tagged)]).allowed
    assert not evaluate(req(context={"aws:resourcetag/team": "red"}), identity=[policy(IDENTITY, tagged)]).allowed
    off_network = deny("*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    d = evaluate(req(context={"aws:sourceip": "192.0.2.1"}), identity=[policy(IDENTITY, allow(), off_network)])
    assert d.decision == "explicitDeny"


def test_session_policy_and_boundary_limit_identity_grants():
    identity = [policy(IDENTITY, allow("ecr:*"))]
    narrow = [policy(SESSION, allow("ecr:DescribeImages"))]
    d = evaluate(req(), identity=identity, session=narrow)
    assert d.decision == "implicitDeny" and d.missing == SESSION
    assert d.message().endswith("because no session policy allows the ecr:BatchGetImage action")
    assert evaluate(req(), identity=identity, session=[policy(SESSION, allow())]).allowed
    d = evaluate(req(), identity=identity, boundary=[policy(BOUNDARY, allow("ecr:PutImage"))])
    assert d.missing == BOUNDARY and d.message().endswith(
        "because no permissions boundary allows the ecr:BatchGetImage action"
    )
    # a resource policy naming the user directly is not limited by a boundary (same account)
    assert evaluate(
        req(), boundary=[policy(BOUNDARY, allow("ecr:PutImage"))], resource=[policy(RESOURCE, grant({"AWS": ALICE}))]
    ).allowed


def test_policy_variables_in_resources():
    own = allow("ecr:*", resource=f"arn:aws:ecr:*:{A}:repository/${{aws:username}}/*")
    mine = f"arn:aws:ecr:us-east-1:{A}:repository/alice/app"
    theirs = f"arn:aws:ecr:us-east-1:{A}:repository/bob/app"
    ctx = {"aws:username": "alice"}
    assert evaluate(req(resource=mine, context=ctx), identity=[policy(IDENTITY, own)]).allowed
    assert not evaluate(req(resource=theirs, context=ctx), identity=[policy(IDENTITY, own)]).allowed
    assert not evaluate(req(resource=mine), identity=[policy(IDENTITY, own)]).allowed  # no username: no match


def test_root_holds_every_permission_in_its_own_account_only():
    root = f"arn:aws:iam::{A}:root"
    assert evaluate(req(principal=root, is_root=True)).allowed
    other_root = f"arn:aws:iam::{B}:root"
    assert not evaluate(req(principal=other_root, account=B, is_root=True)).allowed
    assert evaluate(
        req(principal=other_root, account=B, is_root=True), resource=[policy(RESOURCE, grant({"AWS": B}))]
    ).allowed


def test_explanation_names_the_deciding_statements():
    d = evaluate(
        req(),
        identity=[policy(IDENTITY, {**allow(), "Sid": "Pull"}, name="pull-policy")],
        resource=[policy(RESOURCE, grant("*", effect="Deny", Sid="NoPull"), name="repository policy of 'app'")],
    )
    text = d.explain()
    assert text.splitlines()[0] == f"DENY (explicit deny): {ALICE} → ecr:BatchGetImage on {REPO}"
    assert (
        "✗ Deny  repository policy of 'app' [resource-based policy] statement 1 (NoPull), principal matched as *"
        in text
    )
    assert "✓ Allow pull-policy [identity-based policy] statement 1 (Pull)" in text
    nothing = evaluate(req()).explain()
    assert nothing.endswith("no identity-based policy allows ecr:BatchGetImage")

"""Start a lesson over: ``ex.reset(lab)`` empties the lab the way the lesson found it, after the EKS
Workshop's ``prepare-environment``.

Everything is undone through the same APIs a learner uses (DeleteRepository with ``force``,
DeleteRegistryPolicy, IAM's delete calls), in the lab's account and in every other account the lab has
opened. The lab clock is not turned back: time only moves forward, in the sandbox as in AWS, so re-run the
lesson from its first cell and its set-up pushes images at the new lab time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["reset_lab"]


def reset_lab(lab: Lab) -> str:
    """Delete every repository, registry policy, IAM user and role the lessons create; return a summary."""
    faces = [lab, *lab.accounts]
    repositories = sum(_empty_registry(face.client("ecr")) for face in faces)
    principals = sum(_empty_iam(face.client("iam")) for face in faces)
    return (
        f"lab reset: {repositories} repositories and {principals} IAM users and roles deleted; "
        "run the lesson again from its first cell."
    )


def _empty_registry(ecr: Any) -> int:
    names = [
        r["repositoryName"]
        for page in ecr.get_paginator("describe_repositories").paginate()
        for r in page["repositories"]
    ]
    for name in names:
        ecr.delete_repository(repositoryName=name, force=True)
    for arn in ecr.list_pull_time_update_exclusions(maxResults=1000)["pullTimeUpdateExclusions"]:
        ecr.deregister_pull_time_update_exclusion(principalArn=arn)
    try:
        ecr.delete_registry_policy()
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "RegistryPolicyNotFoundException":
            raise
    return len(names)


def _empty_iam(iam: Any) -> int:
    count = 0
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=name)
        count += 1
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        if role["Path"].startswith("/aws-service-role/"):
            continue  # service-linked roles belong to AWS services, not to a lesson
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        iam.delete_role(RoleName=name)
        count += 1
    return count

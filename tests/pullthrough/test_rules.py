"""Pull through cache rules through boto3 and the AWS CLI: ECR's checks, codes and shapes."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from ecrlab.pullthrough import UPSTREAM_HOSTS


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_create_describe_update_delete(ecr, good_secret):
    created = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="hub/", upstreamRegistryUrl="registry-1.docker.io", credentialArn=good_secret
    )
    assert created["ecrRepositoryPrefix"] == "hub"  # the assumed "/" is not part of the prefix
    assert created["upstreamRegistry"] == "docker-hub"  # inferred from the URL
    assert "updatedAt" not in created
    (rule,) = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["hub"])["pullThroughCacheRules"]
    assert rule["credentialArn"] == good_secret and rule["updatedAt"] == rule["createdAt"]
    with pytest.raises(ClientError) as exc:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="hub", upstreamRegistryUrl="quay.io")
    assert _code(exc) == "PullThroughCacheRuleAlreadyExistsException"
    updated = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="hub", credentialArn=good_secret)
    assert updated["credentialArn"] == good_secret and "updatedAt" in updated
    deleted = ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="hub")
    assert deleted["upstreamRegistryUrl"] == "registry-1.docker.io"
    for call in (
        lambda: ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="hub"),
        lambda: ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["hub"]),
        lambda: ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="hub"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "PullThroughCacheRuleNotFoundException"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"ecrRepositoryPrefix": "Upper", "upstreamRegistryUrl": "quay.io"}, "InvalidParameterException"),
        ({"ecrRepositoryPrefix": "a" * 31, "upstreamRegistryUrl": "quay.io"}, "InvalidParameterException"),
        ({"ecrRepositoryPrefix": "mine", "upstreamRegistryUrl": "example.com"}, "UnsupportedUpstreamRegistryException"),
        ({"ecrRepositoryPrefix": "gh", "upstreamRegistryUrl": "ghcr.io"}, "InvalidParameterException"),  # no secret
        (
            {"ecrRepositoryPrefix": "qq", "upstreamRegistryUrl": "quay.io", "upstreamRegistry": "k8s"},
            "InvalidParameterException",
        ),
        (
            {
                "ecrRepositoryPrefix": "kk",
                "upstreamRegistryUrl": "registry.k8s.io",
                "customRoleArn": "arn:aws:iam::123456789012:role/r",
            },
            "InvalidParameterException",
        ),
        (
            {"ecrRepositoryPrefix": "other", "upstreamRegistryUrl": "210987654321.dkr.ecr.us-east-1.amazonaws.com"},
            "InvalidParameterException",  # an ECR upstream needs customRoleArn
        ),
        (
            {
                "ecrRepositoryPrefix": "cg",
                "upstreamRegistryUrl": "cgr.dev",
                "credentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/none-abcdef",
            },
            "SecretNotFoundException",
        ),
        (
            {
                "ecrRepositoryPrefix": "cg",
                "upstreamRegistryUrl": "cgr.dev",
                "credentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/name-abcdef",
            },
            "InvalidParameterException",  # the model's pattern: the name must start with ecr-pullthroughcache/
        ),
    ],
)
def test_create_refusals(ecr, params, code):
    with pytest.raises(ClientError) as exc:
        ecr.create_pull_through_cache_rule(**params)
    assert _code(exc) == code, exc.value.response["Error"]["Message"]


def test_every_upstream_of_the_model_is_accepted(ecr, good_secret):
    urls = {**UPSTREAM_HOSTS, "azure-container-registry": "labregistry.azurecr.io"}
    model = ecr.meta.service_model.shape_for("UpstreamRegistry").enum
    assert set(urls) | {"ecr"} == set(model)
    for kind, url in urls.items():
        params = {"ecrRepositoryPrefix": f"every/{kind[:20]}", "upstreamRegistryUrl": url}
        if kind in (
            "docker-hub",
            "github-container-registry",
            "gitlab-container-registry",
            "azure-container-registry",
            "chainguard",
        ):
            params["credentialArn"] = good_secret
        assert ecr.create_pull_through_cache_rule(**params)["upstreamRegistry"] == kind
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="every/ecr",
        upstreamRegistryUrl="210987654321.dkr.ecr.us-west-2.amazonaws.com",
        customRoleArn="arn:aws:iam::123456789012:role/ptc",
        upstreamRepositoryPrefix="shared",
    )
    rules = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    ours = [r for r in rules if r["ecrRepositoryPrefix"].startswith("every/")]
    assert len(ours) == len(model)
    assert next(r for r in ours if r["upstreamRegistry"] == "ecr")["upstreamRepositoryPrefix"] == "shared"
    page = ecr.describe_pull_through_cache_rules(maxResults=2)
    assert len(page["pullThroughCacheRules"]) == 2 and page["nextToken"]
    for rule in ours:
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=rule["ecrRepositoryPrefix"])


def test_at_most_fifty_rules(ecr):
    existing = len(ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"])
    made = [f"limit{i}" for i in range(50 - existing)]
    for prefix in made:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl="quay.io")
    with pytest.raises(ClientError) as exc:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="onetoomany", upstreamRegistryUrl="quay.io")
    assert _code(exc) == "LimitExceededException"
    for prefix in made:
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)


def test_secret_state_is_checked(lab, ecr):
    sm = lab.client("secretsmanager")
    doomed = sm.create_secret(Name="ecr-pullthroughcache/doomed", SecretString="{}")["ARN"]
    sm.delete_secret(SecretId=doomed, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="gl", upstreamRegistryUrl="registry.gitlab.com", credentialArn=doomed
        )
    assert _code(exc) == "UnableToAccessSecretException"
    kms = lab.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    locked = sm.create_secret(Name="ecr-pullthroughcache/locked", SecretString="{}", KmsKeyId=key)["ARN"]
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as exc:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="gl", upstreamRegistryUrl="registry.gitlab.com", credentialArn=locked
        )
    assert _code(exc) == "UnableToDecryptSecretValueException"


def test_validate_contacts_the_upstream(ecr, good_secret, wrong_secret):
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="v-good", upstreamRegistryUrl="ghcr.io", credentialArn=good_secret
    )
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="v-bad", upstreamRegistryUrl="ghcr.io", credentialArn=wrong_secret
    )
    good = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="v-good")
    assert good["isValid"] is True and "failure" not in good
    bad = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="v-bad")
    assert bad["isValid"] is False and "401" in bad["failure"]
    assert bad["credentialArn"] == wrong_secret


def test_through_the_aws_cli(lab, good_secret):
    made = lab.aws(
        "ecr create-pull-through-cache-rule --ecr-repository-prefix cli-hub "
        f"--upstream-registry-url registry-1.docker.io --credential-arn {good_secret}"
    )
    assert made.ok, made.stderr
    assert json.loads(made.stdout)["upstreamRegistry"] == "docker-hub"
    valid = lab.aws("ecr validate-pull-through-cache-rule --ecr-repository-prefix cli-hub")
    assert json.loads(valid.stdout)["isValid"] is True
    refused = lab.aws(
        "ecr create-pull-through-cache-rule --ecr-repository-prefix cli-hub2 --upstream-registry-url registry-1.docker.io"
    )
    assert not refused.ok and "InvalidParameterException" in refused.stderr
    listed = lab.aws("ecr describe-pull-through-cache-rules --ecr-repository-prefixes cli-hub")
    assert [r["ecrRepositoryPrefix"] for r in json.loads(listed.stdout)["pullThroughCacheRules"]] == ["cli-hub"]
    assert lab.aws("ecr delete-pull-through-cache-rule --ecr-repository-prefix cli-hub").ok

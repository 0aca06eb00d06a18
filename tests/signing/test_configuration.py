"""Put/Get/DeleteSigningConfiguration through boto3 and the AWS CLI: what is stored, what ECR refuses and how
it words the refusal (the model's constraints), and which profiles cover which repositories."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

import ecrlab
from ecrlab.ecr.model import Registry
from ecrlab.signing.configuration import matches, profiles_for
from tests.signing.helpers import ACCOUNT, profile, rule


@pytest.fixture(scope="module")
def lab():
    with ecrlab.start(deterministic=True) as running:
        yield running


@pytest.fixture
def ecr(lab):
    client = lab.client("ecr")
    yield client
    try:
        client.delete_signing_configuration()
    except client.exceptions.SigningConfigurationNotFoundException:
        pass


def _error(call) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_put_get_delete_round_trip(ecr):
    config = {"rules": [rule(profile("prod_signer"), "prod/*", "*-release"), rule(profile("dev_signer"))]}
    assert ecr.put_signing_configuration(signingConfiguration=config)["signingConfiguration"] == config
    got = ecr.get_signing_configuration()
    assert got["registryId"] == ACCOUNT and got["signingConfiguration"] == config
    deleted = ecr.delete_signing_configuration()
    assert deleted["registryId"] == ACCOUNT and deleted["signingConfiguration"] == config
    code, message = _error(ecr.get_signing_configuration)
    assert code == "SigningConfigurationNotFoundException" and ACCOUNT in message
    assert _error(ecr.delete_signing_configuration)[0] == "SigningConfigurationNotFoundException"


def test_a_configuration_without_rules_exists(ecr):
    # The model allows 0 rules: the configuration exists (Get answers it) and signs nothing.
    ecr.put_signing_configuration(signingConfiguration={"rules": []})
    assert ecr.get_signing_configuration()["signingConfiguration"] == {"rules": []}


def test_put_replaces_the_whole_configuration(ecr):
    ecr.put_signing_configuration(signingConfiguration={"rules": [rule(profile("one_signer"))]})
    ecr.put_signing_configuration(signingConfiguration={"rules": [rule(profile("two_signer"), "web")]})
    assert ecr.get_signing_configuration()["signingConfiguration"]["rules"] == [rule(profile("two_signer"), "web")]


@pytest.mark.parametrize(
    ("config", "member", "constraint"),
    [
        (
            {"rules": [rule(profile(f"p{i}_signer")) for i in range(11)]},
            "signingConfiguration.rules",
            "Member must have length less than or equal to 10",
        ),
        (
            {"rules": [rule(profile("many"), *[f"repo{i}" for i in range(101)])]},
            "signingConfiguration.rules.1.repositoryFilters",
            "Member must have length less than or equal to 100",
        ),
        (
            {"rules": [rule("arn:aws:signer:us-east-1:123456789012:signing-profiles/noslash")]},
            "signingConfiguration.rules.1.signingProfileArn",
            "must satisfy regular expression",
        ),
        (
            {"rules": [rule("arn:aws:kms:us-east-1:123456789012:/signing-profiles/kms_key")]},
            "signingConfiguration.rules.1.signingProfileArn",
            "must satisfy regular expression",
        ),
        (
            {"rules": [rule(profile("ok_signer"), "Upper/Case")]},
            "signingConfiguration.rules.1.repositoryFilters.1.filter",
            "must satisfy regular expression",
        ),
        (
            {
                "rules": [
                    {
                        "signingProfileArn": profile("ok"),
                        "repositoryFilters": [{"filter": "a", "filterType": "PREFIX_MATCH"}],
                    }
                ]
            },
            "signingConfiguration.rules.1.repositoryFilters.1.filterType",
            "Member must satisfy enum value set: [WILDCARD_MATCH]",
        ),
    ],
)
def test_the_model_limits_are_enforced_as_ecr_words_them(ecr, config, member, constraint):
    code, message = _error(lambda: ecr.put_signing_configuration(signingConfiguration=config))
    assert code == "InvalidParameterException"
    assert message.startswith(f"Invalid parameter at '{member}' failed to satisfy constraint: '{constraint}")
    assert _error(ecr.get_signing_configuration)[0] == "SigningConfigurationNotFoundException"  # nothing stored


def test_an_empty_filter_list_is_refused_by_the_service_too(lab, ecr):
    # botocore refuses it before sending; a client that does not validate reaches ECR, which refuses it too.
    from ecrlab.errors import InvalidParameterException

    config = {"rules": [{"signingProfileArn": profile("x_signer"), "repositoryFilters": []}]}
    with pytest.raises(
        InvalidParameterException,
        match="repositoryFilters' failed to satisfy constraint: 'Member must have length greater than or equal to 1'",
    ):
        lab.engine.call("PutSigningConfiguration", {"signingConfiguration": config}, lab.admin, lab.region)


def test_the_limits_themselves_are_accepted(ecr):
    config = {"rules": [rule(profile(f"p{i}_signer"), *[f"team{i}/app{j}" for j in range(100)]) for i in range(10)]}
    assert ecr.put_signing_configuration(signingConfiguration=config)["signingConfiguration"] == config


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("myapp/*", "myapp/web", True),
        ("myapp/*", "myapp", False),
        ("myapp/*", "other/myapp/web", False),
        ("*/production", "shop/production", True),
        ("*/production", "shop/production-eu", False),
        ("*prod*", "shop/reproduce", True),
        ("web", "web", True),
        ("web", "web2", False),
        ("a.b", "axb", False),  # a dot is a dot, not a wildcard
    ],
)
def test_wildcard_match_covers_the_whole_name(pattern, name, expected):
    assert matches(rule(profile("p"), pattern), name) is expected


def test_one_profile_per_push_however_many_rules_name_it():
    registry = Registry(ACCOUNT, "us-east-1")
    registry.signing_rules = [
        rule(profile("a_signer"), "shop/*"),
        rule(profile("b_signer"), "*web*"),
        rule(profile("a_signer")),
        rule(profile("c_signer"), "other"),
    ]
    assert profiles_for(registry, "shop/web") == [profile("a_signer"), profile("b_signer")]
    assert profiles_for(registry, "other") == [profile("a_signer"), profile("c_signer")]
    registry.signing_rules = None
    assert profiles_for(registry, "shop/web") == []


def test_the_aws_cli_manages_the_configuration(lab, ecr):
    config = {"rules": [rule(profile("cli_signer"), "cli/*")]}
    put = lab.aws(f"ecr put-signing-configuration --signing-configuration '{json.dumps(config)}'")
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["signingConfiguration"] == config
    got = lab.aws("ecr get-signing-configuration")
    assert json.loads(got.stdout) == {"registryId": ACCOUNT, "signingConfiguration": config}
    assert lab.aws("ecr delete-signing-configuration").returncode == 0
    missing = lab.aws("ecr get-signing-configuration")
    assert missing.returncode != 0 and "SigningConfigurationNotFoundException" in missing.stderr
    bad = lab.aws(
        "ecr put-signing-configuration --signing-configuration "
        '\'{"rules": [{"signingProfileArn": "arn:aws:signer:us-east-1:123456789012:/signing-profiles/a"}]}\''
    )
    # One character after the slash: the model's pattern wants two or more.
    assert bad.returncode != 0 and "InvalidParameterException" in bad.stderr and "signingProfileArn" in bad.stderr

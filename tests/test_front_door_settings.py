"""Front-door settings errors: each names the key, the value, what is allowed and the fix."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, parse_settings
from components.settings.loading import read_stack_file
from tools.offline.engine import PROJECT_DIR

KEY = "genai-platform:frontDoor"


def dev_config(front_door=None, **extra):
    config, secret_keys = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    if front_door is not None:
        config[KEY] = front_door
    config.update(extra)
    return config, secret_keys


def error_of(front_door, secret_keys_extra=(), **extra) -> str:
    config, secret_keys = dev_config(front_door, **extra)
    with pytest.raises(SettingsError) as err:
        parse_settings(config, "Pulumi.dev.yaml", secret_keys | set(secret_keys_extra))
    return str(err.value)


BASE = {"enabled": True, "domain": "genai.example.com", "hostedZoneId": "Z0123456789ABCDEFGHIJ",
        "allowedCidrs": ["203.0.113.0/24"]}


def test_committed_stacks_turn_the_front_door_on():
    for stack in ("dev", "prod"):
        config, secret_keys = read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
        settings = parse_settings(config, f"Pulumi.{stack}.yaml", secret_keys)
        assert settings.front_door.enabled and settings.front_door.domain.endswith("example.com")
        assert "PLACEHOLDER" in settings.front_door.hosted_zone_id


@pytest.mark.parametrize("front_door, key, words", [
    ({"enabled": True}, "frontDoor.domain", "required with enabled: true"),
    ({**BASE, "hostedZoneId": None}, "frontDoor.certificateArn", "or hostedZoneId"),
    ({**BASE, "allowedCidrs": ["203.0.113.0/33"]}, "frontDoor.allowedCidrs[0]", "a CIDR block"),
    ({**BASE, "allowedCidrs": ["203.0.113.7/24"]}, "frontDoor.allowedCidrs[0]", "canonically: 203.0.113.0/24"),
    ({**BASE, "allowedCidrs": ["0.0.0.0/0"]}, "frontDoor.allowedCidrs", "an allow-list (CIDRs other than 0.0.0.0/0) or waf.enabled"),
    ({**BASE, "allowedCidrs": []}, "frontDoor.allowedCidrs", "or waf.enabled: true"),
    ({**BASE, "certificateArn": "arn:aws:acm:us-east-1:123:cert"}, "frontDoor.certificateArn", "an ACM certificate ARN"),
    ({**BASE, "domain": "Genai.Example.com"}, "frontDoor.domain", "a lowercase DNS name"),
    ({**BASE, "hosts": {"traces": "chat"}}, "frontDoor.hosts", "distinct host labels"),
    ({**BASE, "sso": {"provider": "oidc", "clientId": "x"}}, "frontDoor.sso.issuerUrl", "required with provider: oidc"),
    ({**BASE, "sso": {"provider": "oidc", "issuerUrl": "http://idp.example.com", "clientId": "x"}},
     "frontDoor.sso.issuerUrl", "https URL"),
    ({**BASE, "sso": {"provider": "cognito", "clientId": "x"}}, "frontDoor.sso.provider", "oidc when issuerUrl/clientId are set"),
    ({**BASE, "sso": {"provider": "cognito", "tokenEndpoint": "https://idp.example.com/token"}}, "frontDoor.sso.provider",
     "cognito creates its own pool, clients and endpoints"),
    ({**BASE, "sso": {"provider": "oidc", "issuerUrl": "https://idp.example.com", "clientId": "x",
                      "tokenEndpoint": "http://idp.example.com/token"}}, "frontDoor.sso.tokenEndpoint", "https URL"),
    ({**BASE, "waf": {"enabled": True, "managedRuleGroups": ["AWSManagedRulesNope"]}},
     "frontDoor.waf.managedRuleGroups[0]", "one of the AWS managed rule groups"),
    ({"enabled": False, "sso": {"provider": "cognito"}}, "frontDoor.sso.provider", "none unless frontDoor.enabled"),
])
def test_bad_front_door_settings_name_the_key(front_door, key, words):
    message = error_of({k: v for k, v in front_door.items() if v is not None})
    assert f"genai-platform:{key} = " in message and words in message, message
    assert "Fix: pulumi config" in message and "Traceback" not in message


def test_oidc_without_its_client_secret():
    message = error_of({**BASE, "sso": {"provider": "oidc", "issuerUrl": "https://idp.example.com", "clientId": "x"}})
    assert "genai-platform:ssoClientSecret = <not set>: required with frontDoor.sso.provider: oidc" in message
    assert "Fix: pulumi config set --secret ssoClientSecret <value>" in message


def test_client_secret_in_plain_text_is_refused_and_not_shown():
    sso = {"provider": "oidc", "issuerUrl": "https://idp.example.com", "clientId": "x",
           **{key: f"https://idp.example.com/{key}" for key in ("authorizationEndpoint", "tokenEndpoint", "userinfoEndpoint")}}
    message = error_of({**BASE, "sso": sso}, **{"genai-platform:ssoClientSecret": "s3cr3t-value"})
    assert "genai-platform:ssoClientSecret = <hidden> (plain text): a secret" in message
    assert "s3cr3t-value" not in message
    # Stored encrypted, the same settings load
    config, secret_keys = dev_config({**BASE, "sso": sso}, **{"genai-platform:ssoClientSecret": {"secure": "v1:x"}})
    settings = parse_settings(config, "Pulumi.dev.yaml", secret_keys | {"genai-platform:ssoClientSecret"})
    assert settings.sso_client_secret_set and settings.front_door.sso.enabled


def test_client_secret_without_an_oidc_provider_is_refused():
    message = error_of(BASE, {"genai-platform:ssoClientSecret"}, **{"genai-platform:ssoClientSecret": {"secure": "v1:x"}})
    assert "genai-platform:ssoClientSecret = <hidden>: unset with frontDoor.sso.provider: none" in message


def test_partition_without_a_published_controller_policy():
    # without Bedrock a model keeps a replica (nothing to fall back to at zero)
    message = error_of(BASE, **{"aws:region": "us-gov-west-1", "genai-platform:bedrockModels": [],
                               "genai-platform:cluster": {"version": "1.35"},
                               "genai-platform:models": [{"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct",
                                                          "minReplicas": 1}]})
    assert "genai-platform:frontDoor.enabled = True: false in us-gov-west-1" in message


def test_existing_vpc_without_public_subnets_for_an_internet_facing_alb():
    network = {"existingVpcId": "vpc-0123456789abcdef0", "existingPrivateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]}
    message = error_of(BASE, **{"genai-platform:network": network})
    assert "genai-platform:network.existingPublicSubnetIds = []: public subnets" in message

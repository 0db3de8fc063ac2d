"""Bedrock model settings: no route table decides which regions may call a profile; bare ids of
profile-only models are refused with the profile id to use; a region without default Claude
profiles says what to set instead of deploying no Bedrock models."""

from __future__ import annotations

import pulumi
import pytest

from components.settings import SettingsError, parse_settings

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"


def settings(region: str, models=None, **extra):
    raw = {**BASE, "aws:region": region, **extra}
    if models is not None:
        raw["genai-platform:bedrockModels"] = models
    return parse_settings(raw, "Pulumi.test.yaml")


def error(region: str, models=None, **extra) -> str:
    with pytest.raises(SettingsError) as err:
        settings(region, models, **extra)
    return str(err.value)


@pytest.mark.parametrize("region", ["us-west-1", "ca-central-1"])
def test_us_profiles_from_us_west_1_and_ca_central_1(region):
    """AWS documents both as sources of the us. Claude 4.5 profiles: explicit ids are accepted and
    the defaults are the us. profiles."""
    explicit = settings(region, [{"name": "haiku", "modelId": f"us.{HAIKU}"}])
    assert [m.model_id for m in explicit.bedrock_models] == [f"us.{HAIKU}"]
    assert {m.model_id.split(".", 1)[0] for m in settings(region).bedrock_models} == {"us"}


def test_a_profile_is_not_refused_for_lack_of_a_table_row():
    """Where a profile may be called from is per model and changes: preflight asks Bedrock
    (GetInferenceProfile), settings do not guess from a table."""
    models = settings("me-central-1", [{"name": "haiku", "modelId": f"global.{HAIKU}"},
                                       {"name": "nova", "modelId": "apac.amazon.nova-lite-v1:0"}]).bedrock_models
    assert [m.name for m in models] == ["haiku", "nova"]


@pytest.mark.parametrize("region, model, fix", [
    ("us-east-1", HAIKU, f"us.{HAIKU}"),
    ("eu-west-1", "anthropic.claude-sonnet-4-5-20250929-v1:0", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("sa-east-1", "anthropic.claude-opus-4-1-20250805-v1:0", "global.anthropic.claude-opus-4-1-20250805-v1:0"),
    ("us-west-2", "anthropic.claude-3-7-sonnet-20250219-v1:0", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
    ("us-east-1", "amazon.nova-premier-v1:0", "us.amazon.nova-premier-v1:0"),
    ("us-east-1", "meta.llama4-maverick-17b-instruct-v1:0", "us.meta.llama4-maverick-17b-instruct-v1:0"),
])
def test_bare_id_of_a_profile_only_model_names_the_profile_to_use(region, model, fix):
    message = error(region, [{"name": "m", "modelId": model}])
    assert f"genai-platform:bedrockModels[0].modelId = '{model}'" in message
    assert "only through a cross-region inference profile" in message
    assert f"Use {fix}" in message and "Fix: pulumi config set" in message


@pytest.mark.parametrize("model", ["amazon.titan-text-express-v1", "anthropic.claude-3-haiku-20240307-v1:0",
                                   "amazon.nova-lite-v1:0", "meta.llama3-1-8b-instruct-v1:0"])
def test_bare_ids_invoked_on_demand_are_accepted(model):
    assert settings("us-east-1", [{"name": "m", "modelId": model}]).bedrock_models[0].model_id == model


@pytest.mark.parametrize("region, model, words", [
    ("us-east-1", f"us-gov.{HAIKU}", "'us-gov.' profiles are called from GovCloud regions only"),
    ("us-gov-west-1", f"us.{HAIKU}", "'us-gov.' profiles are called from GovCloud regions only"),
    ("us-gov-west-1", f"global.{HAIKU}", "global inference profiles are not offered in us-gov-west-1"),
])
def test_profiles_of_another_partition_are_refused(region, model, words):
    partition = "aws-us-gov" if region.startswith("us-gov") else "aws"
    admin = {"adminPrincipals": [f"arn:{partition}:iam::123456789012:role/admin"]}
    assert words in error(region, [{"name": "m", "modelId": model}], **{"genai-platform:cluster": admin})


@pytest.mark.parametrize("region", ["sa-east-1", "af-south-1", "me-central-1"])
def test_region_without_default_profiles_says_what_to_set(region):
    message = error(region)
    assert "genai-platform:bedrockModels = <not set>" in message
    assert "no default us./eu./apac. Claude profiles for this region" in message
    assert f"modelId: global.{HAIKU}" in message and f"--region {region}" in message
    assert "or [] to deploy without Bedrock" in message


def test_region_without_defaults_deploys_what_is_set():
    assert settings("sa-east-1", []).bedrock_models == []
    chosen = settings("sa-east-1", [{"name": "haiku", "modelId": f"global.{HAIKU}"}])
    assert [m.model_id for m in chosen.bedrock_models] == [f"global.{HAIKU}"]


def test_china_gets_no_global_example():
    message = error("cn-north-1", **{"genai-platform:cluster": {
        "adminPrincipals": ["arn:aws-cn:iam::123456789012:role/admin"]}})
    assert "genai-platform:bedrockModels = <not set>" in message and "global." not in message


def test_program_stops_before_any_resource_in_such_a_region(run_with):
    with pytest.raises(pulumi.RunError, match=r"genai-platform:bedrockModels = <not set>: required in af-south-1"):
        run_with("dev", {"aws:region": "af-south-1"})

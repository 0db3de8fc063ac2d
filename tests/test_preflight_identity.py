"""Preflight: the target read from the stack settings, and check 1, credentials (STS, moto)."""

from __future__ import annotations

from preflight_cases import aws_env, moto_aws, stubs  # noqa: F401 - fixtures (the first two autouse)
from preflight_cases import (
    MOTO_ACCOUNT,
    PROFILE,
    aws,
    fake_settings,
    make_target,
)
from tools.preflight import Clients, PreflightTarget, run_checks, target_from_settings
from tools.preflight.identity import check_identity


def names(results):
    return [r.name for r in results]


# --- target_from_settings --------------------------------------------------------------------


def test_target_from_settings_reads_the_settings_shape():
    settings = fake_settings(
        region="us-west-2", account_id="111122223333", az_count=2, availability_zones=["us-west-2b", "us-west-2d"],
        instance_types=["trn1.2xlarge"], max_size=3, capacity_type="spot",
        model_ids=[PROFILE, "amazon.nova-lite-v1:0"], public_access_cidrs=["52.95.110.0/24", "54.240.0.0/16"],
        deployer_in_vpc=True, private_access_cidrs=["10.20.0.0/20"], existing_vpc_id="vpc-0123456789abcdef0",
    )
    assert target_from_settings(settings) == PreflightTarget(
        region="us-west-2", availability_zones=["us-west-2b", "us-west-2d"], az_count=2,
        neuron_instance_types=["trn1.2xlarge"], neuron_max_size=3, neuron_capacity_type="SPOT",
        bedrock_model_ids=[PROFILE, "amazon.nova-lite-v1:0"], eks_version="1.35",
        expected_account_id="111122223333", cluster_name="genai-dev",
        public_access_cidrs=("52.95.110.0/24", "54.240.0.0/16"), deployer_in_vpc=True,
        private_access_cidrs=("10.20.0.0/20",), existing_vpc_id="vpc-0123456789abcdef0",
    )


def test_target_from_settings_optional_fields_default_to_none():
    settings = fake_settings(max_size=2, model_ids=[], version="1.34")
    target = target_from_settings(settings)
    assert target.availability_zones is None and target.expected_account_id is None
    assert target.bedrock_model_ids == [] and target.neuron_capacity_type == "ON_DEMAND"


# --- 1. credentials --------------------------------------------------------------------------


def test_identity_passes_and_prints_account_and_arn():
    [result] = check_identity(make_target(expected_account_id=MOTO_ACCOUNT), aws("us-east-1"))
    assert result.passed
    assert MOTO_ACCOUNT in result.detail and "arn:aws:" in result.detail


def test_identity_fails_on_another_account():
    [result] = check_identity(make_target(expected_account_id="999999999999"), aws("us-east-1"))
    assert not result.passed
    assert "999999999999" in result.detail and MOTO_ACCOUNT in result.detail
    assert "999999999999" in result.fix


def test_no_credentials_is_a_fail_with_a_fix_and_skips_the_rest(monkeypatch):
    """Real botocore, no credentials anywhere: NoCredentialsError is raised while signing,
    before any request is sent."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    results = run_checks(make_target(), Clients("us-east-1"))
    assert names(results) == ["credentials", "api-endpoint", "neuron-capacity", "neuron-quota", "bedrock-models", "eks-version"]
    assert not any(r.passed for r in results)
    assert "AWS_PROFILE" in results[0].fix
    assert all("not run" in r.detail for r in results[1:])


def test_access_denied_on_sts_names_the_action(stubs):
    """STS error injected with Stubber (moto never denies)."""
    clients = aws("us-east-1")
    stubs(clients, "sts").add_client_error("get_caller_identity", "AccessDenied", "not allowed", 403)
    [result] = check_identity(make_target(), clients)
    assert not result.passed and "AccessDenied" in result.detail
    assert "sts:GetCallerIdentity" in result.fix

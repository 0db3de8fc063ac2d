"""Tests for `python -m tools.preflight`: every check passing and failing, offline.

moto (`mock_aws`) serves STS and EC2 (AZs, instance type offerings). moto has no EC2 quotas in
Service Quotas, no Bedrock GetInferenceProfile/GetFoundationModel and no EKS
DescribeClusterVersions / DescribeAddonVersions, so those calls are answered by botocore's
`Stubber` on the (injected) client, inside `mock_aws` all the same.
"""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tools.preflight import Clients, PreflightTarget, run_checks, target_from_settings
from tools.preflight.__main__ import main
from tools.preflight.bedrock import check_bedrock_models, is_inference_profile
from tools.preflight.eks import check_eks_version
from tools.preflight.identity import check_identity
from tools.preflight.neuron import check_neuron_capacity, check_neuron_quota

MOTO_ACCOUNT = "123456789012"
PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
FM_ARN = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"
NOW = datetime.now(UTC)


@pytest.fixture(scope="module", autouse=True)
def moto_aws():
    """One moto mock for the whole module (its EC2 data loads once): no test can reach AWS.

    The checks only read, so sharing moto's state between tests is safe."""
    with mock_aws():
        yield


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    """Fake credentials, no config files, no instance metadata: nothing can leave the machine."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


_SESSION: list[boto3.session.Session] = []


def aws(region: str, factory=None) -> Clients:
    """Clients on one shared boto3 session, so botocore parses each service model once.

    (The tests without credentials use a plain `Clients`, whose fresh session finds none.)"""
    if not _SESSION:
        _SESSION.append(boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"))
    session = _SESSION[0]
    return Clients(region, factory or (lambda service, r: session.client(service, region_name=r)))


def make_target(**overrides) -> PreflightTarget:
    values = {
        "region": "us-east-1", "availability_zones": None, "az_count": 3, "neuron_instance_types": ["inf2.xlarge"],
        "neuron_max_size": 4, "neuron_capacity_type": "ON_DEMAND", "bedrock_model_ids": [PROFILE],
        "eks_version": "1.35", "expected_account_id": None,
    }
    values.update(overrides)
    return PreflightTarget(**values)


class Recorder:
    """Client factory that records every operation called (stubbed ones too)."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, service: str, region: str):
        client = aws(region)(service)
        client.meta.events.register("before-parameter-build", self._record)
        return client

    def _record(self, model, **_):
        self.operations.append(model.name)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def stubs():
    """`stubs(clients, service)` -> an active Stubber on that client; all asserted used at the end."""
    made: list[Stubber] = []

    def stub(clients: Clients, service: str) -> Stubber:
        stubber = Stubber(clients(service))
        stubber.activate()
        made.append(stubber)
        return stubber

    yield stub
    for stubber in made:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def names(results):
    return [r.name for r in results]


def quota_response(code: str, name: str, value: float) -> dict:
    return {"Quota": {"ServiceCode": "ec2", "QuotaCode": code, "QuotaName": name, "Value": value}}


def cluster_versions(*entries) -> dict:
    return {"clusterVersions": [
        {"clusterVersion": v, "clusterType": "eks", "versionStatus": s, "endOfStandardSupportDate": end}
        for v, s, end in entries
    ]}


EKS_CATALOG = cluster_versions(
    ("1.30", "EXTENDED_SUPPORT", NOW - timedelta(days=200)),
    ("1.34", "STANDARD_SUPPORT", NOW + timedelta(days=30)),
    ("1.35", "STANDARD_SUPPORT", NOW + timedelta(days=300)),
)


# --- target_from_settings --------------------------------------------------------------------


def test_target_from_settings_reads_the_settings_shape():
    settings = types.SimpleNamespace(
        region="us-west-2",
        account_id="111122223333",
        network=types.SimpleNamespace(az_count=2, availability_zones=["us-west-2b", "us-west-2d"]),
        neuron=types.SimpleNamespace(instance_types=["trn1.2xlarge"], max_size=3, capacity_type="spot"),
        bedrock_models=[types.SimpleNamespace(model_id=PROFILE),
                        types.SimpleNamespace(model_id="amazon.nova-lite-v1:0")],
        cluster=types.SimpleNamespace(version="1.35"),
    )
    assert target_from_settings(settings) == PreflightTarget(
        region="us-west-2", availability_zones=["us-west-2b", "us-west-2d"], az_count=2,
        neuron_instance_types=["trn1.2xlarge"], neuron_max_size=3, neuron_capacity_type="SPOT",
        bedrock_model_ids=[PROFILE, "amazon.nova-lite-v1:0"], eks_version="1.35",
        expected_account_id="111122223333",
    )


def test_target_from_settings_optional_fields_default_to_none():
    settings = types.SimpleNamespace(
        region="us-east-1", account_id=None,
        network=types.SimpleNamespace(az_count=3, availability_zones=None),
        neuron=types.SimpleNamespace(instance_types=["inf2.xlarge"], max_size=2, capacity_type="ON_DEMAND"),
        bedrock_models=[], cluster=types.SimpleNamespace(version="1.34"),
    )
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
    assert names(results) == ["credentials", "neuron-capacity", "neuron-quota", "bedrock-models", "eks-version"]
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


# --- 2. Neuron capacity (moto's bundled offering data) ---------------------------------------


def test_capacity_passes_when_offered_in_the_first_azs():
    [result] = check_neuron_capacity(make_target(az_count=3), aws("us-east-1"))
    assert result.passed, result.line()
    assert "us-east-1a" in result.detail


def test_capacity_fails_when_offered_in_one_chosen_az_and_names_the_good_ones():
    """moto: in us-west-2, trn1.2xlarge is offered in us-west-2b and us-west-2d only."""
    target = make_target(region="us-west-2", az_count=2, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert not result.passed
    assert "trn1.2xlarge" in result.detail and "us-west-2a" in result.detail and "us-west-2b" in result.detail
    assert "us-west-2b, us-west-2d" in result.fix


def test_capacity_fails_when_the_region_has_a_single_offering_az():
    """moto: in us-east-2, trn1.2xlarge is offered only in us-east-2c."""
    target = make_target(region="us-east-2", neuron_instance_types=["inf2.xlarge", "trn1.2xlarge"])
    inf, trn = check_neuron_capacity(target, aws("us-east-2"))
    assert inf.passed
    assert not trn.passed and "trn1.2xlarge" in trn.detail
    assert "only in us-east-2c" in trn.fix


def test_capacity_fix_lowers_az_count_when_too_few_azs_offer_the_type():
    """moto: us-west-2 has four AZs, trn1.2xlarge is in us-west-2b and us-west-2d only."""
    target = make_target(region="us-west-2", az_count=3, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert not result.passed
    assert "azCount to 2" in result.fix and "us-west-2b, us-west-2d" in result.fix


def test_capacity_uses_explicit_azs():
    target = make_target(region="us-west-2", availability_zones=["us-west-2b", "us-west-2d"],
                         az_count=2, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert result.passed, result.line()


def test_capacity_fails_on_an_az_of_another_region():
    target = make_target(availability_zones=["us-east-1a", "eu-west-1a"], az_count=2)
    [result] = check_neuron_capacity(target, aws("us-east-1"))
    assert not result.passed and "eu-west-1a" in result.detail


# --- 3. quota (Stubber: moto has no EC2 quotas) ----------------------------------------------


def test_quota_passes_when_it_covers_max_size_times_vcpus(stubs):
    """Service Quotas stubbed with Stubber: moto only knows `vpc` quotas."""
    clients = aws("us-east-1")
    stubs(clients, "service-quotas").add_response(
        "get_service_quota", quota_response("L-1945791B", "Running On-Demand Inf instances", 64.0),
        {"ServiceCode": "ec2", "QuotaCode": "L-1945791B"},
    )
    [result] = check_neuron_quota(make_target(neuron_max_size=4), clients)
    assert result.passed and "16" in result.detail


def test_quota_zero_fails_with_the_needed_vcpus(stubs):
    """Service Quotas stubbed with Stubber; the largest type of the family sets the need."""
    clients = aws("us-east-1")
    stubs(clients, "service-quotas").add_response(
        "get_service_quota", quota_response("L-1945791B", "Running On-Demand Inf instances", 0.0),
        {"ServiceCode": "ec2", "QuotaCode": "L-1945791B"},
    )
    target = make_target(neuron_instance_types=["inf2.xlarge", "inf2.48xlarge"], neuron_max_size=2)
    [result] = check_neuron_quota(target, clients)
    assert not result.passed
    assert "384" in result.detail and "inf2.48xlarge" in result.detail
    assert "--quota-code L-1945791B --desired-value 384" in result.fix


def test_spot_uses_the_spot_quota_codes_per_family(stubs):
    """Service Quotas stubbed with Stubber; expected params pin the spot codes."""
    clients = aws("us-east-1")
    quotas = stubs(clients, "service-quotas")
    quotas.add_response("get_service_quota", quota_response("L-B5D1601B", "All Inf Spot Instance Requests", 192.0),
                        {"ServiceCode": "ec2", "QuotaCode": "L-B5D1601B"})
    quotas.add_response("get_service_quota", quota_response("L-6B0D517C", "All Trn Spot Instance Requests", 128.0),
                        {"ServiceCode": "ec2", "QuotaCode": "L-6B0D517C"})
    target = make_target(neuron_instance_types=["trn1.32xlarge", "inf2.24xlarge"], neuron_max_size=2,
                         neuron_capacity_type="SPOT")
    inf, trn = check_neuron_quota(target, clients)
    assert inf.passed and "All Inf Spot" in inf.detail
    assert not trn.passed and "256" in trn.detail and "L-6B0D517C" in trn.fix


def test_quota_falls_back_to_the_aws_default(stubs):
    """Service Quotas stubbed with Stubber: no applied value -> GetAWSDefaultServiceQuota."""
    clients = aws("us-east-1")
    quotas = stubs(clients, "service-quotas")
    quotas.add_client_error("get_service_quota", "NoSuchResourceException", "no applied quota", 404)
    quotas.add_response("get_aws_default_service_quota",
                        quota_response("L-2C3B7624", "Running On-Demand Trn instances", 8.0),
                        {"ServiceCode": "ec2", "QuotaCode": "L-2C3B7624"})
    target = make_target(neuron_instance_types=["trn1.2xlarge"], neuron_max_size=1)
    [result] = check_neuron_quota(target, clients)
    assert result.passed and "8 vCPUs" in result.detail


def test_quota_access_denied_is_a_fail(stubs):
    """Service Quotas error injected with Stubber."""
    clients = aws("us-east-1")
    stubs(clients, "service-quotas").add_client_error("get_service_quota", "AccessDeniedException", "denied", 400)
    [result] = check_neuron_quota(make_target(), clients)
    assert not result.passed and "servicequotas:GetServiceQuota" in result.fix


def test_quota_unknown_instance_type_fails():
    [result] = check_neuron_quota(make_target(neuron_instance_types=["inf2.96xlarge"]), aws("us-east-1"))
    assert not result.passed and "inf2.96xlarge" in result.detail


# --- 4. Bedrock (Stubber: moto lacks these Bedrock operations) -------------------------------


def test_bedrock_profile_and_foundation_model_pass(stubs):
    """Bedrock stubbed with Stubber: moto has no GetInferenceProfile / GetFoundationModel."""
    clients = aws("us-east-1")
    bedrock = stubs(clients, "bedrock")
    bedrock.add_response("get_inference_profile", {
        "inferenceProfileName": "US Claude Haiku 4.5", "inferenceProfileArn": "arn:aws:bedrock:us-east-1:1:x",
        "models": [{"modelArn": FM_ARN}], "inferenceProfileId": PROFILE, "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }, {"inferenceProfileIdentifier": PROFILE})
    bedrock.add_response("get_foundation_model", {"modelDetails": {
        "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
        "modelId": "amazon.nova-lite-v1:0", "modelLifecycle": {"status": "ACTIVE"},
    }}, {"modelIdentifier": "amazon.nova-lite-v1:0"})
    results = check_bedrock_models(make_target(bedrock_model_ids=[PROFILE, "amazon.nova-lite-v1:0"]), clients)
    assert [r.passed for r in results] == [True, True], [r.line() for r in results]


def test_bedrock_unknown_profile_fails_naming_it(stubs):
    """Bedrock stubbed with Stubber; an eu. profile from us-east-1 gets a geo hint."""
    clients = aws("us-east-1")
    bad = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
    stubs(clients, "bedrock").add_client_error(
        "get_inference_profile", "ResourceNotFoundException", "not found", 404,
        expected_params={"inferenceProfileIdentifier": bad})
    [result] = check_bedrock_models(make_target(bedrock_model_ids=[bad]), clients)
    assert not result.passed and bad in result.name and bad in result.detail
    assert "list-inference-profiles" in result.fix and PROFILE in result.fix


def test_bedrock_legacy_model_fails(stubs):
    """Bedrock stubbed with Stubber."""
    clients = aws("us-east-1")
    stubs(clients, "bedrock").add_response("get_foundation_model", {"modelDetails": {
        "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
        "modelId": "anthropic.claude-v2", "modelLifecycle": {"status": "LEGACY"},
    }})
    [result] = check_bedrock_models(make_target(bedrock_model_ids=["anthropic.claude-v2"]), clients)
    assert not result.passed and "LEGACY" in result.detail


def test_bedrock_access_denied_is_a_fail_per_model(stubs):
    """Bedrock errors injected with Stubber: one model denied, the next still checked."""
    clients = aws("us-east-1")
    bedrock = stubs(clients, "bedrock")
    bedrock.add_client_error("get_inference_profile", "AccessDeniedException", "denied", 403)
    bedrock.add_client_error("get_foundation_model", "ValidationException", "bad id", 400)
    results = check_bedrock_models(make_target(bedrock_model_ids=[PROFILE, "nope.model"]), clients)
    assert [r.passed for r in results] == [False, False]
    assert "bedrock:GetInferenceProfile" in results[0].fix
    assert "nope.model" in results[1].detail


@pytest.mark.parametrize("model_id, expected", [
    (PROFILE, True), ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", True),
    ("apac.amazon.nova-lite-v1:0", True), ("anthropic.claude-3-haiku-20240307-v1:0", False),
    ("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc", True),
    ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", False),
])
def test_inference_profile_detection(model_id, expected):
    assert is_inference_profile(model_id) is expected


# --- 5. EKS version (Stubber: moto lacks DescribeClusterVersions) ----------------------------


def test_eks_version_in_standard_support_passes(stubs):
    """EKS stubbed with Stubber: moto has no DescribeClusterVersions."""
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_cluster_versions", EKS_CATALOG, {"includeAll": True})
    [result] = check_eks_version(make_target(eks_version="1.35"), clients)
    assert result.passed, result.line()


@pytest.mark.parametrize("version, words", [("1.30", "EXTENDED_SUPPORT"), ("1.99", "not offered")])
def test_eks_version_outside_standard_support_fails_suggesting_the_newest(stubs, version, words):
    """EKS stubbed with Stubber."""
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_cluster_versions", EKS_CATALOG, {"includeAll": True})
    [result] = check_eks_version(make_target(eks_version=version), clients)
    assert not result.passed and words in result.detail
    assert "1.35" in result.fix


def test_eks_standard_support_date_passed_fails(stubs):
    """EKS stubbed with Stubber: a stale STANDARD_SUPPORT status with an end date in the past."""
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_cluster_versions", cluster_versions(
        ("1.34", "STANDARD_SUPPORT", NOW - timedelta(days=1)),
        ("1.35", "STANDARD_SUPPORT", NOW + timedelta(days=300)),
    ))
    [result] = check_eks_version(make_target(eks_version="1.34"), clients)
    assert not result.passed and "1.35" in result.fix


def test_eks_fallback_to_addon_versions(stubs, monkeypatch):
    """EKS stubbed with Stubber; DescribeClusterVersions hidden to exercise the old-boto3 path."""
    monkeypatch.setattr("tools.preflight.eks._has_operation", lambda client, op: False)
    addons = {"addons": [{"addonName": "vpc-cni", "addonVersions": [
        {"addonVersion": "v1.20.0", "compatibilities": [{"clusterVersion": "1.34"}, {"clusterVersion": "1.35"}]},
    ]}]}
    for version, passed in (("1.35", True), ("1.29", False)):
        clients = aws("us-east-1")
        stubs(clients, "eks").add_response("describe_addon_versions", addons, {"addonName": "vpc-cni"})
        [result] = check_eks_version(make_target(eks_version=version), clients)
        assert result.passed is passed, result.line()
    assert "1.35" in result.fix


# --- whole run and CLI -----------------------------------------------------------------------


def stub_all(clients: Clients, stubs, *, quota: float = 64.0, profile_found: bool = True) -> None:
    """Stubber answers for what moto cannot serve, for one full run on make_target()."""
    stubs(clients, "service-quotas").add_response(
        "get_service_quota", quota_response("L-1945791B", "Running On-Demand Inf instances", quota))
    bedrock = stubs(clients, "bedrock")
    if profile_found:
        bedrock.add_response("get_inference_profile", {
            "inferenceProfileName": "p", "inferenceProfileArn": "arn:aws:bedrock:us-east-1:1:p",
            "models": [{"modelArn": FM_ARN}], "inferenceProfileId": PROFILE, "status": "ACTIVE",
            "type": "SYSTEM_DEFINED"})
    else:
        bedrock.add_client_error("get_inference_profile", "ResourceNotFoundException", "not found", 404)
    stubs(clients, "eks").add_response("describe_cluster_versions", EKS_CATALOG)


def test_full_run_calls_only_read_operations(recorder, stubs):
    """moto for STS/EC2, Stubber for Service Quotas, Bedrock, EKS; every call is recorded."""
    clients = aws("us-east-1", factory=recorder)
    stub_all(clients, stubs)
    results = run_checks(make_target(), clients)
    assert all(r.passed for r in results), [r.line() for r in results]
    assert set(recorder.operations) == {
        "GetCallerIdentity", "DescribeAvailabilityZones", "DescribeInstanceTypeOfferings",
        "GetServiceQuota", "GetInferenceProfile", "DescribeClusterVersions",
    }
    assert all(op.startswith(("Describe", "Get", "List")) for op in recorder.operations)


@pytest.fixture
def fake_settings_module(monkeypatch):
    """Stand-in for components.settings: `load` decides what load_stack_settings does."""
    module = types.ModuleType("components.settings")

    class SettingsError(Exception):
        pass

    settings = types.SimpleNamespace(
        region="us-east-1", account_id=None,
        network=types.SimpleNamespace(az_count=3, availability_zones=None),
        neuron=types.SimpleNamespace(instance_types=["inf2.xlarge"], max_size=4, capacity_type="ON_DEMAND"),
        bedrock_models=[types.SimpleNamespace(model_id=PROFILE)],
        cluster=types.SimpleNamespace(version="1.35"),
    )
    module.SettingsError = SettingsError
    module.calls = []

    def load_stack_settings(stack, project_dir):
        module.calls.append((stack, Path(project_dir)))
        if stack == "broken":
            raise SettingsError("Pulumi.broken.yaml: genai-platform:neuron.max_size must be >= 1")
        return settings

    module.load_stack_settings = load_stack_settings
    monkeypatch.setitem(sys.modules, "components.settings", module)
    return module


@pytest.mark.parametrize("quota, profile_found, code", [(64.0, True, 0), (0.0, True, 1), (64.0, False, 1)])
def test_cli_exit_codes(fake_settings_module, stubs, capsys, quota, profile_found, code):
    """CLI end to end: moto for STS/EC2, Stubber for Service Quotas, Bedrock, EKS."""

    def make_clients(region):
        clients = aws(region)
        stub_all(clients, stubs, quota=quota, profile_found=profile_found)
        return clients

    assert main(["dev"], make_clients=make_clients) == code
    out = capsys.readouterr().out
    assert fake_settings_module.calls == [("dev", Path(__file__).resolve().parents[1])]
    assert "Traceback" not in out
    assert f"PASS credentials: account {MOTO_ACCOUNT}" in out
    if code == 0:
        assert "FAIL" not in out
    if quota == 0:
        assert "FAIL neuron-quota inf:" in out and "16" in out
    if not profile_found:
        assert f"FAIL bedrock {PROFILE}:" in out


def test_cli_settings_error_exits_2_without_traceback(fake_settings_module, capsys):
    assert main(["broken"]) == 2
    captured = capsys.readouterr()
    assert "neuron.max_size must be >= 1" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_cli_incomplete_settings_exits_2(fake_settings_module, capsys, monkeypatch):
    monkeypatch.setattr(fake_settings_module, "load_stack_settings", lambda stack, d: types.SimpleNamespace())
    assert main(["dev"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_aws_errors_exit_1_without_traceback(fake_settings_module, capsys, monkeypatch):
    """No credentials at all, real botocore: FAIL lines and exit 1, no traceback."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert main(["dev"]) == 1
    captured = capsys.readouterr()
    assert "FAIL credentials: no usable AWS credentials" in captured.out
    assert "Traceback" not in captured.err + captured.out

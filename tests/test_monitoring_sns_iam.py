"""The SNS alert receiver's IAM on an encrypted topic, checked against AWS's service data (iam-validator)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components.monitoring.component import alertmanager_statements
from components.settings.monitoring import AlertReceiver
from tools import iam_validation as iv


@pytest.fixture(scope="module")
def services_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("aws-services")


def test_alertmanager_kms_statement_uses_keys_aws_lists_for_its_actions(services_dir):
    """The encrypted-topic statement's only iam-validator finding is its encryption-context key, which
    the validator does not match against AWS's template `kms:EncryptionContext:${EncryptionContextKey}`;
    AWS's service data lists that template for both actions, so the key is valid for them."""
    receiver = AlertReceiver(kind="sns", topic_arn="arn:aws:sns:eu-west-1:123456789012:genai-alerts",
                             kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab")
    statements = alertmanager_statements(receiver)
    iv.write_service_definitions(["sns", "kms"], services_dir)
    findings = iv.validate_policy({"Version": "2012-10-17", "Statement": statements}, "identity", services_dir=services_dir)
    assert {(f["issue_type"], f["condition_key"]) for f in findings} <= {
        ("invalid_condition_key", "kms:EncryptionContext:aws:sns:topicArn")}
    kms = json.loads((services_dir / "kms.json").read_text())
    listed = {a["Name"]: a.get("ActionConditionKeys", []) for a in kms["Actions"]}
    (key,) = statements[1]["Condition"]["StringEquals"]
    for action in ("GenerateDataKey", "Decrypt"):
        templates = [re.escape(k).replace(re.escape("${EncryptionContextKey}"), ".+") for k in listed[action]]
        assert any(re.fullmatch(t, key) for t in templates), action

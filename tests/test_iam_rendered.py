"""Every IAM policy the program renders, for every stack, through iam-validator (offline).

From the offline engine's records: each ``aws:iam/role:Role``'s ``assumeRolePolicy`` is validated
as a trust policy, each ``aws:iam/rolePolicy:RolePolicy``'s ``policy`` as an identity policy, with
``tools.iam_validation.validate_policies`` (iam-validator's default checks: validity and security
best practices).  Findings must be empty, with these decisions:

- Trust policies for ``pods.eks.amazonaws.com`` (EKS Pod Identity) and ``eks.amazonaws.com`` (the
  cluster role) carry confused-deputy conditions in the program itself (components/pod_identity.py,
  components/cluster.py): ``aws:SourceAccount`` for Pod Identity roles (the EKS Best Practices
  Guide's Pod Identity trust policy uses the ``aws:Source*`` context EKS passes when it assumes the
  role), ``aws:SourceArn`` (the cluster ARN) + ``aws:SourceAccount`` for the cluster role (EKS User
  Guide, "Cross-service confused deputy prevention in Amazon EKS").  No check is disabled for them.
- ``ec2.amazonaws.com`` (node roles, components/node_group.py): iam-validator's ``sensitive_action``
  asks for *some* condition on ``sts:AssumeRole``.  EC2 assumes a node role only for an instance
  profile attached to an instance of this account; iam-validator's own confused-deputy check lists
  ``ec2.amazonaws.com`` as safe for that reason, and the EKS node IAM role's documented trust
  policy has no condition.  So that one finding kind is ignored, for trust policies whose principal
  is exactly ``ec2.amazonaws.com``, through iam-validator's ``ignore_patterns`` (``EC2_TRUST``).
- The AWS Load Balancer Controller's role policy (components/front_door/controller.py) is the
  controller's published policy for the pinned version, kept verbatim (the issue asks for exactly
  that file). It is valid (every action, resource type and condition key is known) but writes on
  ``"*"``: the controller creates load balancers, target groups and security groups whose ARNs
  do not exist in advance; its own conditions scope the writes to resources tagged
  ``elbv2.k8s.aws/cluster``. iam-validator's two best-practice checks ``wildcard_resource`` and
  ``sensitive_action`` are therefore ignored for that one policy name (``LB_CONTROLLER``);
  tests/test_front_door_controller.py shows that nothing else is found in it.
- ``KNOWN_OPEN``: real findings not decided here, listed so they are visible and cannot go stale
  (``test_known_open_findings_are_still_open`` fails once one is fixed).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tools import iam_validation as iv

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

# Policy names are "<stack>/<trust|identity>/<principal services or '-'>/<resource name>"; the
# validator's ignore_patterns match on them (iam-validator calls the name the policy's filepath).
EC2_TRUST = r"^[a-z0-9-]+/trust/ec2\.amazonaws\.com/"
LB_CONTROLLER = r"^[a-z0-9-]+/identity/-/[a-z0-9-]+-lb-controller-policy$"
VALIDATOR_CONFIG: dict[str, Any] = {
    "sensitive_action": {
        "ignore_patterns": [
            # Node roles: see the module docstring. Only trust policies whose sole principal is EC2
            # (test_ignore_pattern_is_scoped_to_ec2_trust: they grant sts:AssumeRole and nothing
            # else). Scoped by name only: an "action" field in a pattern is applied to every policy.
            {"filepath": EC2_TRUST},
            {"filepath": LB_CONTROLLER},
        ]
    },
    "wildcard_resource": {"ignore_patterns": [{"filepath": LB_CONTROLLER}]},
}

# (policy name suffix, check_id, action): findings left open on purpose (none today).
KNOWN_OPEN: set[tuple[str, str, str]] = set()


def _services(document: dict[str, Any]) -> str:
    principals = set()
    for statement in document.get("Statement", []):
        principal = statement.get("Principal") or {}
        service = principal.get("Service") if isinstance(principal, dict) else None
        principals.update([service] if isinstance(service, str) else service or [])
        if isinstance(principal, dict) and set(principal) - {"Service"} or principal == "*":
            principals.add("non-service")
    return ",".join(sorted(principals)) or "-"


def rendered_policies(run) -> list[tuple[str, dict[str, Any], str]]:
    """``(name, document, policy_type)`` for every role trust policy and inline role policy."""
    items = []
    for record in run.of_type(ROLE):
        document = json.loads(record.inputs["assumeRolePolicy"])
        items.append((f"{run.stack}/trust/{_services(document)}/{record.name}", document, "trust"))
    for record in run.of_type(ROLE_POLICY):
        items.append((f"{run.stack}/identity/-/{record.name}", json.loads(record.inputs["policy"]), "identity"))
    return items


def known_open(stack: str) -> set[tuple[str, str, str]]:
    return {(suffix.format(stack=stack), check, action) for suffix, check, action in KNOWN_OPEN}


def split_known(stack: str, findings: dict[str, list[dict]]) -> tuple[dict[str, list], set[tuple[str, str, str]]]:
    """Findings minus the known-open ones, and the known-open ones seen."""
    open_ = known_open(stack)
    unexpected: dict[str, list] = {}
    seen = set()
    for name, items in findings.items():
        for finding in items:
            key = next(((s, c, a) for s, c, a in open_
                        if name.endswith(s) and finding["check_id"] == c and finding["action"] == a), None)
            if key:
                seen.add(key)
            else:
                unexpected.setdefault(name, []).append(finding)
    return unexpected, seen


@pytest.fixture(scope="module")
def services_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("aws-services")


@pytest.fixture
def offline(stack_runs, no_network):
    """After the engine runs: fail any attempt to resolve a name or open an IP connection."""
    return stack_runs


@pytest.fixture(scope="module")
def results(stack_runs, services_dir) -> dict[str, dict[str, list[dict]]]:
    return {
        stack: iv.validate_policies(rendered_policies(run), services_dir, config=VALIDATOR_CONFIG)
        for stack, run in stack_runs.items()
    }


def test_every_rendered_policy_is_validated(stack_runs) -> None:
    for stack, run in stack_runs.items():
        names = [name for name, _, _ in rendered_policies(run)]
        assert len(names) == len(run.of_type(ROLE)) + len(run.of_type(ROLE_POLICY))
        kinds = {name.split("/")[2] for name in names if "/trust/" in name}
        # Pod Identity roles, the cluster role and the node roles are all here
        assert {"pods.eks.amazonaws.com", "eks.amazonaws.com", "ec2.amazonaws.com"} <= kinds, (stack, kinds)
        assert any("bedrock" in name for name in names if "/identity/" in name)


def test_rendered_policies_have_no_findings(results) -> None:
    for stack, findings in results.items():
        unexpected, _ = split_known(stack, findings)
        assert unexpected == {}, json.dumps(unexpected, indent=1)


def test_known_open_findings_are_still_open(results) -> None:
    for stack, findings in results.items():
        _, seen = split_known(stack, findings)
        assert seen == known_open(stack), "a known-open finding is fixed: remove it from KNOWN_OPEN"


def test_trust_policies_carry_confused_deputy_conditions(stack_runs) -> None:
    for run in stack_runs.values():
        for name, document, kind in rendered_policies(run):
            if kind != "trust" or "/ec2.amazonaws.com/" in name:
                continue
            for statement in document["Statement"]:
                keys = {key for block in statement.get("Condition", {}).values() for key in block}
                assert "aws:SourceAccount" in keys, name
                if "/eks.amazonaws.com/" in name:
                    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].endswith(
                        f":cluster/{run.outputs['clusterName']}"
                    )


def test_ignore_pattern_is_scoped_to_ec2_trust(offline, services_dir) -> None:
    """The node-role allowance hides nothing else: the node roles' trust policies grant only
    sts:AssumeRole, and the same finding on a Pod Identity or cluster trust policy without its
    condition is still reported, and so is the confused-deputy risk."""
    run = offline["dev"]
    by_kind = {}
    for name, document, kind in rendered_policies(run):
        by_kind.setdefault(name.split("/")[2], (name, document))
    items = []
    for service in ("pods.eks.amazonaws.com", "eks.amazonaws.com"):
        name, document = by_kind[service]
        stripped = copy.deepcopy(document)
        for statement in stripped["Statement"]:
            statement.pop("Condition", None)
        items.append((name + "-no-condition", stripped, "trust"))
    ec2 = [document for name, document, _ in rendered_policies(run) if "/trust/ec2.amazonaws.com/" in name]
    assert ec2 and all(s["Action"] in ("sts:AssumeRole", ["sts:AssumeRole"]) and s["Effect"] == "Allow"
                       for document in ec2 for s in document["Statement"])
    findings = iv.validate_policies(items, services_dir, config=VALIDATOR_CONFIG)
    for name, found in findings.items():
        kinds = {(f["check_id"], f["issue_type"]) for f in found}
        assert ("trust_policy_validation", "confused_deputy_risk") in kinds, name
        assert ("sensitive_action", "missing_condition") in kinds, name


@pytest.mark.parametrize(
    "mutation",
    ["renamed-action", "wildcard-resource", "model-in-any-region-directly", "wildcard-model"],
)
def test_broken_rendered_policy_is_caught(offline, services_dir, mutation) -> None:
    run = offline["dev"]
    [(name, document, kind)] = [item for item in rendered_policies(run) if item[0].endswith("-bedrock-policy")]
    broken = copy.deepcopy(document)
    statement = broken["Statement"][0]
    model = broken["Statement"][1]  # the foundation model in any region, through its profile
    if mutation == "model-in-any-region-directly":  # iam-validator's own checks accept both of these
        model.pop("Condition")
        expected = ("bedrock_invoke_scope", "overly_permissive")
    elif mutation == "wildcard-model":
        model["Resource"] = "arn:aws:bedrock:*::foundation-model/*"
        expected = ("bedrock_invoke_scope", "overly_permissive")
    elif mutation == "renamed-action":
        statement["Action"] = [a.replace("bedrock:InvokeModel", "bedrock:InvokeModelz", 1) if a == "bedrock:InvokeModel"
                               else a for a in statement["Action"]]
        expected = ("action_validation", "invalid_action")
    else:
        statement["Action"] = statement["Action"] + ["bedrock:DeleteGuardrail"]
        statement["Resource"] = "*"
        expected = ("wildcard_resource", "overly_permissive")
    findings = iv.validate_policies([(name, broken, kind)], services_dir, config=VALIDATOR_CONFIG)[name]
    assert expected in {(f["check_id"], f["issue_type"]) for f in findings}, findings
    assert iv.validate_policies([(name, document, kind)], services_dir, config=VALIDATOR_CONFIG)[name] == []

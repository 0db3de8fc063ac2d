"""Policy-pack rules for the EKS cluster and its node groups: a broken variant that EXACTLY the rule
reports, and a passing twin (see tests/policy_cases.py)."""

from __future__ import annotations

import copy

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.offline import evaluate
from policy_cases import (
    CLUSTER,
    DELETE,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    assert_untouched,
    assert_variant_reports,
    covers,
    find,
    only_new,
    record,
    reported,
    rules_of,
    set_in,
    variant,
)
from tools.offline.engine import PROJECT_DIR
from tools.offline.records import ResourceRecord


# --- EKS -----------------------------------------------------------------------------------


@covers("eks-secrets-encryption")
@pytest.mark.parametrize("change", [
    set_in(("encryptionConfig",), DELETE),
    set_in(("encryptionConfig", "resources"), ["configmaps"]),
    set_in(("encryptionConfig", "provider"), {}),
])
def test_secrets_encryption(dev, dev_reported, change):
    assert_variant_reports(dev, dev_reported, "eks-secrets-encryption", CLUSTER, "", change)


def test_secrets_encryption_key_unknown_in_preview_counts_as_set(dev, dev_reported):
    records, urn = variant(dev, CLUSTER, "", set_in(("encryptionConfig", "provider", "keyArn"), UNKNOWN_STRING_VALUE))
    assert only_new(dev_reported, records) == set()


@covers("eks-api-authentication")
@pytest.mark.parametrize("mode", ["CONFIG_MAP", "API_AND_CONFIG_MAP", DELETE])
def test_api_authentication(dev, dev_reported, mode):
    change = set_in(("accessConfig", "authenticationMode"), mode)
    assert_variant_reports(dev, dev_reported, "eks-api-authentication", CLUSTER, "", change)


@covers("eks-audit-logging")
@pytest.mark.parametrize("log_types", [["api", "authenticator"], []], ids=["without-audit", "none"])
def test_audit_logging(dev, dev_reported, log_types):
    # settings reject logTypes without audit, so the cluster record is changed by hand
    assert_variant_reports(dev, dev_reported, "eks-audit-logging", CLUSTER, "", set_in(("enabledClusterLogTypes",), log_types))


@covers("eks-public-endpoint-restricted")
@pytest.mark.parametrize("change", [
    # settings reject 0.0.0.0/0, so the cluster record is changed by hand
    set_in(("vpcConfig", "publicAccessCidrs"), ["203.0.113.0/24", "0.0.0.0/0"]),
    set_in(("vpcConfig", "publicAccessCidrs"), ["::/0"]),
    set_in(("vpcConfig", "publicAccessCidrs"), DELETE),  # EKS default: open to the internet
])
def test_public_endpoint(dev, dev_reported, change):
    # the twin: dev's restricted CIDRs
    assert_variant_reports(dev, dev_reported, "eks-public-endpoint-restricted", CLUSTER, "", change)


def test_public_endpoint_level_follows_the_stack_config(dev, dev_reported, stack_runs):
    from policies.offline import load_config  # noqa: PLC0415

    records, urn = variant(dev, CLUSTER, "", set_in(("vpcConfig", "publicAccessCidrs"), ["0.0.0.0/0"]))
    levels = {}
    for stack in ("dev", "prod"):
        path = PROJECT_DIR / "policies" / f"config.{stack}.json"
        config = load_config(path) if path.exists() else None  # prod: the pack's default level
        levels[stack] = {
            v.enforcement_level for v in evaluate(records, config).violations
            if v.policy_name == "eks-public-endpoint-restricted"
        }
    assert levels == {"dev": {"advisory"}, "prod": {"mandatory"}}
    # prod's endpoint, public only for the deploying runners' CIDR, passes
    prod_cluster = find(stack_runs["prod"].resources, CLUSTER)
    assert prod_cluster.inputs["vpcConfig"]["publicAccessCidrs"] and "0.0.0.0/0" not in prod_cluster.inputs["vpcConfig"]["publicAccessCidrs"]
    assert "eks-public-endpoint-restricted" not in rules_of(reported([prod_cluster]))


# --- node groups ---------------------------------------------------------------------------


def launch_template(name: str, http_tokens: str) -> ResourceRecord:
    inputs = {"metadataOptions": {"httpEndpoint": "enabled", "httpTokens": http_tokens, "httpPutResponseHopLimit": 1}}
    return record(LAUNCH_TEMPLATE, name, inputs, outputs={**inputs, "id": f"lt-{name}"})


@covers("launch-template-imdsv2")
@pytest.mark.parametrize("tokens, expected", [("optional", {"launch-template-imdsv2"}), ("required", set())])
def test_launch_template_imdsv2(dev, dev_reported, tokens, expected):
    # a template no node group uses: only the template rule can speak
    template = launch_template("spare", tokens)
    assert rules_of(only_new(dev_reported, [*dev.resources, template])) == expected


@covers("node-group-launch-template")
def test_node_group_without_launch_template(dev, dev_reported):
    change = set_in(("launchTemplate",), DELETE, key="both")
    assert_variant_reports(dev, dev_reported, "node-group-launch-template", NODE_GROUP, "system", change)


@covers("node-group-template-imdsv2")
def test_node_group_template_not_in_stack(dev, dev_reported):
    change = set_in(("launchTemplate", "id"), "lt-0external", key="both")
    assert_variant_reports(dev, dev_reported, "node-group-template-imdsv2", NODE_GROUP, "neuron", change)


def test_node_group_template_without_imdsv2_is_reported_on_both(dev, dev_reported):
    """The template rule flags the template, the stack rule the node group that uses it."""
    optional = set_in(("metadataOptions", "httpTokens"), "optional", key="both")
    records, template_urn = variant(dev, LAUNCH_TEMPLATE, "neuron", optional)
    group_urn = find(records, NODE_GROUP, "neuron").urn
    assert only_new(dev_reported, records) == {
        ("launch-template-imdsv2", template_urn), ("node-group-template-imdsv2", group_urn),
    }


def test_node_group_template_resolved_through_dependencies_in_preview(dev, dev_reported):
    records, urn = variant(dev, NODE_GROUP, "neuron", set_in(("launchTemplate", "id"), UNKNOWN_STRING_VALUE, key="both"))
    assert only_new(dev_reported, records) == set()
    template = find(records, LAUNCH_TEMPLATE, "neuron")
    broken = copy.deepcopy(template)
    broken.outputs["metadataOptions"]["httpTokens"] = "optional"
    records[records.index(template)] = broken
    assert ("node-group-template-imdsv2", urn) in only_new(dev_reported, records)


@covers("neuron-node-group-ami")
def test_neuron_node_group_ami(dev, dev_reported):
    change = set_in(("amiType",), "AL2023_x86_64_STANDARD")
    assert_variant_reports(dev, dev_reported, "neuron-node-group-ami", NODE_GROUP, "neuron", change)


@covers("neuron-node-group-taint")
@pytest.mark.parametrize("taints", [[], [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "PREFER_NO_SCHEDULE"}]])
def test_neuron_node_group_taint(dev, dev_reported, taints):
    change = set_in(("taints",), taints)
    assert_variant_reports(dev, dev_reported, "neuron-node-group-taint", NODE_GROUP, "neuron", change)
    # the system group has no taint and is not a Neuron group: fine
    assert_untouched(dev_reported, "neuron-node-group-taint", find(dev.resources, NODE_GROUP, "system").urn)


@pytest.mark.parametrize("instance_type", ["trn2.48xlarge", "trn1n.32xlarge"])
def test_trainium_counts_as_neuron(dev, dev_reported, instance_type):
    records, urn = variant(dev, NODE_GROUP, "system", set_in(("instanceTypes",), [instance_type]))
    assert only_new(dev_reported, records) == {("neuron-node-group-ami", urn), ("neuron-node-group-taint", urn)}

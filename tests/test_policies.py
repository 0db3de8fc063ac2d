"""The CrossGuard policy pack as a whole: its entry point, config, the offline runner, the stacks.

Rule-by-rule broken/passing twins are in test_policies_{eks_nodes,iam_s3,kubernetes}.py (builders in
policy_cases.py). Nothing here imports
`policies/__main__.py` for real: constructing a `PolicyPack` starts a gRPC server.
"""

from __future__ import annotations

import copy
import json
import runpy
import sys
from pathlib import Path

import pulumi_policy
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policies import offline
from policies.genai_policies import pack
from policies.offline import PackConfigError, evaluate, load_config, resolve_config
from policies.offline_args import wire_props
from tools.offline.records import StackRun

POLICIES_DIR = Path(offline.__file__).resolve().parent
STACKS = ("dev", "prod")


@pytest.fixture(scope="session")
def rules():
    return pack.policies()


@pytest.fixture(scope="session")
def stack_configs():
    """Each stack's pack config as the CLI would get it: its file, or None (the pack's own defaults)."""
    paths = {stack: POLICIES_DIR / f"config.{stack}.json" for stack in STACKS}
    return {stack: load_config(path) if path.exists() else None for stack, path in paths.items()}


# --- the pack ------------------------------------------------------------------------------


def test_rules_are_real_pulumi_policy_objects(rules):
    assert len(rules) >= 20
    names = [r.name for r in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert isinstance(rule, (ResourceValidationPolicy, StackValidationPolicy)), rule.name
        assert rule.description and rule.enforcement_level == EnforcementLevel.MANDATORY, rule.name
    stack_rules = {r.name for r in rules if isinstance(r, StackValidationPolicy)}
    assert stack_rules == {
        "node-group-template-imdsv2", "s3-public-access-block", "s3-encryption", "s3-versioning",
        "k8s-namespace-default-deny", "neuron-group-single-zone-for-zonal-volumes", "k8s-front-door-https-restricted",
        "k8s-image-registry",  # sees the stack's own ECR repositories
    }


def test_entry_point_only_constructs_the_pack(monkeypatch):
    """`policies/__main__.py` hands every rule to PolicyPack (a recorder here: no server)."""
    constructed = []

    class RecordingPack:
        def __init__(self, **kwargs):
            constructed.append(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", RecordingPack)
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    try:
        runpy.run_path(str(POLICIES_DIR / "__main__.py"), run_name="__main__")
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]
    assert len(constructed) == 1
    kwargs = constructed[0]
    assert kwargs["name"] == pack.PACK_NAME
    assert [p.name for p in kwargs["policies"]] == [p.name for p in pack.policies()]


def test_analyzer_info_serializes_every_schema(rules):
    """What the CLI asks first: names, levels and config schemas must fit the protobuf messages."""
    servicer = _PolicyAnalyzerServicer(pack.PACK_NAME, "0.1.0", rules, pack.PACK_ENFORCEMENT_LEVEL)
    info = servicer.GetAnalyzerInfo(None, None)
    assert [p.name for p in info.policies] == [r.name for r in rules]
    schemas = {p.name: p.configSchema.properties for p in info.policies}
    assert "allowedRegistries" in schemas["k8s-image-registry"]
    assert "exemptions" in schemas["k8s-container-probes"]


def test_policy_pack_files():
    spec = (POLICIES_DIR / "PulumiPolicy.yaml").read_text()
    assert "name: python" in spec and "virtualenv: venv" in spec
    requirements = (POLICIES_DIR / "requirements.txt").read_text().split()
    assert f"pulumi-policy=={pulumi_policy_version()}" in requirements


def pulumi_policy_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("pulumi-policy")


# --- configuration -------------------------------------------------------------------------


def test_public_endpoint_is_advisory_in_dev_and_mandatory_in_prod(rules, stack_configs):
    dev = resolve_config(rules, stack_configs["dev"])
    prod = resolve_config(rules, stack_configs["prod"])
    assert dev["eks-public-endpoint-restricted"].enforcement_level == EnforcementLevel.ADVISORY
    assert prod["eks-public-endpoint-restricted"].enforcement_level == EnforcementLevel.MANDATORY
    for stack in (dev, prod):
        others = {s.enforcement_level for n, s in stack.items() if n != "eks-public-endpoint-restricted"}
        assert others == {EnforcementLevel.MANDATORY}


def test_config_files_hold_only_per_stack_choices(rules):
    """The platform's exemptions live in the pack: a stack file only states what differs by stack."""
    files = sorted(POLICIES_DIR.glob("config.*.json"))
    assert [f.name for f in files] == ["config.dev.json"]
    for path in files:
        assert "exemptions" not in path.read_text(), path.name
        resolve_config(rules, load_config(path))  # and it is valid


def test_schema_defaults_apply_without_config(rules):
    settings = resolve_config(rules, None)
    assert "public.ecr.aws" in settings["k8s-image-registry"].properties["allowedRegistries"]
    assert settings["k8s-container-security-context"].properties["exemptions"] == []
    assert settings["k8s-container-probes"].properties["exemptions"] == []


def test_all_sets_every_level_and_a_policy_entry_overrides_it(rules):
    settings = resolve_config(rules, {"all": "advisory", "iam-no-wildcards": "disabled"})
    assert settings["iam-no-wildcards"].enforcement_level == EnforcementLevel.DISABLED
    assert settings["s3-versioning"].enforcement_level == EnforcementLevel.ADVISORY


@pytest.mark.parametrize(
    "config, message",
    [
        ({"no-such-policy": "mandatory"}, "unknown policies"),
        ({"all": "strict"}, "enforcement level"),
        ({"eks-audit-logging": {"foo": 1}}, "takes no configuration"),
        ({"k8s-image-registry": {"allowedRegistries": "ghcr.io"}}, "expected array"),
        ({"k8s-image-registry": {"registries": []}}, "unknown properties"),
        # the allowlist is for kube-system DaemonSets only, and each entry says why
        ({"k8s-container-probes": {"exemptions": [
            {"kind": "Deployment", "namespace": "genai", "name": "litellm", "reason": "no probe endpoint here"}]}},
         "is not one of"),
        ({"k8s-container-probes": {"exemptions": [
            {"kind": "DaemonSet", "namespace": "kube-system", "name": "agent"}]}}, "missing required property 'reason'"),
    ],
)
def test_invalid_config_is_rejected(rules, config, message):
    with pytest.raises(PackConfigError, match=message):
        resolve_config(rules, config)


# --- the stacks ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_stack_has_no_mandatory_violation(stack, stack_runs, stack_configs):
    report = evaluate(stack_runs[stack], stack_configs[stack])
    assert [(v.policy_name, v.urn, v.message) for v in report.mandatory] == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_pack_without_config_passes_the_program(stack, stack_runs):
    """What CI, `pulumi preview --policy-pack policies` and a new stack get: the pack's own defaults."""
    report = evaluate(stack_runs[stack], None)
    assert [(v.policy_name, v.urn, v.message) for v in report.mandatory] == []


@pytest.mark.parametrize("stack", STACKS)
def test_stack_rules_see_the_real_resources(stack, stack_runs):
    """Guard against rules that pass because they look at nothing: the types they check exist."""
    types = {r.type for r in stack_runs[stack].resources if r.custom}
    assert {
        "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "kubernetes:apps/v1:DaemonSet",
        "kubernetes:core/v1:Namespace", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    } <= types


def test_device_plugin_exemptions_are_the_packs_and_reported_not_silent(stack_runs):
    report = evaluate(stack_runs["dev"], None)
    exempt = {n.policy_name: n for n in report.not_applicable}
    # (iam-no-wildcards: the front door's published controller policy, tests/test_policies_front_door.py)
    exempt.pop("iam-no-wildcards", None)
    assert set(exempt) == {"k8s-container-probes", "k8s-container-security-context"}
    assert all("neuron-device-plugin" in n.urn for n in exempt.values())
    assert "no HTTP endpoint" in exempt["k8s-container-probes"].reason
    assert "runs as root" in exempt["k8s-container-security-context"].reason
    # a config allowlist adds to the pack's exemptions, it cannot drop them
    assert evaluate(stack_runs["dev"], {"k8s-container-probes": {"exemptions": []}}).mandatory == []


# --- the runner is the analyzer ------------------------------------------------------------


def _struct(values) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values or {}))
    return struct


_PROTO_LEVELS = {
    EnforcementLevel.ADVISORY: proto.ADVISORY, EnforcementLevel.MANDATORY: proto.MANDATORY,
    EnforcementLevel.REMEDIATE: proto.REMEDIATE, EnforcementLevel.DISABLED: proto.DISABLED,
}
_LEVEL_NAMES = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory"}


def _through_servicer(run: StackRun, config: dict, rules) -> set[tuple[str, str, str, str]]:
    """Every violation as pulumi_policy's own gRPC servicer reports it, fed protobuf requests."""
    servicer = _PolicyAnalyzerServicer(pack.PACK_NAME, "0.1.0", rules, pack.PACK_ENFORCEMENT_LEVEL)
    settings = resolve_config(rules, config)
    servicer.Configure(proto.ConfigureAnalyzerRequest(policyConfig={
        name: proto.PolicyConfig(enforcementLevel=_PROTO_LEVELS[s.enforcement_level], properties=_struct(s.properties))
        for name, s in settings.items()
    }), None)
    by_urn = {r.urn: r for r in run.resources}
    custom = [r for r in run.resources if r.custom]

    def common(record) -> dict:
        fields = dict(type=record.type, urn=record.urn, name=record.name,
                      options=proto.AnalyzerResourceOptions(parent=record.parent))
        if record.provider:
            provider = by_urn[record.provider.rsplit("::", 1)[0]]
            fields["provider"] = proto.AnalyzerProviderResource(
                type=provider.type, properties=_struct(provider.inputs), urn=provider.urn, name=provider.name)
        return fields

    found = set()
    for record in custom:
        response = servicer.Analyze(proto.AnalyzeRequest(properties=_struct(record.inputs), **common(record)), None)
        for d in response.diagnostics:
            found.add((d.policyName, _LEVEL_NAMES[d.enforcementLevel], record.urn, d.message.split("\n", 1)[1]))
    request = proto.AnalyzeStackRequest(resources=[
        proto.AnalyzerResource(properties=_struct(r.outputs or r.inputs), parent=r.parent,
                               dependencies=r.dependencies, **common(r))
        for r in custom
    ])
    for d in servicer.AnalyzeStack(request, None).diagnostics:
        found.add((d.policyName, _LEVEL_NAMES[d.enforcementLevel], d.urn, d.message.split("\n", 1)[1]))
    return found


def _broken_dev(run: StackRun) -> StackRun:
    """The dev run with one mistake per area, so that many rules report."""
    records = copy.deepcopy(run.resources)
    by_type_name = {(r.type, r.name): r for r in records}

    def one(type_, contains):
        return next(r for (t, n), r in by_type_name.items() if t == type_ and contains in n)

    cluster = one("aws:eks/cluster:Cluster", "")
    cluster.inputs["vpcConfig"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    cluster.inputs["accessConfig"]["authenticationMode"] = "CONFIG_MAP"
    del one("aws:eks/nodeGroup:NodeGroup", "system").inputs["launchTemplate"]
    role = one("aws:iam/role:Role", "bedrock")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    trust["Statement"][0]["Principal"]["AWS"] = "arn:aws:iam::123456789012:root"
    role.inputs["assumeRolePolicy"] = json.dumps(trust)
    for workload in [r for r in records if r.type == "kubernetes:apps/v1:Deployment"][:2]:
        container = workload.inputs["spec"]["template"]["spec"]["containers"][0]
        container["image"] = container["image"].rsplit(":", 1)[0] + ":latest"
        container.pop("readinessProbe", None)
    versioning = [r for r in records if r.type == "aws:s3/bucketVersioning:BucketVersioning"]
    records = [r for r in records if r not in versioning[:1]]
    return StackRun(run.stack, records, run.outputs, run.secret_outputs)


def test_offline_runner_matches_the_real_analyzer_servicer(stack_runs, stack_configs, rules):
    broken = _broken_dev(stack_runs["dev"])
    config = {**(stack_configs["dev"] or {}), "k8s-image-registry": {"allowedRegistries": ["public.ecr.aws", "ghcr.io"]}}
    offline_found = {(v.policy_name, v.enforcement_level, v.urn, v.message) for v in evaluate(broken, config).violations}
    assert _through_servicer(broken, config, rules) == offline_found
    assert {v[0] for v in offline_found} >= {
        "eks-public-endpoint-restricted", "eks-api-authentication", "node-group-launch-template",
        "iam-pod-identity-trust", "k8s-image-tag", "k8s-container-probes", "k8s-image-registry", "s3-versioning",
    }
    levels = {v[0]: v[1] for v in offline_found}
    assert levels["eks-public-endpoint-restricted"] == "advisory"
    assert levels["eks-api-authentication"] == "mandatory"


def test_numbers_arrive_as_floats_as_over_grpc():
    props = wire_props({"metadataOptions": {"httpPutResponseHopLimit": 1}, "tags": ["a"]})
    assert props["metadataOptions"]["httpPutResponseHopLimit"] == 1.0
    assert isinstance(props["metadataOptions"]["httpPutResponseHopLimit"], float)
    assert not isinstance(props, dict) and not isinstance(props["tags"], list)  # the analyzer's proxies


# --- command line --------------------------------------------------------------------------


def test_command_line_exit_codes(monkeypatch, capsys, stack_runs, tmp_path):
    from tools.offline import errors  # noqa: PLC0415

    monkeypatch.setattr(errors, "run_or_exit", lambda stack, **_: stack_runs[stack])
    code = offline.main(["prod"])
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].endswith("not applicable")
    assert code == (1 if "[mandatory]" in out else 0)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"no-such-policy": "advisory"}))
    assert offline.main(["dev", "--config", str(bad)]) == offline.EXIT_BAD_CONFIG
    assert "unknown policies" in capsys.readouterr().err


def test_async_rules_run_on_a_private_loop():
    """An async validate is awaited like the servicer does, leaving the thread's event loop alone
    (the Pulumi runtime and the offline engine need it afterwards)."""
    import asyncio  # noqa: PLC0415

    from tools.offline.records import ResourceRecord  # noqa: PLC0415

    async def validate(args, report_violation):
        await asyncio.sleep(0)
        report_violation(f"{args.name} checked asynchronously")

    rule = ResourceValidationPolicy(name="async-rule", description="An async rule.", validate=validate)
    record = ResourceRecord(urn="urn:pulumi:test::p::t:m:T::r", type="t:m:T", name="r", parent="", custom=True, inputs={})
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:  # an earlier test left the thread without one: give it one back
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    report = evaluate([record], policies=[rule])
    assert [(v.policy_name, v.enforcement_level, v.message) for v in report.violations] == [
        ("async-rule", "mandatory", "r checked asynchronously")  # the pack's default level
    ]
    assert asyncio.get_event_loop() is loop

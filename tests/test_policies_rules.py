"""Each rule of the policy pack: a minimally broken variant that EXACTLY that rule reports, and a
passing twin.

Variants come from the real dev run (one record copied and changed: the rest of the stack stays
as the program built it), from a settings override where settings allow the mistake, or from
hand-made records (workloads, buckets) that pass every rule until one thing is changed.
`test_every_rule_is_covered` keeps this file in step with the pack.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Iterable, Optional

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components.settings.loading import read_stack_file
from policies.genai_policies import pack
from policies.offline import PackConfigError, evaluate, resolve_config
from tools.offline.engine import PROJECT_DIR
from tools.offline.records import ResourceRecord

COVERED: set[str] = set()


def covers(*rules: str):
    """Mark a test as the broken/passing pair of `rules`."""
    COVERED.update(rules)
    return lambda fn: fn


def reported(records: Iterable[ResourceRecord], config: Optional[dict] = None) -> set[tuple[str, str]]:
    """(policy, urn) of every violation, whatever its level."""
    return {(v.policy_name, v.urn) for v in evaluate(list(records), config).violations}


def rules_of(found: set[tuple[str, str]]) -> set[str]:
    return {policy for policy, _ in found}


# --- variants of the real dev run ----------------------------------------------------------


@pytest.fixture(scope="session")
def dev(stack_runs):
    return stack_runs["dev"]


@pytest.fixture(scope="session")
def dev_reported(dev) -> set[tuple[str, str]]:
    return reported(dev.resources)


def find(records: list[ResourceRecord], type_: str, name_contains: str = "") -> ResourceRecord:
    matches = [r for r in records if r.type == type_ and name_contains in r.name]
    assert len(matches) == 1, [r.name for r in matches]
    return matches[0]


def variant(
    dev, type_: str, name_contains: str, change: Callable[[ResourceRecord], Any]
) -> tuple[list[ResourceRecord], str]:
    """The dev run's records with one record copied and changed; (records, its urn)."""
    records = list(dev.resources)
    original = find(records, type_, name_contains)
    changed = copy.deepcopy(original)
    change(changed)
    records[records.index(original)] = changed
    return records, changed.urn


def only_new(dev_reported, records, config=None) -> set[tuple[str, str]]:
    """What the variant reports that the dev run does not."""
    return reported(records, config) - dev_reported


def assert_untouched(dev_reported, rule: str, urn: str) -> None:
    """The passing twin: the program's own resource does not violate `rule`."""
    assert (rule, urn) not in dev_reported


def set_in(path: tuple, value: Any, key: str = "inputs") -> Callable[[ResourceRecord], None]:
    def change(record: ResourceRecord) -> None:
        for values in (record.inputs, record.outputs) if key == "both" else (getattr(record, key),):
            target = values
            for part in path[:-1]:
                target = target[part]
            if value is DELETE:
                target.pop(path[-1], None)
            else:
                target[path[-1]] = copy.deepcopy(value)
    return change


DELETE = object()
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


# --- EKS -----------------------------------------------------------------------------------


@covers("eks-secrets-encryption")
@pytest.mark.parametrize("change", [
    set_in(("encryptionConfig",), DELETE),
    set_in(("encryptionConfig", "resources"), ["configmaps"]),
    set_in(("encryptionConfig", "provider"), {}),
])
def test_secrets_encryption(dev, dev_reported, change):
    records, urn = variant(dev, CLUSTER, "", change)
    assert only_new(dev_reported, records) == {("eks-secrets-encryption", urn)}
    assert_untouched(dev_reported, "eks-secrets-encryption", urn)


def test_secrets_encryption_key_unknown_in_preview_counts_as_set(dev, dev_reported):
    records, urn = variant(dev, CLUSTER, "", set_in(("encryptionConfig", "provider", "keyArn"), UNKNOWN_STRING_VALUE))
    assert only_new(dev_reported, records) == set()


@covers("eks-api-authentication")
@pytest.mark.parametrize("mode", ["CONFIG_MAP", "API_AND_CONFIG_MAP", DELETE])
def test_api_authentication(dev, dev_reported, mode):
    records, urn = variant(dev, CLUSTER, "", set_in(("accessConfig", "authenticationMode"), mode))
    assert only_new(dev_reported, records) == {("eks-api-authentication", urn)}
    assert_untouched(dev_reported, "eks-api-authentication", urn)


@covers("eks-audit-logging")
def test_audit_logging_through_settings(dev, dev_reported, run_with):
    config, _ = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    cluster = {**config["genai-platform:cluster"], "logTypes": ["api", "authenticator"]}
    run = run_with("dev", {"genai-platform:cluster": cluster})
    urn = find(run.resources, CLUSTER).urn
    assert reported(run.resources) - dev_reported == {("eks-audit-logging", urn)}
    assert_untouched(dev_reported, "eks-audit-logging", urn)


@covers("eks-public-endpoint-restricted")
@pytest.mark.parametrize("change", [
    # settings reject 0.0.0.0/0, so the cluster record is changed by hand
    set_in(("vpcConfig", "publicAccessCidrs"), ["203.0.113.0/24", "0.0.0.0/0"]),
    set_in(("vpcConfig", "publicAccessCidrs"), ["::/0"]),
    set_in(("vpcConfig", "publicAccessCidrs"), DELETE),  # EKS default: open to the internet
])
def test_public_endpoint(dev, dev_reported, change):
    records, urn = variant(dev, CLUSTER, "", change)
    assert only_new(dev_reported, records) == {("eks-public-endpoint-restricted", urn)}
    assert_untouched(dev_reported, "eks-public-endpoint-restricted", urn)  # dev: restricted CIDRs


def test_public_endpoint_level_follows_the_stack_config(dev, dev_reported, stack_runs):
    from policies.offline import load_config  # noqa: PLC0415

    records, urn = variant(dev, CLUSTER, "", set_in(("vpcConfig", "publicAccessCidrs"), ["0.0.0.0/0"]))
    levels = {}
    for stack in ("dev", "prod"):
        config = load_config(PROJECT_DIR / "policies" / f"config.{stack}.json")
        levels[stack] = {
            v.enforcement_level for v in evaluate(records, config).violations
            if v.policy_name == "eks-public-endpoint-restricted"
        }
    assert levels == {"dev": {"advisory"}, "prod": {"mandatory"}}
    # prod's private-only endpoint passes
    prod_cluster = find(stack_runs["prod"].resources, CLUSTER)
    assert prod_cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False
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
    records, urn = variant(dev, NODE_GROUP, "system", set_in(("launchTemplate",), DELETE, key="both"))
    assert only_new(dev_reported, records) == {("node-group-launch-template", urn)}
    assert_untouched(dev_reported, "node-group-launch-template", urn)


@covers("node-group-template-imdsv2")
def test_node_group_template_not_in_stack(dev, dev_reported):
    records, urn = variant(dev, NODE_GROUP, "neuron", set_in(("launchTemplate", "id"), "lt-0external", key="both"))
    assert only_new(dev_reported, records) == {("node-group-template-imdsv2", urn)}
    assert_untouched(dev_reported, "node-group-template-imdsv2", urn)


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
    records, urn = variant(dev, NODE_GROUP, "neuron", set_in(("amiType",), "AL2023_x86_64_STANDARD"))
    assert only_new(dev_reported, records) == {("neuron-node-group-ami", urn)}
    assert_untouched(dev_reported, "neuron-node-group-ami", urn)


@covers("neuron-node-group-taint")
@pytest.mark.parametrize("taints", [[], [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "PREFER_NO_SCHEDULE"}]])
def test_neuron_node_group_taint(dev, dev_reported, taints):
    records, urn = variant(dev, NODE_GROUP, "neuron", set_in(("taints",), taints))
    assert only_new(dev_reported, records) == {("neuron-node-group-taint", urn)}
    assert_untouched(dev_reported, "neuron-node-group-taint", urn)
    # the system group has no taint and is not a Neuron group: fine
    assert_untouched(dev_reported, "neuron-node-group-taint", find(dev.resources, NODE_GROUP, "system").urn)


def test_trainium_counts_as_neuron(dev, dev_reported):
    records, urn = variant(dev, NODE_GROUP, "system", set_in(("instanceTypes",), ["trn2.48xlarge"]))
    assert only_new(dev_reported, records) == {("neuron-node-group-ami", urn), ("neuron-node-group-taint", urn)}


# --- IAM -----------------------------------------------------------------------------------


def edit_document(key: str, edit: Callable[[dict], None]) -> Callable[[ResourceRecord], None]:
    def change(record: ResourceRecord) -> None:
        document = json.loads(record.inputs[key])
        edit(document)
        record.inputs[key] = json.dumps(document)
    return change


def first_statement(**fields) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        for key, value in fields.items():
            if value is DELETE:
                document["Statement"][0].pop(key, None)
            else:
                document["Statement"][0][key] = value
    return edit


@covers("iam-no-wildcards")
@pytest.mark.parametrize("type_, name, key, edit", [
    (ROLE_POLICY, "bedrock", "policy", first_statement(Action=["bedrock:*"])),
    (ROLE_POLICY, "bedrock", "policy", first_statement(Action="*")),
    (ROLE_POLICY, "bedrock", "policy", first_statement(Resource="*")),
    (ROLE_POLICY, "bedrock", "policy", first_statement(Action=DELETE, NotAction=["iam:*"])),
    (ROLE_POLICY, "control-plane-kms", "policy", first_statement(Resource=["*"])),
    (ROLE, "control-plane", "assumeRolePolicy", first_statement(Action="sts:*")),
])
def test_no_wildcards(dev, dev_reported, type_, name, key, edit):
    records, urn = variant(dev, type_, name, edit_document(key, edit))
    assert only_new(dev_reported, records) == {("iam-no-wildcards", urn)}
    assert_untouched(dev_reported, "iam-no-wildcards", urn)


def test_no_wildcards_in_inline_policies_and_deny_is_fine(dev, dev_reported):
    def inline(statement):
        document = {"Version": "2012-10-17", "Statement": [statement]}
        return set_in(("inlinePolicies",), [{"name": "extra", "policy": json.dumps(document)}])

    allow_all = inline({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    records, urn = variant(dev, ROLE, "control-plane", allow_all)
    assert only_new(dev_reported, records) == {("iam-no-wildcards", urn)}
    deny_all = inline({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    records, urn = variant(dev, ROLE, "control-plane", deny_all)
    assert only_new(dev_reported, records) == set()


@covers("iam-pod-identity-trust")
@pytest.mark.parametrize("edit", [
    first_statement(Principal={"Service": "pods.eks.amazonaws.com", "AWS": "arn:aws:iam::123456789012:root"}),
    first_statement(Principal={"Service": ["pods.eks.amazonaws.com", "ec2.amazonaws.com"]}),
    first_statement(Action="sts:AssumeRole"),
    first_statement(Action=["sts:AssumeRole", "sts:TagSession", "sts:AssumeRoleWithWebIdentity"]),
    lambda doc: doc["Statement"].append(
        {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"}, "Action": "sts:TagSession"}),
])
def test_pod_identity_trust(dev, dev_reported, edit):
    records, urn = variant(dev, ROLE, "bedrock", edit_document("assumeRolePolicy", edit))
    assert only_new(dev_reported, records) == {("iam-pod-identity-trust", urn)}
    assert_untouched(dev_reported, "iam-pod-identity-trust", urn)


# --- S3 (the dev run's real buckets) -------------------------------------------------------

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"


@pytest.fixture(scope="session")
def a_bucket(dev) -> tuple[ResourceRecord, dict[str, ResourceRecord]]:
    """One of the dev run's buckets and its companions by type."""
    bucket = dev.of_type(BUCKET)[0]
    companions = {
        r.type: r for r in dev.resources
        if r.type in (PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING) and r.inputs.get("bucket") == bucket.outputs["id"]
    }
    assert set(companions) == {PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING}
    return bucket, companions


def without(dev, removed: ResourceRecord) -> list[ResourceRecord]:
    return [r for r in dev.resources if r is not removed]


def replaced(dev, original: ResourceRecord, change: Callable[[ResourceRecord], None]) -> list[ResourceRecord]:
    changed = copy.deepcopy(original)
    change(changed)
    return [changed if r is original else r for r in dev.resources]


@covers("s3-public-access-block")
@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets", None])
def test_public_access_block(dev, dev_reported, a_bucket, flag):
    bucket, companions = a_bucket
    block = companions[PUBLIC_ACCESS_BLOCK]
    records = without(dev, block) if flag is None else replaced(dev, block, set_in((flag,), False, key="both"))
    assert only_new(dev_reported, records) == {("s3-public-access-block", bucket.urn)}
    assert_untouched(dev_reported, "s3-public-access-block", bucket.urn)


@covers("s3-encryption")
@pytest.mark.parametrize("remove", [True, False])
def test_encryption(dev, dev_reported, a_bucket, remove):
    bucket, companions = a_bucket
    config = companions[ENCRYPTION]
    records = without(dev, config) if remove else replaced(dev, config, set_in(("rules",), [], key="both"))
    assert only_new(dev_reported, records) == {("s3-encryption", bucket.urn)}
    assert_untouched(dev_reported, "s3-encryption", bucket.urn)


@covers("s3-versioning")
@pytest.mark.parametrize("remove", [True, False])
def test_versioning(dev, dev_reported, a_bucket, remove):
    bucket, companions = a_bucket
    versioning = companions[VERSIONING]
    records = without(dev, versioning) if remove else replaced(
        dev, versioning, set_in(("versioningConfiguration", "status"), "Suspended", key="both"))
    assert only_new(dev_reported, records) == {("s3-versioning", bucket.urn)}
    assert_untouched(dev_reported, "s3-versioning", bucket.urn)


def test_bucket_companions_matched_through_dependencies_in_preview(dev, dev_reported, a_bucket):
    bucket, companions = a_bucket
    records = list(dev.resources)
    for companion in companions.values():
        assert bucket.urn in companion.dependencies
        records = [_unknown_bucket(r) if r is companion else r for r in records]
    assert only_new(dev_reported, records) == set()


def _unknown_bucket(record: ResourceRecord) -> ResourceRecord:
    changed = copy.deepcopy(record)
    changed.outputs["bucket"] = UNKNOWN_STRING_VALUE
    return changed


# --- Kubernetes (hand-made workloads that pass every rule until one thing changes) ---------

WORKLOAD_TYPES = {
    "Deployment": "kubernetes:apps/v1:Deployment",
    "StatefulSet": "kubernetes:apps/v1:StatefulSet",
    "DaemonSet": "kubernetes:apps/v1:DaemonSet",
    "Job": "kubernetes:batch/v1:Job",
    "CronJob": "kubernetes:batch/v1:CronJob",
    "Pod": "kubernetes:core/v1:Pod",
}


def record(type_: str, name: str, inputs: dict, outputs: Optional[dict] = None,
           dependencies: Iterable[str] = ()) -> ResourceRecord:
    return ResourceRecord(
        urn=f"urn:pulumi:test::genai-platform::{type_}::{name}", type=type_, name=name, parent="", custom=True,
        inputs=inputs, outputs=copy.deepcopy(outputs if outputs is not None else inputs),
        dependencies=list(dependencies),
    )


def container(**overrides) -> dict:
    base = {
        "name": "app",
        "image": "ghcr.io/example/app:v1.2.3",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
        "env": [
            {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "app", "key": "api-key"}}},
            {"name": "LOG_LEVEL", "value": "info"},
        ],
    }
    for key, value in overrides.items():
        if value is DELETE:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def workload(kind: str = "Deployment", *, name: str = "app", namespace: str = "genai",
             containers: Optional[list] = None, **pod) -> ResourceRecord:
    pod_spec = {"containers": containers if containers is not None else [container()], **pod}
    metadata = {"name": name, "namespace": namespace}
    api = WORKLOAD_TYPES[kind].split(":")[1].replace("core/", "")
    if kind == "Pod":
        spec = pod_spec
    elif kind == "CronJob":
        spec = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}
    else:
        template = {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
        spec = {"selector": {"matchLabels": {"app": name}}, "template": template}
    body = {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}
    return record(WORKLOAD_TYPES[kind], f"{namespace}-{name}", body)


@pytest.mark.parametrize("kind", WORKLOAD_TYPES)
def test_a_good_workload_passes_every_rule(kind):
    assert reported([workload(kind)]) == set()


def assert_only(rule: str, broken: ResourceRecord, twin: ResourceRecord, config: Optional[dict] = None) -> None:
    assert reported([broken], config) == {(rule, broken.urn)}
    assert reported([twin], config) == set()


@covers("k8s-container-resources")
@pytest.mark.parametrize("kind, res", [("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory")])
def test_container_resources(kind, res):
    broken = container()
    del broken["resources"][kind][res]
    assert_only("k8s-container-resources", workload(containers=[broken]), workload())
    init = container(name="init", livenessProbe=DELETE, readinessProbe=DELETE, resources=DELETE)
    assert_only("k8s-container-resources", workload(initContainers=[init]),
                workload(initContainers=[container(name="init", livenessProbe=DELETE, readinessProbe=DELETE)]))


@covers("k8s-container-probes")
@pytest.mark.parametrize("probe", ["livenessProbe", "readinessProbe"])
def test_container_probes(probe):
    # init containers need no probes
    init = container(name="init", livenessProbe=DELETE, readinessProbe=DELETE)
    assert_only("k8s-container-probes", workload(containers=[container(**{probe: DELETE})]),
                workload(initContainers=[init]))


def test_probe_allowlist_is_explicit_and_reported(dev):
    plugin = workload("DaemonSet", name="neuron-device-plugin", namespace="kube-system",
                      containers=[container(livenessProbe=DELETE, readinessProbe=DELETE)])
    report = evaluate([plugin])  # the schema default lists the device plugin
    assert report.violations == []
    assert [(n.policy_name, n.urn) for n in report.not_applicable] == [("k8s-container-probes", plugin.urn)]
    # an unlisted kube-system DaemonSet, or the same name elsewhere, is not exempt
    other = workload("DaemonSet", name="node-agent", namespace="kube-system",
                     containers=[container(livenessProbe=DELETE, readinessProbe=DELETE)])
    same_name = workload("DaemonSet", name="neuron-device-plugin", namespace="genai",
                         containers=[container(livenessProbe=DELETE, readinessProbe=DELETE)])
    assert rules_of(reported([other])) == rules_of(reported([same_name])) == {"k8s-container-probes"}
    # an empty allowlist exempts nothing
    assert rules_of(reported([plugin], {"k8s-container-probes": {"exemptions": []}})) == {"k8s-container-probes"}


@covers("k8s-container-security-context")
@pytest.mark.parametrize("broken, twin", [
    (workload(containers=[container(securityContext={"allowPrivilegeEscalation": False})]),
     workload(containers=[container(securityContext={"allowPrivilegeEscalation": False})],
              securityContext={"runAsNonRoot": True})),
    (workload(containers=[container(securityContext={"runAsNonRoot": False, "allowPrivilegeEscalation": False})],
              securityContext={"runAsNonRoot": True}),
     workload()),
    (workload(containers=[container(securityContext={"runAsNonRoot": True})]), workload()),
    (workload(initContainers=[container(name="init", securityContext={}, livenessProbe=DELETE, readinessProbe=DELETE)]),
     workload()),
])
def test_security_context(broken, twin):
    assert_only("k8s-container-security-context", broken, twin)


def test_security_context_allowlist_takes_kube_system_daemonsets_with_a_reason():
    root = workload("DaemonSet", name="neuron-device-plugin", namespace="kube-system",
                    containers=[container(securityContext={"allowPrivilegeEscalation": False})])
    assert rules_of(reported([root])) == {"k8s-container-security-context"}
    config = {"k8s-container-security-context": {"exemptions": [{
        "kind": "DaemonSet", "namespace": "kube-system", "name": "neuron-device-plugin",
        "reason": "writes its socket into the root-owned /var/lib/kubelet/device-plugins"}]}}
    report = evaluate([root], config)
    assert report.violations == []
    assert "k8s-container-security-context" in {n.policy_name for n in report.not_applicable}
    with pytest.raises(PackConfigError):
        resolve_config(pack.policies(), {"k8s-container-security-context": {"exemptions": [{
            "kind": "Deployment", "namespace": "genai", "name": "app", "reason": "would rather run as root"}]}})


@covers("k8s-image-tag")
@pytest.mark.parametrize("image", ["ghcr.io/example/app:latest", "ghcr.io/example/app", "redis", "localhost:5000/app"])
def test_image_tag(image):
    # a digest pins the image whatever the tag says
    assert_only("k8s-image-tag", workload(containers=[container(image=image)]),
                workload(containers=[container(image=image + "@sha256:" + "a" * 64)]),
                {"k8s-image-registry": {"allowedRegistries": ["ghcr.io", "docker.io", "localhost:5000"]}})


@covers("k8s-image-registry")
@pytest.mark.parametrize("image", ["quay.io/example/app:1.0", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0",
                                   "gcr.io/example/app:1.0"])
def test_image_registry(image):
    assert_only("k8s-image-registry", workload(containers=[container(image=image)]), workload())
    allowed = {"k8s-image-registry": {"allowedRegistries": ["quay.io", "*.dkr.ecr.us-east-1.amazonaws.com", "gcr.io"]}}
    assert reported([workload(containers=[container(image=image)])], allowed) == set()


@pytest.mark.parametrize("image", [
    "public.ecr.aws/neuron/neuron-device-plugin:2.29.149.0", "docker.io/library/redis:8.2.2", "redis:8.2.2",
    "registry.k8s.io/pause:3.10", "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/aws-ebs-csi-driver:v1.40.0",
    "index.docker.io/library/postgres:17.6",
])
def test_default_registries(image):
    assert reported([workload(containers=[container(image=image)])]) == set()


@covers("k8s-env-secrets")
@pytest.mark.parametrize("env", [
    {"name": "HF_TOKEN", "value": "hf_abc"},
    {"name": "DATABASE_URL", "value": "postgresql://u:p@db/app"},
    {"name": "LITELLM_MASTER_KEY", "value": "sk-1234"},
    {"name": "REDIS_AUTH", "value": "s3cret"},
    {"name": "db_password", "value": "x"},
    {"name": "WEBUI_SECRET_KEY", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}},
    {"name": "ENCRYPTION_KEY", "value": UNKNOWN_STRING_VALUE},  # a computed literal, unknown in preview
])
def test_env_secrets(env):
    twin_env = {"name": env["name"], "valueFrom": {"secretKeyRef": {"name": "app", "key": "k"}}}
    assert_only("k8s-env-secrets", workload(containers=[container(env=[env])]),
                workload(containers=[container(env=[twin_env, {"name": "REDIS_HOST", "value": "redis"}])]))


def test_env_secrets_allowlist_of_non_secret_names():
    tokenizers = workload(containers=[container(env=[{"name": "TOKENIZERS_PARALLELISM", "value": "false"}])])
    assert rules_of(reported([tokenizers])) == {"k8s-env-secrets"}
    assert reported([tokenizers], {"k8s-env-secrets": {"nonSecretEnvNames": ["TOKENIZERS_PARALLELISM"]}}) == set()


NEURON_TOLERATION = {"key": "aws.amazon.com/neuron", "operator": "Exists", "effect": "NoSchedule"}


def neuron_container(resource: str = "aws.amazon.com/neuroncore") -> dict:
    c = container()
    c["resources"]["requests"][resource] = 2
    c["resources"]["limits"][resource] = 2
    return c


@covers("k8s-neuron-toleration")
@pytest.mark.parametrize("resource", ["aws.amazon.com/neuroncore", "aws.amazon.com/neuron"])
def test_neuron_requests_tolerate_the_taint(resource):
    twins = [
        workload(containers=[neuron_container(resource)], tolerations=[NEURON_TOLERATION]),
        workload(containers=[neuron_container(resource)],
                 tolerations=[{"key": "aws.amazon.com/neuron", "operator": "Equal", "value": "true"}]),
    ]
    broken = [
        workload(containers=[neuron_container(resource)]),
        workload(containers=[neuron_container(resource)],
                 tolerations=[{**NEURON_TOLERATION, "effect": "NoExecute"}]),
        workload(containers=[neuron_container(resource)],
                 tolerations=[{"key": "aws.amazon.com/neuron", "operator": "Equal", "value": "false"}]),
    ]
    for twin in twins:
        for b in broken:
            assert_only("k8s-neuron-toleration", b, twin)


@covers("k8s-neuron-toleration-requests-cores")
@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "Job"])
def test_neuron_tolerations_request_cores(kind):
    assert_only("k8s-neuron-toleration-requests-cores",
                workload(kind, tolerations=[NEURON_TOLERATION]),
                workload(kind, containers=[neuron_container()], tolerations=[NEURON_TOLERATION]))
    # tolerating everything counts as tolerating the Neuron taint
    assert rules_of(reported([workload(kind, tolerations=[{"operator": "Exists"}])])) == {
        "k8s-neuron-toleration-requests-cores"}


def test_daemonsets_may_tolerate_neuron_without_requesting_it():
    assert reported([workload("DaemonSet", tolerations=[NEURON_TOLERATION])]) == set()


SERVICE = "kubernetes:core/v1:Service"


def service(service_type: str, annotations: Optional[dict] = None) -> ResourceRecord:
    metadata = {"name": "web", "namespace": "genai", **({"annotations": annotations} if annotations else {})}
    spec = {"type": service_type, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
    return record(SERVICE, f"web-{service_type}-{len(annotations or {})}",
                  {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec})


@covers("k8s-no-public-load-balancer")
@pytest.mark.parametrize("twin", [
    service("LoadBalancer", {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}),
    service("LoadBalancer", {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}),
    service("ClusterIP"),
])
def test_no_public_load_balancer(twin):
    assert_only("k8s-no-public-load-balancer", service("LoadBalancer"), twin)
    assert rules_of(reported([service("LoadBalancer", {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})])) == {"k8s-no-public-load-balancer"}


NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def namespace(name: str = "team") -> ResourceRecord:
    return record(NAMESPACE, f"ns-{name}", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def network_policy(ns: str = "team", name: str = "default-deny", dependencies: Iterable[str] = (), **spec) -> ResourceRecord:
    body = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], **spec}
    return record(NETWORK_POLICY, f"{ns}-{name}", {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                                   "metadata": {"name": name, "namespace": ns}, "spec": body},
                  dependencies=dependencies)


@covers("k8s-namespace-default-deny")
@pytest.mark.parametrize("policies", [
    [],
    [network_policy(ns="other")],
    [network_policy(name="ingress-only", policyTypes=["Ingress"])],
    [network_policy(name="some-pods", podSelector={"matchLabels": {"app": "web"}})],
    [network_policy(name="allows-ingress", ingress=[{"from": [{"podSelector": {}}]}])],
    [network_policy(name="allows-egress", egress=[{}])],
])
def test_namespace_default_deny(policies):
    ns = namespace()
    assert reported([ns, *policies]) == {("k8s-namespace-default-deny", ns.urn)}
    allow_web = network_policy(name="allow-web", podSelector={"matchLabels": {"app": "web"}}, ingress=[{}],
                               policyTypes=["Ingress"])
    assert reported([ns, network_policy(), allow_web, *policies]) == set()


def test_namespace_default_deny_matched_through_dependencies_in_preview(dev, dev_reported):
    ns = find(dev.resources, NAMESPACE)
    deny = [r for r in dev.resources if r.type == NETWORK_POLICY and r.inputs["metadata"]["name"] == "default-deny-all"]
    assert len(deny) == 1 and ns.urn in deny[0].dependencies
    records, _ = variant(dev, NETWORK_POLICY, deny[0].name, set_in(("metadata", "namespace"), UNKNOWN_STRING_VALUE, key="both"))
    assert only_new(dev_reported, records) == set()
    # the program's genai namespace has its default-deny policy
    assert_untouched(dev_reported, "k8s-namespace-default-deny", ns.urn)


# --- a real workload of the dev run, broken ------------------------------------------------


@pytest.mark.parametrize("rule, change", [
    ("k8s-container-probes", lambda c: c.pop("livenessProbe")),
    ("k8s-container-resources", lambda c: c["resources"].pop("limits")),
    ("k8s-image-tag", lambda c: c.update(image=c["image"].rsplit(":", 1)[0])),
    ("k8s-env-secrets", lambda c: c.setdefault("env", []).append({"name": "OPENAI_API_KEY", "value": "sk-live"})),
])
def test_real_workload_variants(dev, dev_reported, rule, change):
    deployments = dev.of_type("kubernetes:apps/v1:Deployment")
    if not deployments:
        pytest.skip("the program creates no Deployment yet")
    name = deployments[0].name

    def edit(record: ResourceRecord) -> None:
        change(record.inputs["spec"]["template"]["spec"]["containers"][0])

    records, urn = variant(dev, "kubernetes:apps/v1:Deployment", name, edit)
    assert only_new(dev_reported, records) == {(rule, urn)}
    assert_untouched(dev_reported, rule, urn)


# --- bookkeeping ---------------------------------------------------------------------------


def test_every_rule_is_covered():
    assert COVERED == {p.name for p in pack.policies()}

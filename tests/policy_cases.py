"""Shared builders for the policy pack's rule tests (tests/test_policies_*.py, one file a rule area).

Each rule gets a minimally broken variant that EXACTLY that rule reports, and a passing twin.
Variants come from the real dev run (one record copied and changed: the rest of the stack stays
as the program built it: ``variant``), from a settings override where settings allow the mistake,
or from hand-made records (``record``, ``workload``) that pass every rule until one thing changes.

``covers`` marks a test as the broken/passing pair of its rules; ``covered_rules()`` imports every
module of ``RULE_TEST_MODULES`` and returns what they cover (``test_policies_rule_coverage.py``
keeps the files in step with the pack).  Import this module as ``policy_cases`` (``tests`` is on
``pythonpath``), never as ``tests.policy_cases``: a second copy would have its own ``COVERED``.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any, Callable, Iterable, Optional

from policies.offline import evaluate
from tools.offline.records import ResourceRecord

# The test modules whose @covers count towards "every rule has a broken variant"
RULE_TEST_MODULES = (
    "test_policies_eks_nodes", "test_policies_iam_s3", "test_policies_kubernetes", "test_policies_neuron_zones",
    "test_policies_front_door", "test_policies_bedrock",
)

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


def covered_rules() -> set[str]:
    """Every rule some test of RULE_TEST_MODULES covers (imports them, whatever pytest collected)."""
    for name in RULE_TEST_MODULES:
        importlib.import_module(name)
    return set(COVERED)


# --- variants of the real dev run (fixtures `dev`, `dev_reported`: tests/conftest.py) -------


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


def assert_variant_reports(dev, dev_reported, rule: str, type_: str, name_contains: str,
                           change: Callable[[ResourceRecord], Any]) -> str:
    """The broken variant (one dev record changed) reports exactly `rule` on that record, and the
    passing twin (the program's own record) does not; returns the record's urn."""
    records, urn = variant(dev, type_, name_contains, change)
    assert only_new(dev_reported, records) == {(rule, urn)}
    assert_untouched(dev_reported, rule, urn)
    return urn


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


# --- hand-made records (pass every rule until one thing changes) ---------------------------

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


def assert_only(rule: str, broken: ResourceRecord, twin: ResourceRecord, config: Optional[dict] = None) -> None:
    """`broken` alone reports exactly `rule`; its `twin` alone reports nothing."""
    assert reported([broken], config) == {(rule, broken.urn)}
    assert reported([twin], config) == set()

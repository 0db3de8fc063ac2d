"""The monthly cost estimate: the price table, the dev stack by hand, overrides, caveats."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components import catalog
from components.settings import load_stack_settings
from tools.cost import HOURS_PER_MONTH, PriceTable, estimate, gib, read_prices
from tools.offline.records import ResourceRecord, StackRun

STACK_URN = "urn:pulumi:t::genai-platform::pulumi:pulumi:Stack::genai-platform-t"


def by_key(cost, key: str) -> float:
    return sum(line.monthly for line in cost.lines if line.key == key)


@pytest.fixture(scope="module")
def dev_cost(stack_runs):
    return estimate(stack_runs["dev"], region="us-east-1")


def test_price_table_lines_have_source_date_and_unit():
    prices = read_prices()
    keys = [(p.key, p.region) for p in prices]
    assert len(keys) == len(set(keys)), "one line per price"
    for price in prices:
        assert price.region == "us-east-1"
        assert price.unit in ("hour", "GB-month", "month")
        assert price.usd > 0 and price.source.strip()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.date), price
    table = {p.key: p for p in prices}
    for name in catalog.NEURON_INSTANCES:  # every Neuron type can be priced: the team reference, or flagged
        assert "components.md" in table[name].source or "UNVERIFIED" in table[name].source, table[name]
    assert table["eks-control-plane"].usd == 0.10 and table["nat-gateway"].usd == 0.045
    assert table["ebs-gp3"].usd == 0.08 and table["kms-key"].usd == 1.00
    assert HOURS_PER_MONTH == 730


def test_dev_stack_by_hand(dev_cost):
    # Pulumi.dev.yaml: 2 x m6i.xlarge system nodes (50 GiB root), 1 x inf2.xlarge (200 GiB root),
    # one NAT gateway (with its public IPv4 address), one KMS key, one EKS control plane
    assert by_key(dev_cost, "eks-control-plane") == pytest.approx(730 * 0.10 * 1)
    assert by_key(dev_cost, "m6i.xlarge") == pytest.approx(730 * 0.192 * 2)
    assert by_key(dev_cost, "inf2.xlarge") == pytest.approx(730 * 0.758 * 1)
    assert by_key(dev_cost, "nat-gateway") == pytest.approx(730 * 0.045 * 1)
    assert by_key(dev_cost, "public-ipv4") == pytest.approx(730 * 0.005 * 1)
    assert by_key(dev_cost, "kms-key") == pytest.approx(1.00 * 1)
    roots = [line for line in dev_cost.lines if "root volumes" in line.item]
    assert sum(line.monthly for line in roots) == pytest.approx((2 * 50 + 1 * 200) * 0.08)
    assert dev_cost.by_component()["NeuronNodeGroup genai-dev-neuron"] == pytest.approx(730 * 0.758 * 1 + 200 * 0.08)
    assert dev_cost.by_component()["Network genai-dev"] == pytest.approx(730 * 0.045 + 730 * 0.005)
    assert dev_cost.by_component()["Cluster genai-dev"] == pytest.approx(
        730 * 0.10 + 1.00 + 730 * 0.192 * 2 + 2 * 50 * 0.08)


def test_dev_stack_app_storage_and_buckets(dev_cost, stack_runs):
    # data volumes: every PVC, and every StatefulSet claim template x replicas, at gp3 (the default class)
    run = stack_runs["dev"]
    # (the shared model cache's claim binds an EFS volume: priced as EFS, tests/test_scaling_cost.py)
    efs = {v.inputs["metadata"]["name"] for v in run.of_type("kubernetes:core/v1:PersistentVolume")
           if v.inputs["spec"]["csi"]["driver"] == "efs.csi.aws.com"}
    claimed = sum(gib(p.inputs["spec"]["resources"]["requests"]["storage"])
                  for p in run.of_type("kubernetes:core/v1:PersistentVolumeClaim")
                  if p.inputs["spec"].get("volumeName") not in efs)
    for sts in run.of_type("kubernetes:apps/v1:StatefulSet"):
        for template in sts.inputs["spec"].get("volumeClaimTemplates", []):
            claimed += sts.inputs["spec"].get("replicas", 1) * gib(template["spec"]["resources"]["requests"]["storage"])
    # (a Helm release's volumes, priced from its values, are checked in tests/test_monitoring.py)
    volumes = [line for line in dev_cost.lines if line.key == "ebs-gp3" and "root volumes" not in line.item
               and not line.item.startswith("Helm release")]
    assert sum(line.monthly for line in volumes) == pytest.approx(claimed * 0.08)
    buckets = len(run.of_type("aws:s3/bucket:Bucket")) + len(run.of_type("aws:s3/bucketV2:BucketV2"))
    assert by_key(dev_cost, "s3-bucket") == pytest.approx(buckets * 1.15)
    # the agent server's image repository: a nominal 2 GB at the ECR storage price
    assert len(run.of_type("aws:ecr/repository:Repository")) == 1
    assert by_key(dev_cost, "ecr-storage") == pytest.approx(2 * 0.10)
    assert dev_cost.total == pytest.approx(sum(dev_cost.by_component().values()))
    assert dev_cost.assumptions == []


def test_idling_the_neuron_group_saves_its_instances_and_root_volumes(dev_cost, run_with):
    idle = dev_cost.neuron_idle
    assert idle["nodeGroups"] == ["genai-dev-neuron-ng"]
    assert idle["monthlySavings"] == pytest.approx(730 * 0.758 * 1 + 200 * 0.08)
    assert idle["how"] == "set genai-platform:neuron.desiredSize to 0"
    idled = run_with("dev", {"genai-platform:neuron": {"instanceTypes": ["inf2.xlarge"], "minSize": 0, "maxSize": 2,
                                                       "desiredSize": 0}})
    assert estimate(idled, region="us-east-1").total == pytest.approx(idle["monthlyTotalWhenIdle"], abs=0.01)


def test_overrides_replace_table_prices(stack_runs):
    cost = estimate(stack_runs["dev"], region="us-east-1", overrides={"inf2.xlarge": 0.5, "ebs-gp3": 0.1, "typo": 1})
    line = next(line for line in cost.lines if line.key == "inf2.xlarge")
    assert line.monthly == pytest.approx(730 * 0.5 * 1)
    assert line.source == "stack config genai-platform:pricing"
    assert by_key(cost, "ebs-gp3") > 0 and all(line.usd == 0.1 for line in cost.lines if line.key == "ebs-gp3")
    assert any("pricing.typo matches no priced item" in a for a in cost.assumptions)


def test_stack_pricing_setting_is_a_price_override(tmp_path, project_dir):
    text = (project_dir / "Pulumi.dev.yaml").read_text() + "  genai-platform:pricing:\n    inf2.xlarge: 0.5\n"
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    assert load_stack_settings("dev", tmp_path).pricing == {"inf2.xlarge": 0.5}


def test_region_without_prices_uses_us_east_1_and_says_so(stack_runs, dev_cost):
    cost = estimate(stack_runs["dev"], region="eu-west-1")
    assert cost.total == pytest.approx(dev_cost.total)
    assert "no eu-west-1 price for 'inf2.xlarge': used the us-east-1 price" in cost.assumptions
    assert cost.to_dict()["region"] == "eu-west-1"


# synthetic runs: what the dev stack does not have yet

def record(type_: str, name: str, inputs: dict[str, Any], parent: str = STACK_URN, **extra) -> ResourceRecord:
    return ResourceRecord(urn=f"urn:pulumi:t::genai-platform::{type_}::{name}", type=type_, name=name, parent=parent,
                          custom=True, inputs=inputs, **extra)


def synthetic(*records: ResourceRecord) -> StackRun:
    return StackRun(stack="t", resources=list(records), outputs={}, secret_outputs=set())


def test_node_group_caveats_spot_multiple_types_unknown_type():
    group = record("aws:eks/nodeGroup:NodeGroup", "ng", {
        "instanceTypes": ["c9z.large", "m6i.large"], "capacityType": "SPOT",
        "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 3}, "diskSize": 40,
    })
    cost = estimate(synthetic(group), region="us-east-1")
    text = "\n".join(cost.assumptions)
    assert "priced as c9z.large, the first of c9z.large, m6i.large" in text
    assert "SPOT capacity priced at the on-demand price" in text
    assert "no price for 'c9z.large'" in text
    assert "no launch template" in text
    assert cost.total == pytest.approx(0 + 3 * 40 * 0.08)


def test_load_balancers_claims_and_storage_classes():
    meta = {"namespace": "genai"}
    run = synthetic(
        record("kubernetes:storage.k8s.io/v1:StorageClass", "io2", {
            "metadata": {"name": "fast"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp2"}}),
        record("kubernetes:core/v1:Service", "web", {"metadata": {**meta, "name": "web"}, "spec": {"type": "LoadBalancer"}}),
        record("kubernetes:core/v1:Service", "api", {
            "metadata": {**meta, "name": "api", "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "external"}},
            "spec": {"type": "LoadBalancer"}}),
        record("kubernetes:core/v1:Service", "internal", {"metadata": {**meta, "name": "internal"}, "spec": {"type": "ClusterIP"}}),
        record("kubernetes:core/v1:PersistentVolumeClaim", "pvc", {
            "metadata": meta, "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Ti"}}}}),
        record("kubernetes:apps/v1:StatefulSet", "db", {"metadata": meta, "spec": {"replicas": 3, "volumeClaimTemplates": [
            {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "500Mi"}}}}]}}),
    )
    cost = estimate(run, region="us-east-1")
    assert by_key(cost, "clb") == pytest.approx(730 * 0.025)
    assert by_key(cost, "nlb") == pytest.approx(730 * 0.0225)
    assert by_key(cost, "ebs-gp2") == pytest.approx(1024 * 0.10)
    assert by_key(cost, "ebs-gp3") == pytest.approx(3 * 500 / 1024 * 0.08)
    assert any("db: storage class (none)" in a for a in cost.assumptions)


def test_storage_quantities():
    assert gib("50Gi") == 50 and gib("1Ti") == 1024 and gib("512Mi") == 0.5
    assert gib("10G") == pytest.approx(10e9 / 2**30) and gib(2**30) == 1
    with pytest.raises(ValueError):
        gib("lots")


def test_price_table_rejects_incomplete_lines(tmp_path):
    path = tmp_path / "pricing.csv"
    path.write_text("key,region,usd,unit,source,date\nx,us-east-1,1,hour,,2026-01-01\n")
    with pytest.raises(ValueError, match="source"):
        read_prices(path)
    table = PriceTable([], {"x": 2.0})
    assert table.quote("x", "us-east-1", "hour").usd == 2.0

"""The cost estimate's floor (idle) and ceiling (every model at maxReplicas) match what is rendered,
and the shared cache is priced as EFS, not as a 1 TiB EBS claim."""

from __future__ import annotations

from components.settings import load_stack_settings
from components.settings.scaling_checks import nodes_for
from tools.cost.estimate import estimate
from tools.cost.pricing import HOURS_PER_MONTH, PriceTable

LLAMA = {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "slug": "llama3-2-1b"}


def per_node(run, table: PriceTable) -> float:
    group = run.one("aws:eks/nodeGroup:NodeGroup", "neuron").inputs
    instance = table.quote(group["instanceTypes"][0], "us-east-1", "hour").usd * HOURS_PER_MONTH
    return instance + table.quote("ebs-gp3", "us-east-1", "GB-month").usd * 200  # the 200 GiB root (diskGib)


def test_floor_and_ceiling_follow_the_rendered_replicas(stack_run):
    table = PriceTable.load()
    cost = estimate(stack_run, region="us-east-1", table=table)
    settings = load_stack_settings(stack_run.stack)
    node = settings.neuron.launched_instance[0]
    (group,) = cost.scaling["neuronGroups"]
    floor_nodes = max(settings.neuron.min_size,
                      nodes_for([m.neuron_cores for m in settings.models for _ in range(m.min_replicas)], node.neuron_cores))
    ceiling_nodes = nodes_for([m.neuron_cores for m in settings.models for _ in range(m.max_replicas)], node.neuron_cores)
    assert (group["floorNodes"], group["ceilingNodes"]) == (floor_nodes, ceiling_nodes)
    one = per_node(stack_run, table)
    assert group["monthlyPerNode"] == round(one, 2)
    rendered_nodes = settings.neuron.desired_size
    assert abs(cost.scaling["monthlyFloor"] - (cost.total + (floor_nodes - rendered_nodes) * one)) < 0.02
    assert abs(cost.scaling["monthlyCeiling"] - (cost.total + (ceiling_nodes - rendered_nodes) * one)) < 0.02
    assert cost.scaling["monthlyFloor"] <= cost.scaling["monthlyCeiling"]


def test_scale_to_zero_drops_the_floor_to_no_neuron_node(run_with):
    run = run_with("dev", {"genai-platform:models": [{**LLAMA, "minReplicas": 0, "maxReplicas": 2}],
                           "genai-platform:neuron": {"minSize": 0, "maxSize": 2, "desiredSize": 1}})
    cost = estimate(run, region="us-east-1")
    (group,) = cost.scaling["neuronGroups"]
    assert (group["floorNodes"], group["ceilingNodes"]) == (0, 2)
    neuron = sum(line.monthly for line in cost.lines if "neuron-ng" in line.item)
    assert abs(cost.scaling["monthlyFloor"] - (cost.total - neuron)) < 0.02


def test_without_the_autoscaler_floor_and_ceiling_are_the_fixed_group(run_with):
    run = run_with("dev", {"genai-platform:neuronAutoscaler": {"enabled": False},
                           "genai-platform:models": [{**LLAMA, "maxReplicas": 2}],
                           "genai-platform:neuron": {"minSize": 0, "maxSize": 2, "desiredSize": 2}})
    cost = estimate(run, region="us-east-1")
    assert cost.scaling["autoscaled"] is False
    assert cost.scaling["monthlyFloor"] == cost.scaling["monthlyCeiling"] == round(cost.total, 2)


def test_the_shared_cache_is_priced_as_efs_storage(stack_run):
    cost = estimate(stack_run, region="us-east-1")
    settings = load_stack_settings(stack_run.stack)
    (efs,) = [line for line in cost.lines if line.key == "efs-standard"]
    assert efs.quantity == sum(m.cache_gib for m in settings.models) and efs.usd == 0.30
    # the claim's nominal 1Ti is not priced as an EBS volume
    assert not [line for line in cost.lines if "model-cache" in line.item and line.key.startswith("ebs-")]
    assert cost.to_dict()["scaling"] == cost.scaling


def test_the_preview_prints_the_range_and_the_capacity_at_max(stack_runs):
    from tools.preview.model import make_preview  # noqa: PLC0415

    run = stack_runs["dev"]
    preview = make_preview(run, region="us-east-1", pricing={}, policies=False)
    text, markdown = preview.summary.text(), preview.summary.markdown()
    scaling = estimate(run, region="us-east-1").scaling
    floor, ceiling = f"${scaling['monthlyFloor']:,.2f}", f"${scaling['monthlyCeiling']:,.2f}"
    assert f"floor {floor}/month (idle), ceiling {ceiling}/month" in text
    assert f"floor **{floor}/month** (idle), ceiling **{ceiling}/month**" in markdown
    # dev: one 2-core model, 0-2 replicas, inf2.xlarge, maxSize 2
    assert "model servers request 2, 4 at maxReplicas (maxSize 2 x inf2.xlarge = 4)" in text

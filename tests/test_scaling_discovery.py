"""The Cluster Autoscaler manages the Neuron node group's Auto Scaling group and nothing else.

EKS tags EVERY managed node group's ASG with the chart's default discovery tags (the offline
engine models it), so discovery and the scaling permissions must key on a tag only the stack puts
on the Neuron ASG: the system group must never be scaled, cordoned or drained by the autoscaler.
"""

from __future__ import annotations

import json

from scaling.ca_discovery import managed_groups
from tools.iam_validation.simulate import allows

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCALING_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


def asg_of(run, group: str) -> str:
    return run.one(NODE_GROUP, group).outputs["resources"][0]["autoscalingGroups"][0]["name"]


def autoscaler_values(run) -> dict:
    (release,) = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "cluster-autoscaler"]
    return release.inputs["values"]


def scaling_allowed(run, asg: str) -> bool:
    """IAM lets the autoscaler's role resize and shrink `asg`, given the tags the group really carries."""
    (record,) = [r for r in run.of_type(ROLE_POLICY) if "cluster-autoscaler" in r.name]
    policy = json.loads(record.inputs["policy"])
    context = {f"aws:ResourceTag/{key}": value for key, value in run.asg_tags[asg].items()}
    region = autoscaler_values(run)["awsRegion"]
    arn = f"arn:aws:autoscaling:{region}:123456789012:autoScalingGroup:0f1e2d3c-1111-2222-3333-444455556666:autoScalingGroupName/{asg}"
    results = {allows(policy, action, arn, context) for action in SCALING_ACTIONS}
    assert len(results) == 1, results  # both actions or neither
    return results.pop()


def test_eks_tags_every_managed_groups_asg_for_the_default_discovery(stack_run):
    """The model the other tests rely on: the system group's ASG carries the chart's default tags too."""
    cluster = stack_run.one("aws:eks/cluster:Cluster").inputs["name"]
    system = stack_run.asg_tags[asg_of(stack_run, "system")]
    assert system == {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster}": "owned"}


def test_the_autoscaler_discovers_the_neuron_asg_and_never_the_system_one(stack_run):
    neuron, system = asg_of(stack_run, "neuron"), asg_of(stack_run, "system")
    assert set(stack_run.asg_tags) == {neuron, system}
    assert managed_groups(autoscaler_values(stack_run), stack_run.asg_tags) == {neuron}


def test_iam_lets_the_autoscaler_scale_exactly_the_groups_it_discovers(stack_run):
    managed = managed_groups(autoscaler_values(stack_run), stack_run.asg_tags)
    for asg in stack_run.asg_tags:
        assert scaling_allowed(stack_run, asg) == (asg in managed), asg


def test_another_cluster_in_the_account_is_not_discovered(stack_runs):
    """dev and prod in one account and region: each autoscaler keeps to its own Neuron group."""
    dev, prod = stack_runs["dev"], stack_runs["prod"]
    both = {**dev.asg_tags, **prod.asg_tags}
    assert managed_groups(autoscaler_values(dev), both) == {asg_of(dev, "neuron")}
    assert managed_groups(autoscaler_values(prod), both) == {asg_of(prod, "neuron")}


def test_a_group_of_several_neuron_types_is_still_discovered(run_with):
    """Several instance types stay one managed node group, with one ASG (EKS user guide,
    managed-node-groups: "The Auto Scaling group of a managed node group spans every subnet")."""
    run = run_with("dev", {"genai-platform:neuron": {"instanceTypes": ["inf2.8xlarge", "inf2.xlarge"],
                                                     "minSize": 0, "maxSize": 2, "desiredSize": 0}})
    assert managed_groups(autoscaler_values(run), run.asg_tags) == {asg_of(run, "neuron")}
    assert scaling_allowed(run, asg_of(run, "neuron")) and not scaling_allowed(run, asg_of(run, "system"))

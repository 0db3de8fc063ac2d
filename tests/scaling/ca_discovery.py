"""Which Auto Scaling groups a Cluster Autoscaler installed with given chart values would manage.

Rendering follows the pinned chart (kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0,
templates/deployment.yaml): with cloudProvider aws and `autoDiscovery.clusterName` set it passes
`--node-group-auto-discovery=asg:tag=<autoDiscovery.tags joined by ",", through tpl>` (default
tags: `k8s.io/cluster-autoscaler/enabled`, `k8s.io/cluster-autoscaler/{{ .Values.autoDiscovery.clusterName }}`),
and `--nodes=<min>:<max>:<name>` per `autoscalingGroups` entry.
Matching follows CA 1.35.0 (cloudprovider/aws): parseASGAutoDiscoverySpec splits the tags on ","
and each on the first "=" (no value: the key only); asgCache.buildAsgTags merges every spec's tags
into one map, and getAutoscalingGroupsByTags turns each into a DescribeAutoScalingGroups filter
(`tag:<key>` = value, or `tag-key` = key), all of which a group must match (EC2 Auto Scaling API
reference, Filter: "the filters are automatically logically joined with an AND").
"""

from __future__ import annotations

from typing import Any

CHART_DEFAULT_TAGS = ["k8s.io/cluster-autoscaler/enabled", "k8s.io/cluster-autoscaler/{{ .Values.autoDiscovery.clusterName }}"]


def discovery_args(values: dict[str, Any]) -> list[str]:
    """The node-group arguments the chart renders from `values`."""
    args = [f"--nodes={g['minSize']}:{g['maxSize']}:{g['name']}" for g in values.get("autoscalingGroups") or []]
    discovery = values.get("autoDiscovery") or {}
    if values.get("cloudProvider") == "aws" and discovery.get("clusterName"):
        joined = ",".join(discovery.get("tags", CHART_DEFAULT_TAGS))
        args.append("--node-group-auto-discovery=asg:tag=" + joined.replace("{{ .Values.autoDiscovery.clusterName }}", discovery["clusterName"]))
    for key, value in (values.get("extraArgs") or {}).items():
        if key.split("_")[0] in ("nodes", "node-group-auto-discovery"):
            args.append(f"--{key.split('_')[0]}={value}")
    return args


def managed_groups(values: dict[str, Any], asg_tags: dict[str, dict[str, str]]) -> set[str]:
    """The groups among `asg_tags` (name -> tags) the autoscaler would discover or was given."""
    explicit, wanted = set(), {}
    for arg in discovery_args(values):
        flag, _, value = arg.partition("=")
        if flag == "--nodes":
            explicit.add(value.split(":", 2)[2])
            continue
        kind, _, spec = value.partition(":")
        assert kind == "asg" and spec.startswith("tag="), arg  # CA refuses anything else at start
        for item in spec[len("tag="):].split(","):
            key, _, tag_value = item.partition("=")
            wanted[key] = tag_value
    discovered = {
        name for name, tags in asg_tags.items()
        if wanted and all(key in tags and (not value or tags[key] == value) for key, value in wanted.items())
    }
    return explicit | discovered

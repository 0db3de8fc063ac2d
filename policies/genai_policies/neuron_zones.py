"""Zonal volumes behind a Neuron node group: the group must stay in one availability zone.

An EBS volume lives in one AZ and a ReadWriteOnce claim binds to one. A Neuron group that spans
several AZs and scales from 0 starts its node in any of them; when that is not the volume's AZ the
model server stays Pending ("volume node affinity conflict") for good. So while a workload that
requests Neuron resources mounts a ReadWriteOnce claim, every Neuron node group it can run on must
have its subnets in a single AZ.

The subnets' AZs come from the stack's `aws:ec2/subnet:Subnet` resources: by id, or (first preview,
ids unknown) through the subnets the node group depends on. Subnets the stack does not create (an
existing VPC) have no AZ here; the program resolves those itself (`ec2.get_subnet`).
"""

from __future__ import annotations

from typing import Any, Mapping

from pulumi_policy import EnforcementLevel, PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy

from .common import as_list, dig, is_map, known_or
from .kubernetes.scheduling import requests_neuron
from .kubernetes.workloads import Workload, workload
from .nodes import NODE_GROUP, neuron_instance_types

SUBNET = "aws:ec2/subnet:Subnet"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
SINGLE_NODE_MODES = ("ReadWriteOnce", "ReadWriteOncePod")
# Storage that is not bound to one AZ; anything else (EBS, the EKS default) is treated as zonal
NON_ZONAL_PROVISIONERS = ("efs.csi.aws.com", "fsx.csi.aws.com", "s3.csi.aws.com")

_UNKNOWN = object()


def _known(read) -> Any:
    return known_or(read, _UNKNOWN)


def _zonal_spec(spec: Any, non_zonal_classes: set[str]) -> bool:
    """A claim spec that binds one node's zonal volume."""
    modes = _known(lambda: [str(m) for m in as_list(dig(spec, "accessModes"))])
    if modes is _UNKNOWN:
        return True  # unknown during preview: assume the single-node mode this program uses
    storage_class = _known(lambda: dig(spec, "storageClassName"))
    return any(m in SINGLE_NODE_MODES for m in modes) and storage_class not in non_zonal_classes


def _zonal_claims(wl: Workload, resource: PolicyResource, claims: Mapping[tuple[str, str], Any],
                  non_zonal_classes: set[str]) -> list[str]:
    """Names of the zonal ReadWriteOnce claims the workload's pods mount."""
    found = []
    for volume in as_list(wl.pod_spec.get("volumes")):
        name = _known(lambda v=volume: dig(v, "persistentVolumeClaim", "claimName"))
        if isinstance(name, str) and (wl.namespace, name) in claims:
            if _zonal_spec(claims[(wl.namespace, name)], non_zonal_classes):
                found.append(name)
    if resource.resource_type == STATEFUL_SET:
        for template in as_list(_known(lambda: dig(resource.props, "spec", "volumeClaimTemplates"))):
            if is_map(template) and _zonal_spec(template.get("spec"), non_zonal_classes):
                found.append(str(_known(lambda t=template: dig(t, "metadata", "name", default="?"))))
    return found


def _runs_on(wl: Workload, group: PolicyResource) -> bool:
    """The workload's nodeSelector (if any) matches the group's labels."""
    selector = _known(lambda: wl.pod_spec.get("nodeSelector"))
    if not is_map(selector) or not selector:
        return True
    labels = _known(lambda: group.props.get("labels"))
    if not is_map(labels):
        return True
    return all(_known(lambda k=k: labels.get(k)) == _known(lambda k=k: selector.get(k)) for k in selector)


def group_zones(group: PolicyResource, subnets: list[PolicyResource]) -> set[str]:
    """The AZs of the group's subnets that this stack creates."""
    zone_by_id = {}
    for subnet in subnets:
        subnet_id, zone = _known(lambda s=subnet: s.props.get("id")), _known(lambda s=subnet: s.props.get("availabilityZone"))
        if isinstance(subnet_id, str) and isinstance(zone, str):
            zone_by_id[subnet_id] = zone
    ids = _known(lambda: [str(i) for i in as_list(group.props.get("subnetIds"))])
    if ids is not _UNKNOWN:
        return {zone_by_id[i] for i in ids if i in zone_by_id}
    # Preview: the ids are not known yet; the subnets the group depends on are its subnets
    deps = group.property_dependencies.get("subnetIds") or group.dependencies
    zones = (_known(lambda d=d: d.props.get("availabilityZone")) for d in deps if d.resource_type == SUBNET)
    return {z for z in zones if isinstance(z, str)}


def _single_zone_neuron_groups(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = list(args.resources)
    groups = [r for r in resources if r.resource_type == NODE_GROUP and neuron_instance_types(r.props)]
    if not groups:
        return
    subnets = [r for r in resources if r.resource_type == SUBNET]
    non_zonal = {str(_known(lambda r=r: dig(r.props, "metadata", "name"))) for r in resources
                 if r.resource_type == STORAGE_CLASS and _known(lambda r=r: r.props.get("provisioner")) in NON_ZONAL_PROVISIONERS}
    claims = {}
    for r in resources:
        if r.resource_type == CLAIM:
            key = (str(_known(lambda r=r: dig(r.props, "metadata", "namespace", default="default"))),
                   str(_known(lambda r=r: dig(r.props, "metadata", "name"))))
            claims[key] = _known(lambda r=r: r.props.get("spec"))
    for resource in resources:
        wl = workload(resource)
        if wl is None or not requests_neuron(wl):
            continue
        zonal = _zonal_claims(wl, resource, claims, non_zonal)
        if not zonal:
            continue
        for group in groups:
            zones = group_zones(group, subnets)
            if len(zones) > 1 and _runs_on(wl, group):
                report_violation(
                    f"Neuron node group {group.name} spans availability zones {', '.join(sorted(zones))} while "
                    f"{wl.label} (requests Neuron cores) mounts ReadWriteOnce claim(s) {', '.join(zonal)}: an EBS "
                    "volume lives in one AZ, so a node started in another AZ leaves the pod Pending (volume node "
                    "affinity conflict). Give the group the subnets of one AZ (genai-platform:neuron.availabilityZone).",
                    group.urn,
                )


def policies() -> list:
    """The Neuron zone rule."""
    return [
        StackValidationPolicy(
            name="neuron-group-single-zone-for-zonal-volumes",
            description="A Neuron node group whose model servers mount ReadWriteOnce (zonal EBS) claims has "
                        "subnets in one availability zone.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_single_zone_neuron_groups,
        ),
    ]

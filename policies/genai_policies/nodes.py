"""Node group rules: launch templates with IMDSv2, Neuron node groups on the Neuron AMI, tainted.

A node group names its launch template by id, an output of the template: whether "its template
requires IMDSv2" can only be answered with both resources at hand, so that part is a stack
policy. It matches the node group's `launchTemplate.id`/`name` against the templates' outputs
and, while those are unknown (first preview), falls back to the template the node group depends
on.
"""

from __future__ import annotations

from typing import Any, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import as_list, dig, has_key, is_map, known_or

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

NEURON_FAMILIES = ("inf2", "trn1", "trn1n", "trn2")
NEURON_AMI_TYPE = "AL2023_x86_64_NEURON"
NEURON_TAINT_KEY = "aws.amazon.com/neuron"
NEURON_TAINT_EFFECT = "NO_SCHEDULE"

_UNKNOWN = object()


def _imdsv2_required(template_props: Any) -> bool:
    return dig(template_props, "metadataOptions", "httpTokens") == "required"


def _launch_template_imdsv2(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LAUNCH_TEMPLATE:
        return
    if not _imdsv2_required(args.props):
        tokens = dig(args.props, "metadataOptions", "httpTokens", default="optional (EC2 default)")
        report_violation(
            f"metadataOptions.httpTokens is {tokens!r}: set it to 'required' (IMDSv2 only) so that a "
            "compromised pod cannot read the node's credentials through IMDSv1."
        )


def _node_group_launch_template(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != NODE_GROUP:
        return
    template = args.props.get("launchTemplate")
    if not (is_map(template) and (has_key(template, "id") or has_key(template, "name"))):
        report_violation(
            "The node group has no launchTemplate: EKS then launches nodes with its default template, "
            "whose IMDS settings this program does not control. Give it a launch template (IMDSv2 required)."
        )


def neuron_instance_types(props: Any) -> list[str]:
    """The node group's Neuron (inf2/trn1/trn1n/trn2) instance types."""
    types = [str(t) for t in as_list(props.get("instanceTypes"))]
    return [t for t in types if t.split(".", 1)[0] in NEURON_FAMILIES]


def _neuron_ami(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != NODE_GROUP:
        return
    neuron = neuron_instance_types(args.props)
    ami_type = args.props.get("amiType")
    if neuron and ami_type != NEURON_AMI_TYPE:
        report_violation(
            f"Neuron instance types {neuron} run amiType {ami_type!r}: use {NEURON_AMI_TYPE} "
            "(ships the Neuron driver)."
        )


def _neuron_taint(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != NODE_GROUP:
        return
    neuron = neuron_instance_types(args.props)
    if not neuron:
        return
    taints = [t for t in as_list(args.props.get("taints")) if is_map(t)]
    if not any(t.get("key") == NEURON_TAINT_KEY and t.get("effect") == NEURON_TAINT_EFFECT for t in taints):
        report_violation(
            f"Neuron node group ({', '.join(neuron)}) lacks the taint {NEURON_TAINT_KEY}=true:{NEURON_TAINT_EFFECT}: "
            "without it any pod may land on (and hold) the accelerator nodes."
        )


def _resolve_template(group: PolicyResource, templates: list[PolicyResource]) -> Optional[PolicyResource]:
    """The stack's launch template that `group` uses, or None if it is not one of this stack's."""
    reference = group.props.get("launchTemplate")
    for key in ("id", "name"):
        wanted = known_or(lambda k=key: reference.get(k), _UNKNOWN)
        if isinstance(wanted, str) and wanted:
            for template in templates:
                if known_or(lambda t=template, k=key: t.props.get(k), _UNKNOWN) == wanted:
                    return template
            return None
        if wanted is _UNKNOWN:
            # Preview: the id is not known yet; the template the group depends on is the one
            candidates = group.property_dependencies.get("launchTemplate") or group.dependencies
            found = [d for d in candidates if d.resource_type == LAUNCH_TEMPLATE]
            return found[0] if len(found) == 1 else None
    return None


def _node_group_template_imdsv2(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    templates = [r for r in args.resources if r.resource_type == LAUNCH_TEMPLATE]
    for group in args.resources:
        if group.resource_type != NODE_GROUP:
            continue
        reference = group.props.get("launchTemplate")
        if not (is_map(reference) and (has_key(reference, "id") or has_key(reference, "name"))):
            continue  # node-group-launch-template reports this
        template = _resolve_template(group, templates)
        if template is None:
            shown = {
                k: known_or(lambda r=reference, k=k: r.get(k), "<unknown>") for k in ("id", "name") if has_key(reference, k)
            }
            report_violation(
                f"Node group {group.name} uses launch template {shown}, which this stack does not create: "
                "its IMDSv2 setting cannot be verified. Use a launch template defined in the program.",
                group.urn,
            )
        elif not _imdsv2_required(template.props):
            report_violation(
                f"Node group {group.name} uses launch template {template.name}, which does not require IMDSv2 "
                "(metadataOptions.httpTokens != 'required').",
                group.urn,
            )


def policies() -> list:
    """The node group rules."""
    return [
        ResourceValidationPolicy(
            name="launch-template-imdsv2",
            description="Launch templates require IMDSv2 (metadataOptions.httpTokens = required).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_launch_template_imdsv2,
        ),
        ResourceValidationPolicy(
            name="node-group-launch-template",
            description="Every EKS managed node group uses a launch template.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_node_group_launch_template,
        ),
        StackValidationPolicy(
            name="node-group-template-imdsv2",
            description="Every node group's launch template is one of this stack's and requires IMDSv2.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_node_group_template_imdsv2,
        ),
        ResourceValidationPolicy(
            name="neuron-node-group-ami",
            description=f"Neuron node groups (inf2/trn1/trn1n/trn2) use amiType {NEURON_AMI_TYPE}.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_neuron_ami,
        ),
        ResourceValidationPolicy(
            name="neuron-node-group-taint",
            description=f"Neuron node groups carry the taint {NEURON_TAINT_KEY} with effect {NEURON_TAINT_EFFECT}.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_neuron_taint,
        ),
    ]

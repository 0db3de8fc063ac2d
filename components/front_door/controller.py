"""AWS Load Balancer Controller: a pinned Helm release and its Pod Identity role.

The chart and the controller are released together: chart `aws-load-balancer-controller` 3.5.0
has appVersion v3.5.0 and image public.ecr.aws/eks/aws-load-balancer-controller:v3.5.0
(helm/aws-load-balancer-controller/Chart.yaml and values.yaml at tag v3.5.0 of
kubernetes-sigs/aws-load-balancer-controller; the tag is of 2026-08-03, and aws/eks-charts merged the
chart sync "aws-load-balancer-controller: v3.5.0" the same day (PR #1354), the chart the
https://aws.github.io/eks-charts index serves; the index file itself was not read). The role's policy is the controller's published
IAM policy for that version, kept verbatim in files/ (see files/README.md).

Offline (preview, tests) the release is one `helm.sh/v3:Release` resource: the chart's own
objects (Deployment, webhook, RBAC, CRDs) are rendered by Helm at `pulumi up` and are not visible
to the preview, the policy pack or the NetworkPolicy tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import pulumi
from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs

from components.pod_identity import PodIdentityRole

CHART = "aws-load-balancer-controller"
CHART_VERSION = "3.5.0"
CONTROLLER_VERSION = "v3.5.0"
CHART_REPOSITORY = "https://aws.github.io/eks-charts"
IMAGE = f"public.ecr.aws/eks/aws-load-balancer-controller:{CONTROLLER_VERSION}"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
FILES = Path(__file__).parent / "files"
POLICY_FILES = {
    "aws": f"aws-load-balancer-controller-{CONTROLLER_VERSION}-iam-policy.json",
    "aws-cn": f"aws-load-balancer-controller-{CONTROLLER_VERSION}-iam-policy-cn.json",
}


def controller_policy(partition: str) -> dict[str, Any]:
    """The published IAM policy of the pinned controller version for `partition`."""
    if partition not in POLICY_FILES:
        raise ValueError(f"the controller publishes no IAM policy for partition {partition!r}")
    return json.loads((FILES / POLICY_FILES[partition]).read_text())


def controller_values(cluster_name: pulumi.Input[str], region: str, vpc_id: pulumi.Input[str], replicas: int,
                      tags: dict[str, str]) -> dict[str, Any]:
    """Chart values (keys of helm/aws-load-balancer-controller/values.yaml at v3.5.0)."""
    return {
        "clusterName": cluster_name,
        # Region and VPC given: the controller need not ask the instance metadata service (IMDS hop limit)
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": replicas,
        "image": {"repository": IMAGE.rsplit(":", 1)[0], "tag": CONTROLLER_VERSION},
        # The name the Pod Identity association binds; no IRSA annotation (Pod Identity needs none)
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        # The program owns the IngressClass and its IngressClassParams (components/front_door/routes.py)
        "createIngressClassResource": False,
        "ingressClassParams": {"create": False},
        # Pods are VPC-CNI addresses: IP targets; the NetworkPolicies admit the ALB's subnets
        "defaultTargetType": "ip",
        # Only the program's Ingresses make load balancers: Services of type LoadBalancer are not
        # turned into NLBs behind the user's back (the policy pack also refuses public ones)
        "enableServiceMutatorWebhook": False,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "podDisruptionBudget": {"maxUnavailable": 1} if replicas > 1 else {},
        "defaultTags": tags,
    }


class LoadBalancerController(pulumi.ComponentResource):
    """The controller's Helm release in kube-system and the role its service account assumes."""

    release_status: pulumi.Output[Any]
    """The Helm release's status (name, revision, chart version)."""

    def __init__(self, name: str, *, cluster_name: pulumi.Input[str], region: str, partition: str,
                 vpc_id: pulumi.Input[str], account_id: pulumi.Input[str], replicas: int, tags: dict[str, str],
                 provider: pulumi.ProviderResource, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:front_door:LoadBalancerController", name, {}, opts)
        role = PodIdentityRole(
            name, parent=self, cluster_name=cluster_name, account_id=account_id, tags=tags,
            policy=json.dumps(controller_policy(partition)),
            service_accounts=[(NAMESPACE, SERVICE_ACCOUNT)],
        )
        release = Release(
            f"{name}-release",
            name=CHART,
            chart=CHART,
            version=CHART_VERSION,
            repository_opts=RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=NAMESPACE,
            values=controller_values(cluster_name, region, vpc_id, replicas, tags),
            # Wait for the controller's webhook to answer before Ingresses are created
            atomic=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=role.associations),
        )
        self.release = release
        self.release_status = release.status
        self.register_outputs({"release_status": self.release_status})

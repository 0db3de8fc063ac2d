"""Monthly on-demand cost of what a stack run registers, per component.

Counted: EKS control planes, node groups at their desired size (first instance type) and
their root volumes (from the launch template), NAT gateways and their public IPv4 addresses,
KMS keys, S3 buckets and ECR repositories (nominal), EBS volumes claimed by PersistentVolumeClaims and StatefulSet
volumeClaimTemplates (x replicas), and load balancers (Services of type LoadBalancer, ALB
Ingresses, aws:lb load balancers). Usage-based charges (data processing, requests, Bedrock
tokens, logs) are not included.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from components import catalog
from tools.cost.lines import NOTES, CostEstimate, CostLine, gib
from tools.cost.observability import add_helm_releases, add_log_groups
from tools.cost.pricing import HOURS_PER_MONTH, PriceTable, Quote
from tools.cost.scaling_range import scaling_range
from tools.offline.records import ResourceRecord, StackRun

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
EBS_CSI = ("ebs.csi.aws.com", "kubernetes.io/aws-ebs")
# The agent server's repository keeps its newest 10 builds (components/apps/agent_image.py); a build
# is about 0.2 GB compressed per platform and builds share their base layers
ECR_NOMINAL_GIB = 2.0
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
# The stored GiB a file system is priced for (the program tags the shared model cache with it)
EXPECTED_GIB_TAG = "genai-platform/expected-gib"
AL2023_ROOT_GIB = 20  # EKS managed node default disk size without a launch template
class _Pricer:
    """Walks the records once; each `add_*` appends priced lines."""

    def __init__(self, run: StackRun, region: str, table: PriceTable) -> None:
        self.run, self.region, self.table = run, region, table
        self.by_urn = {r.urn: r for r in run.resources}
        self.lines: list[CostLine] = []
        self.assumptions: list[str] = []
        self.per_node: dict[str, float] = {}  # node group urn -> monthly cost of one node and its root volumes

    # helpers

    def component(self, record: ResourceRecord) -> str:
        """`<Type> <name>` of the top-level component (child of the stack) holding `record`."""
        top = record
        while top.parent in self.by_urn:
            top = self.by_urn[top.parent]
        if top is record and record.custom:
            return "(stack)"
        return f"{top.type.rsplit(':', 1)[-1]} {top.name}"

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def price(self, key: str, unit: str) -> Quote:
        quote = self.table.quote(key, self.region, unit)
        if quote.assumption:
            self.assume(quote.assumption)
        return quote

    def add(self, record: ResourceRecord, item: str, key: str, unit: str, count: float) -> CostLine:
        quote = self.price(key, unit)
        line = CostLine(self.component(record), item, record.urn, key, count * quote.monthly_factor,
                        quote.unit, quote.usd, quote.source)
        self.lines.append(line)
        return line

    def of_type(self, *types: str) -> list[ResourceRecord]:
        return [r for r in self.run.resources if r.type in types]

    # AWS resources

    def add_control_planes(self) -> None:
        for record in self.of_type("aws:eks/cluster:Cluster"):
            self.add(record, f"EKS control plane {record.inputs.get('name') or record.name}", "eks-control-plane", "hour", 1)

    def add_node_groups(self) -> list[tuple[ResourceRecord, list[CostLine]]]:
        groups = []
        for record in self.of_type(NODE_GROUP):
            inputs = record.inputs
            types = list(inputs.get("instanceTypes") or ["t3.medium"])
            size = int((inputs.get("scalingConfig") or {}).get("desiredSize", 0))
            capacity = inputs.get("capacityType") or "ON_DEMAND"
            if len(types) > 1:
                self.assume(f"{record.name}: priced as {types[0]}, the first of {', '.join(types)}")
            if capacity == "SPOT":
                self.assume(f"{record.name}: SPOT capacity priced at the on-demand price (an upper bound)")
            lines = [self.add(record, f"{record.name}: {size} x {types[0]} ({capacity})", types[0], "hour", size)]
            self.per_node[record.urn] = self.price(types[0], "hour").usd * HOURS_PER_MONTH
            for volume_type, size_gib in self._root_volumes(record):
                lines.append(self.add(record, f"{record.name}: root volumes {size} x {size_gib:g} GiB {volume_type}",
                                      f"ebs-{volume_type}", "GB-month", size * size_gib))
                self.per_node[record.urn] += self.price(f"ebs-{volume_type}", "GB-month").usd * size_gib
            groups.append((record, lines))
        return groups

    def _root_volumes(self, group: ResourceRecord) -> list[tuple[str, float]]:
        template_id = (group.inputs.get("launchTemplate") or {}).get("id")
        templates = [t for t in self.of_type(LAUNCH_TEMPLATE) if t.outputs.get("id") == template_id and template_id]
        templates = templates or [self.by_urn[u] for u in group.dependencies
                                  if u in self.by_urn and self.by_urn[u].type == LAUNCH_TEMPLATE]
        if not templates:
            size = float(group.inputs.get("diskSize") or AL2023_ROOT_GIB)
            self.assume(f"{group.name}: no launch template; root volume priced as {size:g} GiB gp3")
            return [("gp3", size)]
        volumes = []
        for mapping in templates[0].inputs.get("blockDeviceMappings") or []:
            ebs = mapping.get("ebs") or {}
            if ebs.get("volumeSize"):
                volumes.append((ebs.get("volumeType") or "gp3", float(ebs["volumeSize"])))
        if not volumes:
            self.assume(f"{group.name}: launch template sets no root volume; assumed {AL2023_ROOT_GIB} GiB gp3")
            volumes.append(("gp3", float(AL2023_ROOT_GIB)))
        return volumes

    def add_network(self) -> None:
        for record in self.of_type("aws:ec2/natGateway:NatGateway"):
            self.add(record, f"NAT gateway {record.name}", "nat-gateway", "hour", 1)
        for record in self.of_type("aws:ec2/eip:Eip"):
            self.add(record, f"public IPv4 address {record.name}", "public-ipv4", "hour", 1)

    def add_keys_and_buckets(self) -> None:
        for record in self.of_type("aws:kms/key:Key"):
            self.add(record, f"KMS key {record.name}", "kms-key", "month", 1)
        for record in self.of_type("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            self.add(record, f"S3 bucket {record.name} (nominal)", "s3-bucket", "month", 1)
        for record in self.of_type("aws:ecr/repository:Repository"):
            self.add(record, f"ECR repository {record.name} ({ECR_NOMINAL_GIB:g} GB nominal)", "ecr-storage",
                     "GB-month", ECR_NOMINAL_GIB)

    def add_file_systems(self) -> None:
        for record in self.of_type(EFS_FILE_SYSTEM):
            expected = (record.inputs.get("tags") or {}).get(EXPECTED_GIB_TAG)
            size = float(expected) if expected else 100.0
            if not expected:
                self.assume(f"{record.name}: no {EXPECTED_GIB_TAG} tag; priced as {size:g} GB stored")
            self.add(record, f"EFS {record.name}: {size:g} GB stored (Standard)", "efs-standard", "GB-month", size)

    def add_aws_load_balancers(self) -> None:
        for record in self.of_type("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
            kind = {"network": "nlb", "gateway": "nlb"}.get(record.inputs.get("loadBalancerType", "application"), "alb")
            self.add(record, f"{kind.upper()} {record.name}", kind, "hour", 1)

    # Kubernetes objects

    def k8s(self, kind: str) -> list[ResourceRecord]:
        return [r for r in self.run.kubernetes_objects() if r.type.rsplit(":", 1)[-1] == kind]

    def storage_classes(self) -> tuple[dict[str, str], Optional[str]]:
        """StorageClass name -> EBS volume type, and the default class."""
        classes, default = {}, None
        for record in self.k8s("StorageClass"):
            meta = record.inputs.get("metadata") or {}
            name = meta.get("name") or record.name
            if record.inputs.get("provisioner") in EBS_CSI:
                classes[name] = (record.inputs.get("parameters") or {}).get("type", "gp3")
            if (meta.get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
                default = name
        return classes, default

    def _volume_type(self, class_name: Optional[str], owner: ResourceRecord) -> str:
        classes, default = self.storage_classes()
        name = class_name or default
        if name in classes:
            return classes[name]
        self.assume(f"{owner.name}: storage class {name or '(none)'} is not an EBS StorageClass of this stack; priced as gp3")
        return "gp3"

    def _not_ebs_volumes(self) -> set[str]:
        """PersistentVolumes of another CSI driver (EFS): their claims are priced with their file system."""
        return {(r.inputs.get("metadata") or {}).get("name") for r in self.k8s("PersistentVolume")
                if ((r.inputs.get("spec") or {}).get("csi") or {}).get("driver") not in (None, *EBS_CSI)}

    def add_volume_claims(self) -> None:
        elsewhere = self._not_ebs_volumes()
        for record in self.k8s("PersistentVolumeClaim"):
            spec = record.inputs.get("spec") or {}
            if spec.get("volumeName") in elsewhere:
                continue
            size = gib(((spec.get("resources") or {}).get("requests") or {}).get("storage", "0"))
            volume_type = self._volume_type(spec.get("storageClassName"), record)
            name = (record.inputs.get("metadata") or {}).get("name") or record.name
            self.add(record, f"PVC {name}: {size:g} GiB {volume_type}", f"ebs-{volume_type}", "GB-month", size)
        for record in self.k8s("StatefulSet"):
            spec = record.inputs.get("spec") or {}
            replicas = int(spec.get("replicas", 1))
            name = (record.inputs.get("metadata") or {}).get("name") or record.name
            for template in spec.get("volumeClaimTemplates") or []:
                claim = template.get("spec") or {}
                size = gib(((claim.get("resources") or {}).get("requests") or {}).get("storage", "0"))
                volume_type = self._volume_type(claim.get("storageClassName"), record)
                claim_name = (template.get("metadata") or {}).get("name", "data")
                self.add(record, f"StatefulSet {name} volume {claim_name}: {replicas} x {size:g} GiB {volume_type}",
                         f"ebs-{volume_type}", "GB-month", replicas * size)

    def add_k8s_load_balancers(self) -> None:
        for record in self.k8s("Service"):
            spec = record.inputs.get("spec") or {}
            if spec.get("type") != "LoadBalancer":
                continue
            annotations = (record.inputs.get("metadata") or {}).get("annotations") or {}
            lb_type = annotations.get("service.beta.kubernetes.io/aws-load-balancer-type", "")
            nlb = lb_type in ("nlb", "external", "nlb-ip") or spec.get("loadBalancerClass") == "service.k8s.aws/nlb"
            name = (record.inputs.get("metadata") or {}).get("name") or record.name
            self.add(record, f"Service {name} (type LoadBalancer)", "nlb" if nlb else "clb", "hour", 1)
        groups: set[str] = set()
        alb_classes = self.alb_ingress_classes()
        for record in self.k8s("Ingress"):
            meta = record.inputs.get("metadata") or {}
            annotations = meta.get("annotations") or {}
            klass = (record.inputs.get("spec") or {}).get("ingressClassName") or annotations.get("kubernetes.io/ingress.class")
            if klass not in alb_classes:
                continue
            # One ALB per IngressGroup: the class's params group wins over the annotation (ingress_class.md)
            group = alb_classes[klass] or annotations.get("alb.ingress.kubernetes.io/group.name")
            if group and group in groups:
                continue
            groups.add(group or "")
            what = f"ALB of IngressGroup {group}" if group else f"ALB for Ingress {meta.get('name') or record.name}"
            self.add(record, what, "alb", "hour", 1)

    def alb_ingress_classes(self) -> dict[str, Optional[str]]:
        """Ingress classes the AWS Load Balancer Controller serves -> their params' group name.
        `alb` is the chart's default class when the chart creates it."""
        params = {(r.inputs.get("metadata") or {}).get("name"): ((r.inputs.get("spec") or {}).get("group") or {}).get("name")
                  for r in self.k8s("IngressClassParams")}
        classes: dict[str, Optional[str]] = {"alb": None}
        for record in self.k8s("IngressClass"):
            spec = record.inputs.get("spec") or {}
            if spec.get("controller") == "ingress.k8s.aws/alb":
                ref = (spec.get("parameters") or {}).get("name")
                classes[(record.inputs.get("metadata") or {}).get("name") or record.name] = params.get(ref)
        return classes

    def add_web_acls(self) -> None:
        for record in self.of_type("aws:wafv2/webAcl:WebAcl"):
            self.add(record, f"WAF web ACL {record.name}", "wafv2-web-acl", "month", 1)
            rules = len(record.inputs.get("rules") or [])
            self.add(record, f"WAF {record.name}: {rules} rules / managed rule groups", "wafv2-rule", "month", rules)
        for record in self.of_type("aws:cognito/userPool:UserPool"):
            self.assume(f"Cognito user pool {record.name}: not priced; the first 10,000 monthly active users of an "
                        "account have no charge (Essentials), more are billed per MAU (https://aws.amazon.com/cognito/pricing/)")


def _is_neuron(group: ResourceRecord) -> bool:
    types = group.inputs.get("instanceTypes") or []
    return "NEURON" in str(group.inputs.get("amiType", "")) or bool(types and types[0] in catalog.NEURON_INSTANCES)


def estimate(run: StackRun, *, region: str, overrides: Optional[Mapping[str, float]] = None,
             table: Optional[PriceTable] = None) -> CostEstimate:
    """The monthly estimate of `run` in `region`, prices from `table` (default: pricing.csv +
    `overrides`)."""
    table = table or PriceTable.load(overrides)
    pricer = _Pricer(run, region, table)
    pricer.add_control_planes()
    groups = pricer.add_node_groups()
    pricer.add_network()
    pricer.add_keys_and_buckets()
    pricer.add_aws_load_balancers()
    pricer.add_file_systems()
    pricer.add_volume_claims()
    pricer.add_k8s_load_balancers()
    pricer.add_web_acls()
    add_log_groups(pricer)
    release_notes = add_helm_releases(pricer, gib)
    for key in table.unused_overrides():
        pricer.assume(f"genai-platform:pricing.{key} matches no priced item (check the key against tools/cost/pricing.csv)")

    lines = sorted(pricer.lines, key=lambda line: (line.component, line.item, line.resource))
    result = CostEstimate(run.stack, region, lines, pricer.assumptions, notes=NOTES + tuple(release_notes))
    neuron = [(g, ls) for g, ls in groups if _is_neuron(g)]
    result.neuron_idle = _neuron_idle(result, neuron)
    result.scaling = scaling_range(run, result.total, [(g, sum(x.monthly for x in ls), pricer.per_node[g.urn])
                                                       for g, ls in neuron])
    return result


def _neuron_idle(result: CostEstimate, groups: Iterable[tuple[ResourceRecord, list[CostLine]]]) -> Optional[dict[str, Any]]:
    """What scaling the Neuron node groups to 0 nodes saves (instances and their root volumes)."""
    groups = list(groups)
    if not groups:
        return None
    savings = sum(line.monthly for _, lines in groups for line in lines)
    min_sizes = [int((g.inputs.get("scalingConfig") or {}).get("minSize", 0)) for g, _ in groups]
    how = ("set genai-platform:neuron.desiredSize to 0" if not any(min_sizes)
           else f"set genai-platform:neuron.minSize and desiredSize to 0 (minSize is {max(min_sizes)})")
    return {
        "nodeGroups": sorted(g.name for g, _ in groups),
        "monthlySavings": round(savings, 2),
        "monthlyTotalWhenIdle": round(result.total - savings, 2),
        "how": how,
    }

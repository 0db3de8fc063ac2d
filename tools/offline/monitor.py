"""A mock resource monitor that records every registration and emulates pulumi-eks's Cluster.

pulumi-eks's `Cluster` is a remote component: in a real deployment its provider creates the
`aws:eks/cluster:Cluster` inside it and returns resource references (`eksCluster`,
`core.cluster`, ...). Offline there is no provider, so this monitor registers that child
itself (with the inputs pulumi-eks derives from the component's arguments) and answers with
real resource references, so `cluster.eks_cluster.name` and `cluster.core` resolve, and the
policy pack sees the EKS cluster as it would in a real preview. It also creates the component's
access entries (pulumi-eks `createAccessEntries`) after the bootstrap entry EKS gives the caller
(pulumi-eks sets `bootstrapClusterCreatorAdminPermissions: true`), and refuses what EKS would
refuse (`tools.offline.eks_api`).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.sync_await import _sync_await

from components.endpoint_access import is_placeholder, non_internet_range
from tools.offline import eks_api
from tools.offline.mocks import ACCOUNT_ID, PlatformMocks, digest
from tools.offline.records import RESOURCE_SIG, SIG_KEY, ResourceRecord, struct_to_plain

EKS_COMPONENT = "eks:index:Cluster"


class RecordingMonitor(MockMonitor):
    """Records each registration (raw, so secrets and references are visible) and stack outputs."""

    def __init__(self, mocks: PlatformMocks) -> None:
        super().__init__(mocks)
        self.region = mocks.region
        self.mocks = mocks
        self.records: list[ResourceRecord] = []
        self.stack_outputs: dict[str, Any] = {}
        self.secret_outputs: set[str] = set()

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        inputs, secret_paths = struct_to_plain(request.object)
        record = ResourceRecord(
            urn=self.make_urn(request.parent, request.type, request.name),
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=inputs,
            secret_paths=secret_paths,
            dependencies=sorted(set(request.dependencies)),
            provider=request.provider,
            protect=bool(request.protect),
            replace_on_changes=sorted(request.replaceOnChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=sorted(request.ignoreChanges),
        )
        self.records.append(record)
        if request.type == eks_api.NODE_GROUP:
            eks_api.check_node_group(record, self.records)
        if request.type == EKS_COMPONENT:
            return self._register_eks_cluster(request, record)
        response = super().RegisterResource(request)
        record.outputs = struct_to_plain(response.object)[0]
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            outputs, secrets = struct_to_plain(request.outputs)
            self.stack_outputs.update(outputs)
            self.secret_outputs |= {path.split(".")[0].split("[")[0] for path in secrets}
        return super().RegisterResourceOutputs(request)

    # pulumi-eks emulation

    def _register_eks_cluster(self, request, record: ResourceRecord):
        from pulumi.runtime.proto import resource_pb2  # noqa: PLC0415

        args = record.inputs
        name = request.name
        refuse_endpoint_access(args)
        cluster_name = args.get("name") or f"{name}-eksCluster"
        service_role = self.resources.get(args.get("serviceRole") or "")
        role_arn = service_role.state.get("arn") if service_role else f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-eksRole"
        endpoint = f"https://{digest(cluster_name, length=32).upper()}.gr7.{self.region}.eks.amazonaws.com"
        ca_data = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk9GRkxJTkUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

        child_inputs = {
            "name": cluster_name,
            "version": args.get("version"),
            "roleArn": role_arn,
            "vpcConfig": {
                "subnetIds": list(args.get("publicSubnetIds", [])) + list(args.get("privateSubnetIds", [])),
                "endpointPrivateAccess": args.get("endpointPrivateAccess", False),
                "endpointPublicAccess": args.get("endpointPublicAccess", True),
                "publicAccessCidrs": args.get("publicAccessCidrs") or ["0.0.0.0/0"],
            },
            "accessConfig": {
                "authenticationMode": args.get("authenticationMode", "CONFIG_MAP"),
                "bootstrapClusterCreatorAdminPermissions": True,
            },
            "enabledClusterLogTypes": args.get("enabledClusterLogTypes", []),
            "bootstrapSelfManagedAddons": args.get("bootstrapSelfManagedAddons", True),
            "deletionProtection": args.get("deletionProtection", False),
            "tags": args.get("tags", {}),
        }
        if args.get("encryptionConfigKeyArn"):
            child_inputs["encryptionConfig"] = {
                "provider": {"keyArn": args["encryptionConfigKeyArn"]},
                "resources": ["secrets"],
            }
        child_outputs = {
            **child_inputs,
            # EKS creates the cluster security group (nodes and control plane ENIs are its members)
            "vpcConfig": {**child_inputs["vpcConfig"], "clusterSecurityGroupId": "sg-" + digest(name, "cluster-sg")},
            "arn": f"arn:aws:eks:{self.region}:{ACCOUNT_ID}:cluster/{cluster_name}",
            "endpoint": endpoint,
            "certificateAuthority": {"data": ca_data},
            "status": "ACTIVE",
        }
        component_urn = record.urn
        child_urn = self.make_urn(component_urn, "aws:eks/cluster:Cluster", f"{name}-eksCluster")
        self.resources[child_urn] = MockMonitor.ResourceRegistration(child_urn, cluster_name, child_outputs)
        self.records.append(
            ResourceRecord(
                urn=child_urn, type="aws:eks/cluster:Cluster", name=f"{name}-eksCluster", parent=component_urn,
                custom=True, inputs=child_inputs, outputs=child_outputs, emulated=True,
            )
        )

        self._create_access_entries(component_urn, name, cluster_name, args.get("accessEntries") or {})

        kubeconfig = _kubeconfig(cluster_name, endpoint, ca_data, self.region)
        reference = {SIG_KEY: RESOURCE_SIG, "urn": child_urn, "id": cluster_name}
        state = {
            **args,
            "eksCluster": reference,
            "kubeconfig": kubeconfig,
            "kubeconfigJson": json.dumps(kubeconfig),
            "clusterSecurityGroupId": "sg-" + digest(name, "cluster-sg"),
            "nodeSecurityGroupId": "sg-" + digest(name, "node-sg"),
            "eksClusterIngressRule": None,
            "core": {
                "cluster": reference,
                "endpoint": endpoint,
                "vpcId": args.get("vpcId"),
                "subnetIds": child_inputs["vpcConfig"]["subnetIds"],
                "privateSubnetIds": args.get("privateSubnetIds", []),
                "publicSubnetIds": args.get("publicSubnetIds", []),
                "clusterIamRole": {SIG_KEY: RESOURCE_SIG, "urn": service_role.urn} if service_role else None,
                "instanceRoles": [],
                "nodeGroupOptions": {},
                "kubeconfig": kubeconfig,
                "tags": args.get("tags", {}),
            },
        }
        self.resources[component_urn] = MockMonitor.ResourceRegistration(component_urn, "", state)
        record.outputs = state
        obj = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=component_urn, id="", object=obj)

    def _create_access_entries(self, component_urn: str, name: str, cluster_name: str, entries: dict) -> None:
        """The bootstrap entry EKS makes for the creator (the caller's IAM identity: a session's
        role), then each of the component's `accessEntries` as pulumi-eks creates them."""
        creator = self.mocks.issuer_arn(self.mocks.creator_arn)
        existing = {eks_api.principal_key(creator): "the cluster creator's entry (bootstrapClusterCreatorAdminPermissions)"}
        for key, entry in entries.items():
            principal = entry.get("principalArn", "")
            eks_api.check_access_entry(cluster_name, principal, entry.get("kubernetesGroups") or [], existing)
            existing[eks_api.principal_key(principal)] = f"access entry {key}"
            entry_name = f"{name}-{key}"
            inputs = {"clusterName": cluster_name, "principalArn": principal, "type": entry.get("type", "STANDARD"),
                      **({"kubernetesGroups": entry["kubernetesGroups"]} if entry.get("kubernetesGroups") else {})}
            entry_urn = self._emulated_child(component_urn, "aws:eks/accessEntry:AccessEntry", entry_name, inputs)
            for policy_key, policy in (entry.get("accessPolicies") or {}).items():
                self._emulated_child(entry_urn, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
                                     f"{entry_name}-{policy_key}", {"clusterName": cluster_name, "principalArn": principal,
                                                                    "policyArn": policy.get("policyArn"),
                                                                    "accessScope": policy.get("accessScope")})

    def _emulated_child(self, parent: str, type_: str, name: str, inputs: dict[str, Any]) -> str:
        urn = self.make_urn(parent, type_, name)
        outputs = {**inputs, "id": f"{inputs['clusterName']}:{inputs['principalArn']}"}
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, outputs["id"], outputs)
        self.records.append(ResourceRecord(urn=urn, type=type_, name=name, parent=parent, custom=True,
                                           inputs=inputs, outputs=outputs, emulated=True))
        return urn


def refuse_endpoint_access(args: dict[str, Any]) -> None:
    """Fail as pulumi-eks and EKS would on the component's endpoint arguments.

    pulumi-eks throws when publicAccessCidrs is set with the public endpoint off (nodejs/eks/cluster/
    cluster.ts); EKS answers InvalidParameterException "The following CIDRs are invalid in
    publicAccessCidrs" (not an IPv4 CIDR on an IPv4 cluster) and "... are not allowed in
    publicAccessCidrs" (private and documentation ranges). `PLACEHOLDER-...` entries pass: offline
    they stand for the deployer's CIDR, as `offline-placeholder-*` stands for secrets; a real run
    refuses them earlier (components/endpoint_access.py)."""
    cidrs = [str(c) for c in args.get("publicAccessCidrs") or [] if not is_placeholder(c)]
    if args.get("publicAccessCidrs") and args.get("endpointPublicAccess", True) is False:
        raise ValueError("`publicAccessCidrs` can only be set when `endpointPublicAccess` is true")
    invalid, not_allowed = [], []
    for cidr in cidrs:
        try:
            net = ipaddress.ip_network(cidr)
        except ValueError:
            invalid.append(cidr)
            continue
        if net.version != 4:
            invalid.append(cidr)
        elif non_internet_range(net):
            not_allowed.append(cidr)
    for refused, what in ((invalid, "invalid"), (not_allowed, "not allowed")):
        if refused:
            raise ValueError(f"InvalidParameterException: The following CIDRs are {what} in publicAccessCidrs: "
                             f"[{', '.join(refused)}]")


def _kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """The kubeconfig pulumi-eks generates: it execs `aws eks get-token`."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": "aws", "context": {"cluster": cluster_name, "user": "aws"}}],
        "current-context": "aws",
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                    }
                },
            }
        ],
    }

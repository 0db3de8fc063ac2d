"""A mock resource monitor that records every registration and emulates pulumi-eks's Cluster.

pulumi-eks's `Cluster` is a remote component: in a real deployment its provider creates the
`aws:eks/cluster:Cluster` inside it and returns resource references (`eksCluster`,
`core.cluster`, ...). Offline there is no provider, so this monitor registers that child
itself (with the inputs pulumi-eks derives from the component's arguments) and answers with
real resource references, so `cluster.eks_cluster.name` and `cluster.core` resolve, and the
policy pack sees the EKS cluster as it would in a real preview.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.sync_await import _sync_await

from tools.offline.mocks import ACCOUNT_ID, PlatformMocks, digest
from tools.offline.records import RESOURCE_SIG, SIG_KEY, ResourceRecord, struct_to_plain

EKS_COMPONENT = "eks:index:Cluster"


class RecordingMonitor(MockMonitor):
    """Records each registration (raw, so secrets and references are visible) and stack outputs."""

    def __init__(self, mocks: PlatformMocks) -> None:
        super().__init__(mocks)
        self.region = mocks.region
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
            ignore_changes=sorted(request.ignoreChanges),
        )
        self.records.append(record)
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

"""The shared model and compile cache: one encrypted EFS file system that every model-server
replica in every AZ mounts ReadWriteMany (weights, Neuron compiled artifacts, compiler cache).

Why EFS and not S3 (README "Serving at scale"): the model servers need POSIX semantics on the
cache - an atomic directory rename to publish a compiled model and file locks to let one replica
compile while the others wait (EFS supports file locking: EFS FAQ) - which Mountpoint for S3 does
not emulate (awslabs/mountpoint-s3 doc/SEMANTICS.md: no `rename` emulation over object APIs), and
`NEURON_COMPILE_CACHE_URL=s3://` covers only the compiler's cache, not the weights or vLLM's
NEURON_COMPILED_ARTIFACTS.
"""

from __future__ import annotations

from typing import Mapping, Optional, TypedDict

import pulumi
from pulumi_aws import ec2, efs, eks
from pulumi_kubernetes.core.v1 import PersistentVolume, PersistentVolumeClaim

from components import catalog
from components.pod_identity import PodIdentityRole
from components.retention import DataRetention
from components.settings.scaling import ModelCacheSettings

EFS_CSI_ADDON = catalog.EFS_CSI_ADDON
EFS_CSI_DRIVER = "efs.csi.aws.com"
# The add-on's controller service account (EKS User Guide, "Amazon EFS CSI driver" add-on page)
EFS_CSI_NAMESPACE, EFS_CSI_ACCOUNT = "kube-system", "efs-csi-controller-sa"
NFS_PORT = 2049
CLAIM_NAME = "model-cache"
# EFS is elastic: a PersistentVolume must state a capacity, which the EFS CSI driver ignores
NOMINAL_CAPACITY = "1Ti"


class SharedModelCacheArgs(TypedDict):
    """Inputs of `SharedModelCache`."""

    settings: ModelCacheSettings
    """Throughput mode."""
    retention: DataRetention
    """Whether the file system and its claim are protected (`retainData`)."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster (add-on, Pod Identity)."""
    cluster_security_group_id: pulumi.Input[str]
    """The EKS cluster security group: managed nodes without their own groups get it (NFS source)."""
    vpc_id: pulumi.Input[str]
    """The VPC of the mount targets."""
    private_subnet_ids_by_zone: Mapping[str, pulumi.Input[list[str]]]
    """Private subnets per AZ: one mount target per AZ (EFS allows exactly one per AZ)."""
    namespace: pulumi.Input[str]
    """Namespace of the claim (the model servers'; an output, so the claim waits for it)."""
    namespace_name: str
    """Its name (names the cluster-wide PersistentVolume)."""
    account_id: pulumi.Input[str]
    """The cluster's account (Pod Identity trust)."""
    region: str
    """The stack region (partition of the managed policy)."""
    provider: pulumi.ProviderResource
    """Kubernetes provider."""
    tags: dict[str, str]
    """AWS tags."""
    addon_version: Optional[str]
    """The EFS CSI add-on version (cluster.addonVersions; None: the EKS default for the cluster version)."""
    expected_gib: int
    """What the models will store (their cacheGib summed): the cost estimate prices this much."""


class SharedModelCache(pulumi.ComponentResource):
    """EFS file system + mount targets + NFS security group, the EFS CSI add-on (Pod Identity), and
    a statically provisioned ReadWriteMany PersistentVolume and claim in the platform namespace."""

    file_system_id: pulumi.Output[str]
    """The EFS file system id."""
    claim_name: pulumi.Output[str]
    """The ReadWriteMany claim model servers mount."""

    def __init__(self, name: str, args: SharedModelCacheArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:storage:SharedModelCache", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags, settings = args["tags"], args["settings"]

        # Encrypted at rest (KMS, AWS managed key); elastic throughput bills per GB moved, not provisioned.
        # It holds the compiled models: protected while the stack retains data, like the claim and the buckets
        # (a destroy, or a replacement by a config mistake, stops here; retainData false lets dev go in one destroy)
        fs = efs.FileSystem(
            f"{name}-fs", encrypted=True, performance_mode="generalPurpose", throughput_mode=settings.throughput_mode,
            tags={**tags, "Name": f"{name}-model-cache", "genai-platform/expected-gib": str(args["expected_gib"])},
            opts=pulumi.ResourceOptions(parent=self, protect=args["retention"].protect),
        )
        # NFS only from the cluster security group (the nodes'), only on 2049
        group = ec2.SecurityGroup(
            f"{name}-nfs", vpc_id=args["vpc_id"], description="NFS from EKS nodes to the model cache", tags=tags,
            opts=child,
        )
        ec2.SecurityGroupRule(
            f"{name}-nfs-in", type="ingress", security_group_id=group.id, protocol="tcp", from_port=NFS_PORT,
            to_port=NFS_PORT, source_security_group_id=args["cluster_security_group_id"],
            description="NFS from the EKS cluster security group", opts=child,
        )
        targets = [
            efs.MountTarget(
                f"{name}-mt-{zone}", file_system_id=fs.id, security_groups=[group.id],
                subnet_id=pulumi.Output.from_input(ids).apply(lambda values: values[0]), opts=child,
            )
            for zone, ids in sorted(args["private_subnet_ids_by_zone"].items())
        ]

        # The EFS CSI driver add-on; its controller's IAM through Pod Identity (AWS managed policy)
        role = PodIdentityRole(
            f"{name}-efs-csi", parent=self, cluster_name=args["cluster_name"], account_id=args["account_id"],
            managed_policy_arns=[catalog.managed_policy_arn(catalog.partition_for(args["region"]),
                                                            "service-role/AmazonEFSCSIDriverPolicy")],
            tags=tags, addon_service_accounts=[(EFS_CSI_NAMESPACE, EFS_CSI_ACCOUNT)],
        )
        addon = eks.Addon(
            f"{name}-{EFS_CSI_ADDON}", cluster_name=args["cluster_name"], addon_name=EFS_CSI_ADDON,
            addon_version=args["addon_version"],
            pod_identity_associations=[eks.AddonPodIdentityAssociationArgs(role_arn=role.arn, service_account=EFS_CSI_ACCOUNT)],
            resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE", opts=child,
        )

        # Static provisioning: one volume for the file system's root, bound to one claim
        k8s = pulumi.ResourceOptions(parent=self, provider=args["provider"], depends_on=[addon, *targets])
        volume = PersistentVolume(
            f"{name}-pv",
            metadata={"name": f"{args['namespace_name']}-{CLAIM_NAME}",
                      "labels": {"app.kubernetes.io/part-of": "genai-platform"}},
            spec={
                "capacity": {"storage": NOMINAL_CAPACITY},
                "accessModes": ["ReadWriteMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "volumeMode": "Filesystem",
                # TLS to the mount target; the driver's default, stated here (kubernetes-sigs/aws-efs-csi-driver
                # examples/kubernetes/encryption_in_transit_static)
                "csi": {"driver": EFS_CSI_DRIVER, "volumeHandle": fs.id, "volumeAttributes": {"encryptInTransit": "true"}},
            },
            opts=k8s,
        )
        claim = PersistentVolumeClaim(
            f"{name}-pvc",
            metadata={"name": CLAIM_NAME, "namespace": args["namespace"],
                      "labels": {"app.kubernetes.io/part-of": "genai-platform"},
                      "annotations": {"pulumi.com/skipAwait": "true"}},
            spec={
                "accessModes": ["ReadWriteMany"],
                "storageClassName": "",
                "volumeName": volume.metadata["name"],
                "resources": {"requests": {"storage": NOMINAL_CAPACITY}},
            },
            # Stateful data survives a config mistake: the claim is protected while the stack retains data
            opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(protect=args["retention"].protect)),
        )
        self.file_system_id = fs.id
        self.claim_name = claim.metadata["name"]
        self.register_outputs({"file_system_id": self.file_system_id, "claim_name": self.claim_name})

"""The EKS cluster: control plane (pulumi-eks), system node group, managed add-ons, storage."""

from __future__ import annotations

import json
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_eks
import pulumi_kubernetes as k8s
from pulumi_aws import ec2, eks, iam, kms
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.storage.v1 import StorageClass

from components import catalog, cluster_access
from components.node_group import ManagedNodeGroup
from components.pod_identity import PodIdentityRole, policy_document
from components.retention import DataRetention
from components.settings.infra import ClusterSettings

SYSTEM_NODE_LABELS = {"genai-platform/pool": "system"}


class ClusterArgs(TypedDict):
    """Inputs of `Cluster`."""

    settings: ClusterSettings
    """Version, endpoint access, admins, logs, system nodes."""
    cluster_name: str
    """The EKS cluster name."""
    region: str
    """The stack's region."""
    account_id: pulumi.Input[str]
    """This AWS account."""
    vpc_id: pulumi.Input[str]
    """VPC of the cluster."""
    public_subnet_ids: pulumi.Input[Sequence[str]]
    """Public subnets (load balancers)."""
    private_subnet_ids: pulumi.Input[Sequence[str]]
    """Private subnets (control plane ENIs and nodes)."""
    tags: dict[str, str]
    """AWS tags."""
    reader_group: str
    """Kubernetes group of `settings.reader_principals`' access entries (the genai-reader binding)."""
    retention: DataRetention
    """Whether volumes outlive their claims (StorageClass reclaimPolicy)."""


def cluster_role_trust_policy(partition: str, region: str, account_id: str, cluster_name: str) -> dict:
    """Only the EKS service may assume the cluster role, and only for this cluster in this account
    (confused-deputy protection as the EKS User Guide's "Cross-service confused deputy prevention
    in Amazon EKS" shows for cluster roles; the ARN is built, not read from the cluster, which
    needs the role first)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "eks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}"},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        }],
    }


def secrets_key_policy(key_arn: str) -> str:
    """The cluster role may use (only) the secrets encryption key."""
    return json.dumps(
        policy_document(
            [
                {
                    "Sid": "EnvelopeEncryption",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"],
                    "Resource": [key_arn],
                },
                {
                    # Grants only for AWS resources (EKS creates them for the control plane)
                    "Sid": "ServiceGrants",
                    "Effect": "Allow",
                    "Action": ["kms:CreateGrant"],
                    "Resource": [key_arn],
                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                }
            ]
        )
    )


class Cluster(pulumi.ComponentResource):
    """EKS with API authentication, KMS-encrypted secrets, audit logs, a restricted endpoint,
    a system node group, the managed add-ons (NetworkPolicy enforcement on) and a gp3 default
    StorageClass."""

    cluster_name: pulumi.Output[str]
    """The EKS cluster name."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig JSON (execs `aws eks get-token`); secret."""
    provider: k8s.Provider
    """Kubernetes provider for this cluster."""
    system_node_group_name: pulumi.Output[str]
    """The system node group name."""
    secrets_key_arn: pulumi.Output[str]
    """KMS key encrypting Kubernetes secrets."""
    storage_class: StorageClass
    """The default gp3 StorageClass (claims wait for it)."""
    node_addons: list[eks.Addon]
    """The add-ons a node needs to join (CNI, kube-proxy, Pod Identity agent): node groups depend on them."""
    apps_wait_for: list[pulumi.Resource]
    """What the platform's workloads need first: the StorageClass, CoreDNS (names resolve) and
    metrics-server (the HPA has metrics)."""

    def __init__(self, name: str, args: ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:cluster:Cluster", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings, tags = args["settings"], args["tags"]

        # Envelope encryption key for Kubernetes secrets, and the control plane's own role
        key = kms.Key(
            f"{name}-secrets", description=f"{args['cluster_name']} Kubernetes secrets",
            enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=child,
        )
        region, account_id = args["region"], args["account_id"]
        partition = catalog.partition_for(region)
        trust = pulumi.Output.from_input(account_id).apply(
            lambda account: json.dumps(cluster_role_trust_policy(partition, region, account, args["cluster_name"]))
        )
        role = iam.Role(f"{name}-control-plane", assume_role_policy=trust, tags=tags, opts=child)
        attachment = iam.RolePolicyAttachment(
            f"{name}-control-plane", role=role.name,
            policy_arn=catalog.managed_policy_arn(partition, "AmazonEKSClusterPolicy"), opts=child,
        )
        key_use = iam.RolePolicy(f"{name}-control-plane-kms", role=role.id, policy=key.arn.apply(secrets_key_policy), opts=child)

        # Control plane: API auth with access entries, private endpoint, public only for listed CIDRs.
        # pulumi-eks manages no add-ons and no node group here: they are created below, visibly.
        control_plane = pulumi_eks.Cluster(
            f"{name}-eks",
            name=args["cluster_name"],
            version=settings.version,
            vpc_id=args["vpc_id"],
            public_subnet_ids=args["public_subnet_ids"],
            private_subnet_ids=args["private_subnet_ids"],
            node_associate_public_ip_address=False,
            service_role=role,
            authentication_mode=pulumi_eks.AuthenticationMode.API,
            # Admins and readers, never the creator: EKS already gave it an admin entry
            access_entries=cluster_access.access_entries(
                settings, partition, args["reader_group"], settings.creator_principal or cluster_access.deployer_arn()
            ),
            endpoint_private_access=True,
            endpoint_public_access=settings.endpoint_public_access,
            public_access_cidrs=settings.public_access_cidrs or None,
            encryption_config_key_arn=key.arn,
            enabled_cluster_log_types=list(settings.log_types),
            deletion_protection=settings.deletion_protection,
            skip_default_node_group=True,
            skip_default_security_groups=True,
            create_oidc_provider=False,
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=pulumi_eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=pulumi_eks.KubeProxyAddonOptionsArgs(enabled=False),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment, key_use]),
        )
        cluster_name = control_plane.eks_cluster.name

        # The private endpoint admits what the EKS-created cluster security group allows (its own
        # members): let the deployer's network in the VPC or connected to it (runner subnet, VPN) in on 443
        for cidr in settings.private_access_cidrs:
            ec2.SecurityGroupRule(
                f"{name}-api-from-{cidr.replace('/', '-')}", type="ingress", protocol="tcp", from_port=443, to_port=443,
                security_group_id=control_plane.eks_cluster.vpc_config.cluster_security_group_id,
                cidr_blocks=[cidr], description="Kubernetes API from cluster.privateAccessCidrs", opts=child,
            )

        # Add-ons the nodes need before they can join: CNI (NetworkPolicy enforcement on;
        # without it EKS silently ignores NetworkPolicies), kube-proxy, the Pod Identity agent
        self.node_addons = early = [
            self._addon(name, cluster_name, settings, "vpc-cni", config={"enableNetworkPolicy": "true"}),
            self._addon(name, cluster_name, settings, "kube-proxy"),
            self._addon(name, cluster_name, settings, "eks-pod-identity-agent"),
        ]

        # System node group for everything that is not a model server
        system = settings.system_nodes
        system_nodes = ManagedNodeGroup(
            f"{name}-system",
            {
                "cluster_name": cluster_name,
                "kubernetes_version": settings.version,
                "subnet_ids": args["private_subnet_ids"],
                "ami_type": system.ami_type,
                "instance_types": system.instance_types,
                "capacity_type": "ON_DEMAND",
                "scaling": system,
                "disk_gib": system.disk_gib,
                "labels": SYSTEM_NODE_LABELS,
                "taints": [],
                "tags": tags,
                "partition": partition,
                "node_addons": early,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

        # Add-ons that run as pods: CoreDNS, metrics-server (the resource metrics the gateway's HPA
        # scales on; EKS does not install it, EKS User Guide "View resource usage with the Kubernetes
        # Metrics Server"; add-on name metrics-server per "Community add-ons") and the EBS CSI driver
        # (its IAM through Pod Identity)
        coredns = self._addon(name, cluster_name, settings, "coredns", depends_on=[system_nodes])
        metrics = self._addon(name, cluster_name, settings, "metrics-server", depends_on=[system_nodes])
        # The add-on's controller runs as kube-system/ebs-csi-controller-sa (EKS User Guide,
        # add-ons-aws-ebs-csi-driver); the add-on creates that Pod Identity association itself
        ebs_csi_namespace, ebs_csi_account = "kube-system", "ebs-csi-controller-sa"
        ebs_csi = PodIdentityRole(
            f"{name}-ebs-csi", parent=self, cluster_name=cluster_name,
            managed_policy_arns=[catalog.managed_policy_arn(partition, "service-role/AmazonEBSCSIDriverPolicy")], tags=tags,
            account_id=account_id, addon_service_accounts=[(ebs_csi_namespace, ebs_csi_account)],
        )
        csi_addon = self._addon(
            name, cluster_name, settings, "aws-ebs-csi-driver", depends_on=[system_nodes],
            pod_identity=[eks.AddonPodIdentityAssociationArgs(role_arn=ebs_csi.arn, service_account=ebs_csi_account)],
        )

        # Kubernetes provider and the default encrypted gp3 StorageClass
        self.kubeconfig = pulumi.Output.secret(control_plane.kubeconfig_json)
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, opts=child)
        self.storage_class = StorageClass(
            f"{name}-gp3",
            metadata=ObjectMetaArgs(name="gp3", annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "fsType": "ext4"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # Retained: the EBS volume outlives a claim deleted by mistake (and a destroy)
            reclaim_policy=args["retention"].reclaim_policy,
            # Kubernetes forbids updating reclaimPolicy (ValidateStorageClassUpdate) and pulumi-kubernetes
            # replaces a StorageClass only for parameters/provisioner (provider/pkg/provider/diff.go):
            # flipping retainData replaces the class, delete first (same name). Existing volumes keep
            # their own policy; claims and the namespace only depend on it, so they are not replaced.
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[csi_addon],
                                        replace_on_changes=["reclaimPolicy"], delete_before_replace=True),
        )

        self.apps_wait_for = [self.storage_class, coredns, metrics]
        self.cluster_name = cluster_name
        self.system_node_group_name = system_nodes.node_group_name
        self.secrets_key_arn = key.arn
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "system_node_group_name": self.system_node_group_name,
                "secrets_key_arn": self.secrets_key_arn,
            }
        )

    def _addon(
        self,
        name: str,
        cluster_name: pulumi.Input[str],
        settings: ClusterSettings,
        addon: str,
        *,
        config: Optional[dict] = None,
        pod_identity: Optional[list] = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> eks.Addon:
        return eks.Addon(
            f"{name}-{addon}",
            cluster_name=cluster_name,
            addon_name=addon,
            # Unset = the EKS default for this Kubernetes version; pin through cluster.addonVersions
            addon_version=settings.addon_versions.get(addon),
            configuration_values=json.dumps(config) if config else None,
            pod_identity_associations=pod_identity,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )

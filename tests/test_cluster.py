"""The EKS control plane, system nodes, add-ons and storage, as the offline engine captures them."""

from __future__ import annotations

import json

from components.settings import load_stack_settings

EKS = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"


def test_cluster_uses_api_auth_kms_encryption_and_logs(stack_run):
    cluster = stack_run.one(EKS).inputs
    key = stack_run.one("aws:kms/key:Key")
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert cluster["encryptionConfig"] == {"provider": {"keyArn": key.outputs["arn"]}, "resources": ["secrets"]}
    assert key.inputs["enableKeyRotation"] is True
    assert {"api", "audit", "authenticator"} <= set(cluster["enabledClusterLogTypes"])
    assert cluster["version"] == "1.35"


def test_endpoint_private_and_public_only_for_configured_cidrs(stack_run, run_with):
    vpc = stack_run.one(EKS).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] and vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == load_stack_settings(stack_run.stack).cluster.public_access_cidrs
    private = run_with("dev", {"genai-platform:cluster": {"publicAccessCidrs": []}}).one(EKS).inputs["vpcConfig"]
    assert private["endpointPrivateAccess"] and private["endpointPublicAccess"] is False


def test_no_default_node_group_and_admins_have_access_entries(stack_run):
    component = stack_run.one("eks:index:Cluster").inputs
    assert component["skipDefaultNodeGroup"] is True
    admins = load_stack_settings(stack_run.stack).cluster.admin_principals
    entries = component["accessEntries"]
    assert sorted(e["principalArn"] for e in entries.values()) == sorted(admins)
    for entry in entries.values():
        (assoc,) = entry["accessPolicies"].values()
        assert assoc["policyArn"].endswith("AmazonEKSClusterAdminPolicy")
        assert assoc["accessScope"] == {"type": "cluster"}


def test_system_node_group_al2023_private_imdsv2(stack_run):
    settings = load_stack_settings(stack_run.stack)
    group = stack_run.one("aws:eks/nodeGroup:NodeGroup", "system").inputs
    assert group["amiType"] == "AL2023_x86_64_STANDARD"
    assert group["instanceTypes"] == settings.cluster.system_nodes.instance_types
    private = [s.outputs["id"] for s in stack_run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name]
    assert sorted(group["subnetIds"]) == sorted(private)
    template = stack_run.one("aws:ec2/launchTemplate:LaunchTemplate", "system").inputs
    assert group["launchTemplate"]["id"].startswith("lt-")
    assert template["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    (disk,) = template["blockDeviceMappings"]
    assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volumeType"] == "gp3"
    assert disk["ebs"]["volumeSize"] == settings.cluster.system_nodes.disk_gib


def test_vpc_cni_enforces_network_policies_and_required_addons_exist(stack_run):
    # (the container-logs add-on belongs to the metrics stack: tests/test_monitoring.py;
    # aws-efs-csi-driver to the shared model cache: tests/test_scaling_rendered.py)
    addons = {a.inputs["addonName"]: a for a in stack_run.of_type(ADDON)
              if a.inputs["addonName"] != "amazon-cloudwatch-observability"}
    assert set(addons) == {
        "vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "metrics-server", "aws-ebs-csi-driver",
        "aws-efs-csi-driver",
    }
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    (association,) = addons["aws-ebs-csi-driver"].inputs["podIdentityAssociations"]
    assert association["serviceAccount"] == "ebs-csi-controller-sa"
    csi_role = stack_run.by_urn(next(u for u in addons["aws-ebs-csi-driver"].dependencies if "ebs-csi-role" in u))
    assert association["roleArn"] == csi_role.outputs["arn"]
    trust = json.loads(csi_role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}


def test_default_storage_class_is_encrypted_gp3(stack_run):
    (sc,) = stack_run.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    inputs = sc.inputs
    assert inputs["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert inputs["provisioner"] == "ebs.csi.aws.com"
    assert inputs["parameters"]["type"] == "gp3" and inputs["parameters"]["encrypted"] == "true"
    assert inputs["reclaimPolicy"] == ("Retain" if load_stack_settings(stack_run.stack).retain_data else "Delete")


def test_network_matches_settings(stack_run):
    settings = load_stack_settings(stack_run.stack).network
    subnets = stack_run.of_type("aws:ec2/subnet:Subnet")
    public = [s for s in subnets if "public" in s.name]
    private = [s for s in subnets if "private" in s.name]
    assert len(public) == len(private) == settings.az_count
    assert len({s.inputs["availabilityZone"] for s in private}) == settings.az_count
    assert all(s.inputs["tags"]["kubernetes.io/role/elb"] == "1" for s in public)
    assert all(s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in private)
    nats = stack_run.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == (1 if settings.nat_gateways == "single" else settings.az_count)


def test_existing_vpc_is_reused(run_with):
    run = run_with("dev", {"genai-platform:network": {
        "existingVpcId": "vpc-0123456789abcdef0",
        "existingPrivateSubnetIds": ["subnet-0a1a1a1a", "subnet-0b2b2b2b"],
        "existingPublicSubnetIds": ["subnet-0c3c3c3c", "subnet-0d4d4d4d"],
    }})
    assert run.of_type("aws:ec2/vpc:Vpc") == []
    vpc = run.one(EKS).inputs["vpcConfig"]
    assert vpc["subnetIds"] == ["subnet-0c3c3c3c", "subnet-0d4d4d4d", "subnet-0a1a1a1a", "subnet-0b2b2b2b"]
    # With the shared model cache the Neuron group uses every private subnet (tests/test_neuron_zone.py
    # covers the one-AZ group of zonal caches)
    assert run.one("aws:eks/nodeGroup:NodeGroup", "neuron").inputs["subnetIds"] == ["subnet-0a1a1a1a", "subnet-0b2b2b2b"]


def test_graviton_system_nodes_get_the_arm64_ami(run_with):
    run = run_with("dev", {"genai-platform:cluster": {"systemNodes": {"instanceTypes": ["m7g.xlarge", "c7g.2xlarge"]}}})
    group = run.one("aws:eks/nodeGroup:NodeGroup", "system").inputs
    assert (group["amiType"], group["instanceTypes"]) == ("AL2023_ARM_64_STANDARD", ["m7g.xlarge", "c7g.2xlarge"])
    assert run.one("aws:eks/nodeGroup:NodeGroup", "neuron").inputs["amiType"] == "AL2023_x86_64_NEURON"


def test_more_zones_than_the_region_offers_is_a_clear_error(run_with):
    import pulumi
    import pytest

    with pytest.raises(pulumi.RunError, match=r"network.azCount = 3: this region offers only 2 availability zones"):
        run_with("dev", {"aws:region": "us-west-1", "genai-platform:network": {"azCount": 3}})
    run = run_with("dev", {"aws:region": "ap-northeast-1", "genai-platform:network": {"azCount": 3}})
    zones = sorted(s.inputs["availabilityZone"] for s in run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name)
    assert zones == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]

"""Provider stand-ins for the offline engine: realistic ids, ARNs and invoke results."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, Optional, Sequence

from pulumi.runtime import Mocks, MockCallArgs, MockResourceArgs

from tools.offline.cognito_api import USER_POOL_DOMAIN, check_domain_prefix

ACCOUNT_ID = "123456789012"
# Who runs the program offline unless a test says otherwise (run_stack(caller_arn=...))
DEFAULT_CALLER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/offline"
_ASSUMED_ROLE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/(?P<session>.+)$")

# ec2 id prefixes by resource type
_EC2_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
}


# Zones a region offers (default: three); a few real regions have fewer or more
_ZONE_SUFFIXES = {"us-east-1": "abcdef", "us-west-1": "ac", "ap-northeast-1": "acd", "ca-central-1": "abd"}


# Regions with a row in the provider's ALB hosted-zone table (newest stored terraform-provider-aws
# internal/service/elbv2/hosted_zone_id_data_source.go); the catalog allows more
ALB_ZONE_TABLE_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ca-central-1", "ca-west-1",
    "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "sa-east-1",
    "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
})


def _alb_zone(region: str) -> str:
    """The canonical hosted zone of a region's ALBs: two real ones (the table above), a stable stand-in elsewhere."""
    known = {"us-east-1": "Z35SXDOTRQ7X7K", "eu-west-1": "Z32O12XQLNTSW2"}
    return known.get(region, "Z" + digest("alb-zone", region, length=12).upper())


def digest(*parts: str, length: int = 17) -> str:
    """A stable hex string derived from `parts`."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def arn(region: str, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
    """An ARN in the mock account."""
    return f"arn:aws:{service}:{region if regional else ''}:{ACCOUNT_ID if account else ''}:{resource}"


DOCKER_BUILD_IMAGE = "docker-build:index:Image"
# CreateRepository's repositoryName pattern (ECR API reference), 2-256 characters
_ECR_NAME = re.compile(r"^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


def ecr_registry(account: str, region: str) -> str:
    """A private ECR registry host."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def ecr_repository_name(name: str) -> str:
    """`name`, or the InvalidParameterException CreateRepository answers for it."""
    if not _ECR_NAME.match(name):
        raise ValueError(f"InvalidParameterException: Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                         f"'must satisfy regular expression (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*' "
                         f"({name!r})")
    return name


def docker_build_image(name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """pulumi-docker-build's Image after a build: `digest` (sha256 of the pushed manifest) and `ref`
    (a pushed tag with that digest; empty when nothing was pushed). Refuses what the build would:
    no context, an invalid tag, or a push to a private ECR registry without credentials for it
    (`no basic auth credentials`)."""
    context = (state.get("context") or {}).get("location")
    if not context:
        raise ValueError(f"docker-build Image {name}: no build context")
    tags = [str(t) for t in state.get("tags") or []]
    registries = {str(r.get("address", "")).split("/")[0]: r for r in state.get("registries") or []}
    for tag in tags:
        host, _, rest = tag.partition("/")
        if not _TAG.match(rest.rpartition(":")[2]) or ":" not in rest:
            raise ValueError(f"docker-build Image {name}: invalid reference format: {tag!r}")
        auth = registries.get(host)
        if state.get("push") and ".dkr.ecr." in host and not (auth and auth.get("username") and auth.get("password")):
            raise ValueError(f"docker-build Image {name}: failed to push {tag}: no basic auth credentials")
    image_digest = "sha256:" + hashlib.sha256(
        "/".join([context, *tags, *map(str, state.get("platforms") or [])]).encode()).hexdigest()
    pushed = bool(state.get("push")) and bool(tags)
    state.update(digest=image_digest if pushed else "", ref=f"{tags[0]}@{image_digest}" if pushed else (tags[0] if tags else ""),
                 contextHash=digest("context", context, length=64))
    return f"{name}-{image_digest[7:15]}", state


class PlatformMocks(Mocks):
    """Returns each resource's inputs plus what its provider would compute (ids, ARNs, names)."""

    def __init__(self, region: str, caller_arn: str = DEFAULT_CALLER_ARN, iam_roles: Sequence[str] = (),
                 creator_arn: Optional[str] = None) -> None:
        """`caller_arn`: the identity STS reports (an IAM user or role ARN, or an
        `arn:aws:sts::<account>:assumed-role/<role>/<session>` session ARN); `iam_roles`: role ARNs
        that exist in the account (their paths, which a session ARN does not carry); `creator_arn`:
        who created the cluster in an earlier run (default: this caller creates it now)."""
        self.region = region
        self.alb_ingress_classes: set[str] = set()  # IngressClasses served by the AWS Load Balancer Controller
        self.caller_arn = caller_arn
        self.iam_roles = tuple(iam_roles)
        self.creator_arn = creator_arn or caller_arn
        self.subnet_zones: dict[str, str] = {}  # subnets the stack creates: id -> AZ
        self.mount_target_zones: set[tuple[str, str]] = set()  # (file system id, AZ)
        self.asg_tags: dict[str, dict[str, str]] = {}  # Auto Scaling groups of the node groups -> their tags

    def issuer_arn(self, arn: str) -> str:
        """What aws.iam.getSessionContext answers: for an assumed-role session the role's ARN (with
        its path, read through iam:GetRole), any other ARN unchanged (pulumi-aws docs, getSessionContext)."""
        match = _ASSUMED_ROLE.match(arn)
        if not match:
            return arn
        for role in self.iam_roles:
            if role.rsplit("/", 1)[-1] == match["role"] and role.split(":")[4] == match["account"]:
                return role
        return f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        typ, name = args.typ, args.name
        if typ.startswith("kubernetes:"):
            return self._kubernetes(typ, name, state)
        if typ.startswith("random:"):
            return self._random(typ, name, state)
        if typ.startswith("aws:"):
            return self._aws(typ, name, state)
        if typ == DOCKER_BUILD_IMAGE:
            return docker_build_image(name, state)
        return f"{name}-id", state

    def zones(self) -> list[str]:
        """The region's standard availability zones, sorted."""
        return [f"{self.region}{suffix}" for suffix in _ZONE_SUFFIXES.get(self.region, "abc")]

    def subnet(self, subnet_id: str) -> dict[str, Any]:
        """An existing subnet as `ec2.get_subnet` returns it. Its AZ follows from the id's last hex
        digit (0 -> the first zone, 1 -> the second, ... modulo the zone count), so a test picks
        the AZs of its existing subnets by their ids."""
        zones = self.zones()
        index = int(subnet_id[-1], 16) % len(zones)
        return {
            "id": subnet_id,
            "arn": arn(self.region, "ec2", f"subnet/{subnet_id}"),
            "availabilityZone": zones[index],
            "availabilityZoneId": f"{self.region[:2]}{self.region.split('-')[1][0]}{self.region[-1]}-az{index + 1}",
            "cidrBlock": f"10.{int(digest(subnet_id, length=2), 16)}.{16 * index}.0/20",
            "vpcId": "vpc-" + digest("existing-vpc-of", subnet_id),
            "state": "available",
            "mapPublicIpOnLaunch": False,
        }

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list]:
        token = args.token
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = self.zones()
            return {"names": names, "zoneIds": [f"az{i}" for i in range(1, len(names) + 1)], "state": "available"}, []
        if token == "aws:ec2/getSubnet:getSubnet":
            return self.subnet(str(args.args["id"])), []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.caller_arn.split(":")[4], "arn": self.caller_arn, "userId": "AIDAOFFLINE"}, []
        if token == "aws:iam/getSessionContext:getSessionContext":
            arn = args.args["arn"]
            issuer = self.issuer_arn(arn)
            session = _ASSUMED_ROLE.match(arn)
            return {
                "arn": arn, "id": arn, "issuerArn": issuer, "issuerId": "AROAOFFLINE" if session else "",
                "issuerName": issuer.rsplit("/", 1)[-1] if session else "", "sessionName": session["session"] if session else "",
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:lb/getHostedZoneId:getHostedZoneId":
            # A static per-region table in the provider: a region without a row fails the preview
            # (terraform-provider-aws internal/service/elbv2/hosted_zone_id_data_source.go)
            region = args.args.get("region") or self.region
            if region not in ALB_ZONE_TABLE_REGIONS:
                raise ValueError(f"reading ELBv2 Hosted Zone ID: unsupported AWS Region: {region}")
            return {"id": _alb_zone(region), "loadBalancerType": args.args.get("loadBalancerType"), "region": region}, []
        if token == "aws:lb/getLoadBalancer:getLoadBalancer":
            # The ALB the controller made for the IngressGroup (found by its tags): its own canonical zone
            tags = args.args.get("tags") or {}
            if not {"elbv2.k8s.aws/cluster", "ingress.k8s.aws/stack"} <= set(tags):
                raise ValueError("Search returned 0 results, please revise so only 1 is returned")
            stack = tags["ingress.k8s.aws/stack"]
            return {"name": f"k8s-{stack[:8]}-{digest(stack, length=10)}",
                    "zoneId": _alb_zone(self.region), "loadBalancerType": "application", "tags": tags}, []
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return self.ecr_token(args.args.get("registryId") or self.caller_arn.split(":")[4]), []
        if token == "aws:eks/getCluster:getCluster":
            name = str(args.args.get("name"))
            # The cluster security group EKS creates (managed nodes without their own groups get it)
            return {"name": name, "id": name, "vpcConfig": {"clusterSecurityGroupId": "sg-" + digest("cluster-sg", name)}}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com"}, []
        return dict(args.args), []

    def _aws(self, typ: str, name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        service, kind = typ.split(":")[1].split("/")[0], typ.split(":")[2]
        physical = state.get("name") or name
        if typ in _EC2_PREFIX:
            resource_id = _EC2_PREFIX[typ] + digest(typ, name)
            state["arn"] = arn(self.region, "ec2", f"{kind.lower()}/{resource_id}")
        elif typ == "aws:kms/key:Key":
            resource_id = f"{digest(name, length=8)}-{digest(name, 'k', length=4)}-4000-8000-{digest(name, length=12)}"
            state["arn"] = arn(self.region, "kms", f"key/{resource_id}")
            state["keyId"] = resource_id
        elif service == "iam":
            resource_id = physical
            state.setdefault("name", physical)
            state["arn"] = arn(self.region, "iam", f"{kind[0].lower() + kind[1:]}/{physical}", regional=False)
            state.setdefault("uniqueId", "AROA" + digest(name, length=16).upper())
        elif typ == "aws:eks/nodeGroup:NodeGroup":
            state.setdefault("nodeGroupName", physical)
            resource_id = f"{state.get('clusterName')}:{state['nodeGroupName']}"
            state["arn"] = arn(self.region, "eks", f"nodegroup/{state.get('clusterName')}/{state['nodeGroupName']}/x")
            # EKS creates the group's Auto Scaling group, names it eks-<group>-<uuid> and tags it for
            # the Cluster Autoscaler's default auto-discovery (EKS user guide, managed-node-groups:
            # "Amazon EKS tags managed node group resources so that they are configured to use the
            # Kubernetes Cluster Autoscaler"): every managed group, the system group too
            asg = f"eks-{state['nodeGroupName']}-{digest(name, length=8)}"
            self.asg_tags[asg] = {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{state.get('clusterName')}": "owned"}
            state["resources"] = [{"autoscalingGroups": [{"name": asg}], "remoteAccessSecurityGroupId": ""}]
        elif typ == "aws:autoscaling/tag:Tag":  # CreateOrUpdateTags on an existing group
            resource_id = f"{state['autoscalingGroupName']},{state['tag']['key']}"
            self.asg_tags.setdefault(state["autoscalingGroupName"], {})[state["tag"]["key"]] = state["tag"]["value"]
        elif typ == "aws:ecr/repository:Repository":
            resource_id = ecr_repository_name(physical)
            state.update(name=resource_id, registryId=ACCOUNT_ID, arn=arn(self.region, "ecr", f"repository/{resource_id}"),
                         repositoryUrl=f"{ecr_registry(ACCOUNT_ID, self.region)}/{resource_id}")
        elif typ == "aws:s3/bucket:Bucket" or typ == "aws:s3/bucketV2:BucketV2":
            state.setdefault("bucket", physical)
            resource_id = state["bucket"]
            state["arn"] = f"arn:aws:s3:::{resource_id}"
        else:
            resource_id = f"{physical}-{digest(typ, name, length=8)}"
            state.setdefault("arn", arn(self.region, service, f"{kind.lower()}/{physical}"))
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state["latestVersion"] = 1
        if typ == "aws:acm/certificate:Certificate":
            state["domainValidationOptions"] = [self._validation_option(d) for d in
                                                [state["domainName"], *state.get("subjectAlternativeNames", [])]]
        if typ == "aws:route53/record:Record":
            state["fqdn"] = str(state.get("name", "")).rstrip(".")
        if typ == "aws:cognito/userPool:UserPool":
            resource_id = f"{self.region}_{digest(name, length=9)}"
            state["arn"] = arn(self.region, "cognito-idp", f"userpool/{resource_id}")
        if typ == USER_POOL_DOMAIN:
            resource_id = check_domain_prefix(str(state.get("domain")))
        if typ == "aws:cognito/userPoolClient:UserPoolClient":
            resource_id = digest(name, length=26)
            state["clientSecret"] = digest(name, "secret", length=51)
        if typ == "aws:ec2/subnet:Subnet":
            self.subnet_zones[resource_id] = str(state.get("availabilityZone"))
        if typ == "aws:efs/mountTarget:MountTarget":
            self._one_mount_target_per_zone(state)
        state["id"] = resource_id
        return resource_id, state

    def _validation_option(self, domain: str) -> dict[str, str]:
        """ACM's DNS validation CNAME for one name (random-looking labels under the name and acm-validations.aws)."""
        return {"domainName": domain, "resourceRecordName": f"_{digest('acm', domain, length=32)}.{domain}.",
                "resourceRecordType": "CNAME", "resourceRecordValue": f"_{digest('acm-v', domain, length=32)}.acm-validations.aws."}

    def ecr_token(self, registry_id: str) -> dict[str, Any]:
        """What ecr.getAuthorizationToken answers: user AWS, a 12-hour token for the registry."""
        password = "eyJ" + digest("ecr-token", registry_id, length=40)
        return {
            "registryId": registry_id, "userName": "AWS", "password": password,
            "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
            "proxyEndpoint": f"https://{ecr_registry(registry_id, self.region)}", "expiresAt": "2026-12-01T00:00:00Z",
            "id": self.region,
        }

    def _one_mount_target_per_zone(self, state: dict[str, Any]) -> None:
        """EFS refuses a second mount target of a file system in one AZ (CreateMountTarget:
        MountTargetConflict, EFS API reference): refuse it here too."""
        subnet = str(state.get("subnetId"))
        zone = self.subnet_zones.get(subnet) or self.subnet(subnet)["availabilityZone"]
        key = (str(state.get("fileSystemId")), zone)
        if key in self.mount_target_zones:
            raise ValueError(f"MountTargetConflict: file system {key[0]} already has a mount target in {zone} "
                             f"(subnet {subnet}); EFS allows one mount target per Availability Zone")
        self.mount_target_zones.add(key)

    def _kubernetes(self, typ: str, name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        metadata = dict(state.get("metadata") or {})
        metadata.setdefault("name", name)
        state["metadata"] = metadata
        namespace = metadata.get("namespace")
        if typ == "kubernetes:networking.k8s.io/v1:IngressClass" and (state.get("spec") or {}).get("controller") == "ingress.k8s.aws/alb":
            self.alb_ingress_classes.add(metadata["name"])
        if typ == "kubernetes:networking.k8s.io/v1:Ingress":
            state["status"] = self._ingress_status(metadata, state.get("spec") or {})
        if typ == "kubernetes:helm.sh/v3:Release":
            state["status"] = {"name": state.get("name"), "namespace": state.get("namespace"), "status": "deployed",
                               "version": state.get("version"), "chart": state.get("chart"), "revision": 1}
        return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), state

    def _ingress_status(self, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        """The provider waits for .status.loadBalancer.ingress (pulumi-kubernetes Ingress await logic);
        only a controller that serves the Ingress's class fills it in, so an Ingress of any other
        class would time out: refused here, as `pulumi up` would fail after 10 minutes."""
        klass = spec.get("ingressClassName")
        if klass not in self.alb_ingress_classes:
            raise Exception(
                f"Ingress {metadata.get('namespace')}/{metadata['name']}: no IngressClass {klass!r} served by "
                "ingress.k8s.aws/alb was created before it; no controller would give it an address and the "
                "provider's await would time out"
            )
        host = f"k8s-{digest('alb', klass, length=8)}-{digest('alb-id', klass, length=10)}.{self.region}.elb.amazonaws.com"
        return {"loadBalancer": {"ingress": [{"hostname": host}]}}

    def _random(self, typ: str, name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        seed = digest(typ, name, length=64)
        if typ in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
            length = int(state.get("length", 32))
            state["result"] = (seed * 4)[:length]
        elif typ == "random:index/randomId:RandomId":
            size = int(state.get("byteLength", 16))
            raw = bytes.fromhex((seed * 4)[: size * 2])
            state.update(hex=raw.hex(), b64Std=base64.b64encode(raw).decode(), b64Url=base64.urlsafe_b64encode(raw).decode().rstrip("="))
        elif typ == "random:index/randomUuid:RandomUuid":
            state["result"] = f"{seed[:8]}-{seed[8:12]}-4{seed[13:16]}-8{seed[17:20]}-{seed[20:32]}"
        return f"{name}-{seed[:8]}", state

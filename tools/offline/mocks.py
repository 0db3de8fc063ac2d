"""Provider stand-ins for the offline engine: realistic ids, ARNs and invoke results."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from pulumi.runtime import Mocks, MockCallArgs, MockResourceArgs

ACCOUNT_ID = "123456789012"

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


def digest(*parts: str, length: int = 17) -> str:
    """A stable hex string derived from `parts`."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def arn(region: str, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
    """An ARN in the mock account."""
    return f"arn:aws:{service}:{region if regional else ''}:{ACCOUNT_ID if account else ''}:{resource}"


class PlatformMocks(Mocks):
    """Returns each resource's inputs plus what its provider would compute (ids, ARNs, names)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.alb_ingress_classes: set[str] = set()  # IngressClasses served by the AWS Load Balancer Controller

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        typ, name = args.typ, args.name
        if typ.startswith("kubernetes:"):
            return self._kubernetes(typ, name, state)
        if typ.startswith("random:"):
            return self._random(typ, name, state)
        if typ.startswith("aws:"):
            return self._aws(typ, name, state)
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
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline",
                "userId": "AIDAOFFLINE",
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:lb/getHostedZoneId:getHostedZoneId":
            # The canonical hosted zone of a region's ALBs (AWS General Reference, "Elastic Load Balancing
            # endpoints and quotas"); two real ones, a stable stand-in elsewhere
            known = {"us-east-1": "Z35SXDOTRQ7X7K", "eu-west-1": "Z32O12XQLNTSW2"}
            return {"id": known.get(self.region, "Z" + digest("alb-zone", self.region, length=12).upper()),
                    "loadBalancerType": args.args.get("loadBalancerType"), "region": self.region}, []
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
        if typ == "aws:cognito/userPoolClient:UserPoolClient":
            resource_id = digest(name, length=26)
            state["clientSecret"] = digest(name, "secret", length=51)
        state["id"] = resource_id
        return resource_id, state

    def _validation_option(self, domain: str) -> dict[str, str]:
        """ACM's DNS validation CNAME for one name (random-looking labels under the name and acm-validations.aws)."""
        return {"domainName": domain, "resourceRecordName": f"_{digest('acm', domain, length=32)}.{domain}.",
                "resourceRecordType": "CNAME", "resourceRecordValue": f"_{digest('acm-v', domain, length=32)}.acm-validations.aws."}

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

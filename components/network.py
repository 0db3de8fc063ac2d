"""Network: a VPC with public and private subnets across AZs and NAT, or an existing VPC;
private subnets per AZ for node groups that must stay in one zone."""

from __future__ import annotations

import ipaddress
from typing import Optional, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi_aws import ec2

from components.settings.infra import NetworkSettings


class NetworkArgs(TypedDict):
    """Inputs of `Network`."""

    settings: NetworkSettings
    """VPC CIDR, AZ count, NAT mode, or existing ids."""
    cluster_name: str
    """EKS cluster name, for the subnet discovery tags."""
    tags: dict[str, str]
    """Tags for every resource."""


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(public, private) CIDRs: large private subnets (pods take VPC IPs), small public ones."""
    vpc = ipaddress.ip_network(vpc_cidr)
    blocks = list(vpc.subnets(prefixlen_diff=3))
    private = [str(b) for b in blocks[:az_count]]
    public = [str(b) for b in list(blocks[-1].subnets(prefixlen_diff=3))[:az_count]]
    return public, private


class Network(pulumi.ComponentResource):
    """Public subnets (load balancers, NAT) and private subnets (nodes) across 2-3 AZs."""

    vpc_id: pulumi.Output[str]
    """The VPC id."""
    public_subnet_ids: pulumi.Output[list[str]]
    """Public subnet ids, one per AZ."""
    private_subnet_ids: pulumi.Output[list[str]]
    """Private subnet ids, one per AZ (nodes run here)."""
    private_subnet_ids_by_zone: dict[str, pulumi.Output[list[str]]]
    """Private subnet ids per AZ (the zones are known when the program runs)."""

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:network:Network", name, {}, opts)
        settings = args["settings"]
        if settings.existing_vpc_id:
            self.vpc_id = pulumi.Output.from_input(settings.existing_vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(list(settings.existing_public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(settings.existing_private_subnet_ids))
            self.private_subnet_ids_by_zone = self._existing_by_zone(settings.existing_private_subnet_ids)
        else:
            self._build(name, settings, args["cluster_name"], args["tags"])
        self.register_outputs({
            "vpc_id": self.vpc_id, "public_subnet_ids": self.public_subnet_ids, "private_subnet_ids": self.private_subnet_ids,
            "private_subnet_ids_by_zone": self.private_subnet_ids_by_zone,
        })

    @property
    def zones(self) -> list[str]:
        """The AZs that have private subnets, sorted."""
        return sorted(self.private_subnet_ids_by_zone)

    def private_subnets_in(self, zone: Optional[str], key: str) -> tuple[str, pulumi.Output[list[str]]]:
        """(zone, its private subnet ids): `zone`, or the network's first AZ when None.

        A zone the network has no private subnet in is a config error naming `key`."""
        chosen = zone or self.zones[0]
        if chosen not in self.private_subnet_ids_by_zone:
            raise pulumi.RunError(
                f"genai-platform:{key} = {chosen!r}: the network has private subnets only in "
                f"{', '.join(self.zones)}. Fix: pulumi config set --path '{key}' {self.zones[0]}"
            )
        return chosen, self.private_subnet_ids_by_zone[chosen]

    def _existing_by_zone(self, subnet_ids: list[str]) -> dict[str, pulumi.Output[list[str]]]:
        """Existing private subnets grouped by their AZ, read with plain (synchronous) ec2.get_subnet
        invokes: the zones decide which subnets a single-AZ node group gets, before any resource."""
        by_zone: dict[str, list[str]] = {}
        for subnet_id in subnet_ids:
            subnet = ec2.get_subnet(id=subnet_id, opts=pulumi.InvokeOptions(parent=self))
            by_zone.setdefault(subnet.availability_zone, []).append(subnet_id)
        if len(by_zone) < 2:
            # EKS CreateCluster wants subnets in at least two AZs (EKS User Guide, "VPC and subnet requirements")
            raise pulumi.RunError(
                f"genai-platform:network.existingPrivateSubnetIds = {subnet_ids}: all are in "
                f"{', '.join(sorted(by_zone))}; EKS needs private subnets in at least two availability zones. "
                "Fix: pulumi config set --path 'network.existingPrivateSubnetIds[1]' <a subnet in another AZ>"
            )
        return {zone: pulumi.Output.from_input(ids) for zone, ids in sorted(by_zone.items())}

    def _build(self, name: str, settings: NetworkSettings, cluster_name: str, tags: dict[str, str]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        zones = self._zones(settings)
        cluster_tag = {f"kubernetes.io/cluster/{cluster_name}": "shared"}

        # Define the VPC and its internet gateway
        vpc = ec2.Vpc(
            f"{name}-vpc", cidr_block=settings.vpc_cidr, enable_dns_hostnames=True, enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"}, opts=child,
        )
        igw = ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=child)
        public_rt = ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id,
            routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={**tags, "Name": f"{name}-public"}, opts=child,
        )

        # Subnets per AZ: public for NAT and load balancers, private for nodes
        public_cidrs, private_cidrs = subnet_cidrs(settings.vpc_cidr, settings.az_count)
        public, private, nats = [], [], []
        for i in range(settings.az_count):
            az = zones[i]
            pub = ec2.Subnet(
                f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=public_cidrs[i], availability_zone=az,
                map_public_ip_on_launch=False,
                tags={**tags, **cluster_tag, "Name": f"{name}-public-{i}", "kubernetes.io/role/elb": "1"}, opts=child,
            )
            ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=pub.id, route_table_id=public_rt.id, opts=child)
            public.append(pub)
            if i == 0 or settings.nat_gateways == "perAz":
                eip = ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={**tags, "Name": f"{name}-nat-{i}"}, opts=child)
                nats.append(
                    ec2.NatGateway(
                        f"{name}-nat-{i}", subnet_id=pub.id, allocation_id=eip.id,
                        tags={**tags, "Name": f"{name}-nat-{i}"}, opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                    )
                )
            priv = ec2.Subnet(
                f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=private_cidrs[i], availability_zone=az,
                tags={**tags, **cluster_tag, "Name": f"{name}-private-{i}", "kubernetes.io/role/internal-elb": "1"},
                opts=child,
            )
            rt = ec2.RouteTable(
                f"{name}-private-{i}", vpc_id=vpc.id,
                routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nats[-1].id)],
                tags={**tags, "Name": f"{name}-private-{i}"}, opts=child,
            )
            ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=priv.id, route_table_id=rt.id, opts=child)
            private.append(priv)

        self.vpc_id = vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])
        self.private_subnet_ids_by_zone = {zones[i]: pulumi.Output.all(s.id) for i, s in enumerate(private)}

    def _zones(self, settings: NetworkSettings) -> list[str]:
        if settings.availability_zones:
            return list(settings.availability_zones)
        # A plain (synchronous) invoke: the zone count is checked before any AWS resource exists
        available = aws.get_availability_zones(
            state="available", filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOptions(parent=self),
        ).names
        if len(available) < settings.az_count:
            raise pulumi.RunError(
                f"genai-platform:network.azCount = {settings.az_count}: this region offers only "
                f"{len(available)} availability zones ({', '.join(available)}). "
                f"Fix: pulumi config set --path 'network.azCount' {len(available)}"
            )
        return sorted(available)[: settings.az_count]

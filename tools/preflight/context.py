"""What every preflight check is given, and how it calls AWS.

A check takes a `PreflightTarget` (plain values derived from the stack settings) and a
`Clients` (boto3 clients for the stack's region, injectable for tests); `guard` runs its AWS
calls so that a botocore error becomes a failed `CheckResult` instead of a traceback.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from components import catalog
from components.endpoint_access import EGRESS_IP_SERVICE

from .report import AWS_ERRORS, CheckResult, result_from_aws_error


@dataclass(frozen=True)
class PreflightTarget:
    """What the stack will deploy, as far as the preflight checks care."""

    region: str
    availability_zones: list[str] | None
    az_count: int
    neuron_instance_types: list[str]
    neuron_max_size: int
    neuron_capacity_type: str  # "ON_DEMAND" | "SPOT"
    bedrock_model_ids: list[str]
    eks_version: str
    expected_account_id: str | None
    neuron_availability_zone: str | None = None  # None: the network's first AZ (alphabetically)
    existing_private_subnet_ids: tuple[str, ...] = ()  # an existing VPC's private subnets
    cluster_name: str = ""
    public_access_cidrs: tuple[str, ...] = ()  # empty: the API endpoint is private only
    deployer_in_vpc: bool = False
    private_access_cidrs: tuple[str, ...] = ()  # let through to the private endpoint on 443
    existing_vpc_id: str | None = None  # None: the stack creates the VPC
    # (settings key, ARN) of every principal the program gives an access entry, e.g.
    # ("cluster.adminPrincipals[0]", "arn:aws:iam::111122223333:role/admin")
    access_principals: tuple[tuple[str, str], ...] = ()
    creator_principal: str | None = None  # cluster.creatorPrincipal: who created the cluster, when not the caller
    eks_addons: tuple[str, ...] = ()  # the EKS add-ons the program installs
    addon_versions: tuple[tuple[str, str], ...] = ()  # (add-on, pinned version) from cluster.addonVersions


def _plain(value: Any) -> Any:
    """Enum members -> their value; everything else unchanged."""
    return getattr(value, "value", value)


def _installed_addons(settings: Any) -> tuple[str, ...]:
    """The EKS add-ons this stack installs: the container-logs add-on only with monitoring.logs on,
    the EFS CSI driver only with the EFS model cache and a model to cache (as __main__.py does)."""
    monitoring = getattr(settings, "monitoring", None)
    logs = monitoring is not None and monitoring.enabled and monitoring.logs.enabled
    cache = getattr(settings, "model_cache", None)
    efs = cache is not None and cache.kind == "efs" and bool(getattr(settings, "models", None))
    skipped = {catalog.LOGS_ADDON: not logs, catalog.EFS_CSI_ADDON: not efs}
    return tuple(a for a in catalog.EKS_ADDONS if not skipped.get(a, False))


def target_from_settings(settings: Any) -> PreflightTarget:
    """Build the target from the stack's `Settings` object (or anything of the same shape)."""
    network, neuron, cluster = settings.network, settings.neuron, settings.cluster
    azs = getattr(network, "availability_zones", None)
    account = getattr(settings, "account_id", None)
    return PreflightTarget(
        region=str(settings.region),
        availability_zones=[str(z) for z in azs] if azs else None,
        az_count=int(network.az_count),
        neuron_instance_types=[str(_plain(t)) for t in neuron.instance_types],
        neuron_max_size=int(neuron.max_size),
        neuron_capacity_type=str(_plain(neuron.capacity_type)).upper().replace("-", "_"),
        bedrock_model_ids=[str(m.model_id) for m in settings.bedrock_models],
        eks_version=str(cluster.version),
        expected_account_id=str(account) if account else None,
        neuron_availability_zone=getattr(neuron, "availability_zone", None),
        existing_private_subnet_ids=tuple(getattr(network, "existing_private_subnet_ids", None) or ()),
        cluster_name=str(settings.cluster_name),
        public_access_cidrs=tuple(str(c) for c in cluster.public_access_cidrs),
        deployer_in_vpc=bool(cluster.deployer_in_vpc),
        private_access_cidrs=tuple(str(c) for c in cluster.private_access_cidrs),
        existing_vpc_id=network.existing_vpc_id or None,
        access_principals=tuple(
            (f"cluster.{key}[{i}]", str(arn))
            for key, arns in (("adminPrincipals", getattr(cluster, "admin_principals", None)),
                              ("readerPrincipals", getattr(cluster, "reader_principals", None)))
            for i, arn in enumerate(arns or ())
        ),
        creator_principal=getattr(cluster, "creator_principal", None),
        eks_addons=_installed_addons(settings),
        addon_versions=tuple(sorted((getattr(cluster, "addon_versions", None) or {}).items())),
    )


class Clients:
    """Lazily created, cached boto3 clients for one region, and the caller's egress IP.

    `factory(service, region)` builds a client; pass one to wrap clients (record calls,
    attach a botocore Stubber) or to use a specific boto3 session. `egress_ip()` returns the
    public IP address this machine's connections leave from (tests pass a stub).
    """

    def __init__(self, region: str, factory: Callable[[str, str], Any] | None = None,
                 egress_ip: Callable[[], str] | None = None) -> None:
        self.region = region
        self._factory = factory or _default_factory()
        self._cache: dict[str, Any] = {}
        self.egress_ip = egress_ip or fetch_egress_ip

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self._factory(service, self.region)
        return self._cache[service]


def fetch_egress_ip(url: str = EGRESS_IP_SERVICE, timeout: float = 5.0) -> str:
    """This machine's public IPv4 address as AWS sees it (the service answers with the bare address)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed https URL
        return response.read(64).decode("ascii", "replace").strip()


def _default_factory() -> Callable[[str, str], Any]:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    config = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 3})
    return lambda service, region: session.client(service, region_name=region, config=config)


def guard(name: str, service: str, fn: Callable[[], list[CheckResult] | CheckResult]) -> list[CheckResult]:
    """Run `fn`; botocore errors become one FAIL named `name` instead of a traceback."""
    try:
        out = fn()
    except AWS_ERRORS as exc:
        return [result_from_aws_error(name, service, exc)]
    return out if isinstance(out, list) else [out]


def error_code(exc: ClientError) -> str:
    """The AWS error code of a botocore `ClientError` (e.g. `ResourceNotFoundException`)."""
    return exc.response.get("Error", {}).get("Code", "")

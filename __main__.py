"""genai-platform: settings -> components -> exports."""

import pulumi
import pulumi_aws as aws

from components import images
from components.apps.access import ReaderAccess
from components.apps.agent_server import AgentServer
from components.apps.context import AppContext
from components.apps.credentials import Credentials
from components.apps.datastores import DataStores
from components.apps.gateway import Gateway
from components.apps.gateway_config import gateway_routing
from components.apps.gateway_keys import GatewayKeys
from components.apps.langfuse import Langfuse
from components.apps.model_servers import ModelServers
from components.apps.open_webui import OpenWebUI
from components.autoscaling.cluster_autoscaler import ClusterAutoscaler
from components.autoscaling.model_autoscaling import ModelAutoscaling
from components.bedrock_access import BedrockAccess
from components.cluster import Cluster
from components.endpoint_access import refuse_placeholders_when_deploying
from components.exports import access_instructions
from components.front_door.component import FrontDoor, FrontDoorRoutes
from components.monitoring.component import Monitoring
from components.namespace import PlatformNamespace
from components.network import Network
from components.neuron_device_plugin import NeuronDevicePlugin
from components.neuron_node_group import NeuronNodeGroup
from components.settings import SettingsError, load_settings_from_runtime
from components.settings.scaling_checks import neuron_zone_pinned
from components.shared_cache import SharedModelCache

NAMESPACE = "genai"
BEDROCK_SERVICE_ACCOUNTS = ["litellm"]  # the agent server calls models only through LiteLLM

try:
    settings = load_settings_from_runtime()
except SettingsError as err:
    raise pulumi.RunError(str(err)) from None
refuse_placeholders_when_deploying(settings.cluster.public_access_cidrs)

stack = f"genai-{settings.environment}"
tags = {"project": "genai-platform", "environment": settings.environment, "managed-by": "pulumi"}
account_id = settings.account_id or aws.get_caller_identity_output().account_id

# AWS base: network, EKS, Neuron capacity, Bedrock access
network = Network(stack, {"settings": settings.network, "cluster_name": settings.cluster_name, "tags": tags})
cluster = Cluster(stack, {
    "settings": settings.cluster,
    "cluster_name": settings.cluster_name,
    "region": settings.region,
    "account_id": account_id,
    "vpc_id": network.vpc_id,
    "public_subnet_ids": network.public_subnet_ids,
    "private_subnet_ids": network.private_subnet_ids,
    "tags": tags,
    "reader_group": settings.access.reader_group,
    "retention": settings.retention,
})
# The Neuron group spans every AZ with the shared (EFS) cache; one AZ with zonal EBS caches or neuron.availabilityZone
if neuron_zone_pinned(settings):
    neuron_zone, neuron_subnet_ids = network.private_subnets_in(settings.neuron.availability_zone, "neuron.availabilityZone")
    neuron_zones = [neuron_zone]
else:
    neuron_zones, neuron_subnet_ids = list(network.zones), network.private_subnet_ids
neuron_nodes = NeuronNodeGroup(f"{stack}-neuron", {
    "settings": settings.neuron,
    "cluster_name": cluster.cluster_name,
    "kubernetes_version": settings.cluster.version,
    "availability_zones": neuron_zones,
    "subnet_ids": neuron_subnet_ids,
    "tags": tags,
    "region": settings.region,
    "node_addons": cluster.node_addons,
    "autoscaled": settings.neuron_autoscaler.enabled,
})
if settings.neuron_autoscaler.enabled:
    ClusterAutoscaler(f"{stack}-cluster-autoscaler", {
        "settings": settings.neuron_autoscaler,
        "cluster_name": cluster.cluster_name,
        "cluster_name_value": settings.cluster_name,
        "region": settings.region,
        "account_id": account_id,
        "neuron_asg_name": neuron_nodes.autoscaling_group_name,
        "neuron_instance": settings.neuron.launched_instance[0],
        "provider": cluster.provider,
        "tags": tags,
    })
NeuronDevicePlugin(f"{stack}-neuron-device-plugin", {
    "image": images.NEURON_DEVICE_PLUGIN, "instance_types": settings.neuron.instance_types, "provider": cluster.provider,
})
bedrock = BedrockAccess(f"{stack}-bedrock", {
    "models": settings.bedrock_models,
    "region": settings.region,
    "account_id": account_id,
    "cluster_name": cluster.cluster_name,
    "namespace": NAMESPACE,
    "service_accounts": BEDROCK_SERVICE_ACCOUNTS,
    "tags": tags,
})

# In-cluster platform: namespace, credentials, stores, models, gateway, tracing, UI, agents
namespace = PlatformNamespace(f"{stack}-namespace", {
    "name": NAMESPACE, "provider": cluster.provider, "depends_on": cluster.apps_wait_for,
})
credentials = Credentials(f"{stack}-credentials", settings.retention)
# The front door (issue 12): controller, certificate, WAF and SSO first, so the apps know their URLs
front_door = None
if settings.front_door.enabled:
    front_door = FrontDoor(f"{stack}-front-door", settings, cluster_name=cluster.cluster_name, vpc_id=network.vpc_id,
                           account_id=account_id, provider=cluster.provider, tags=tags,
                           client_secret=pulumi.Config().get_secret("ssoClientSecret"))
ctx = AppContext(settings=settings, namespace=namespace.name, namespace_name=NAMESPACE, provider=cluster.provider,
                 credentials=credentials, account_id=account_id, pod_identities=bedrock.associations,
                 front_door=front_door.plan if front_door else None)
DataStores(f"{stack}-datastores", ctx)
shared_claim = None
if settings.model_cache.kind == "efs" and settings.models:
    shared_claim = SharedModelCache(f"{stack}-model-cache", {
        "settings": settings.model_cache,
        "retention": settings.retention,
        "cluster_name": cluster.cluster_name,
        "cluster_security_group_id": aws.eks.get_cluster_output(name=cluster.cluster_name).vpc_config.cluster_security_group_id,
        "vpc_id": network.vpc_id,
        "private_subnet_ids_by_zone": network.private_subnet_ids_by_zone,
        "namespace": namespace.name,
        "namespace_name": NAMESPACE,
        "account_id": account_id,
        "region": settings.region,
        "provider": cluster.provider,
        "tags": tags,
        "addon_version": settings.cluster.addon_versions.get("aws-efs-csi-driver"),
        "expected_gib": sum(m.cache_gib for m in settings.models),
    }).claim_name
models = ModelServers(f"{stack}-models", ctx, pulumi.Config().get_secret("hfToken"), shared_claim=shared_claim)
if any(m.autoscaled for m in settings.models):
    ModelAutoscaling(f"{stack}-model-autoscaling", {
        "settings": settings.model_autoscaling, "models": settings.models, "namespace": namespace.name,
        "namespace_name": NAMESPACE, "provider": cluster.provider, "depends_on": models.workloads,
    })
gateway = Gateway(f"{stack}-gateway", ctx)
# A LiteLLM key per client (the master key stays with administrators)
gateway_keys = GatewayKeys(
    f"{stack}-gateway-keys", ctx, gateway_url=ctx.service_url("litellm", 4000),
    master_key_secret=gateway.credentials_secret, image=settings.gateway.image, depends_on=[gateway.workload],
)
langfuse = Langfuse(f"{stack}-langfuse", ctx, cluster.cluster_name, tags)
agent = AgentServer(f"{stack}-agent-server", ctx, gateway_url=gateway.url, gateway_key=gateway_keys.keys["custom-server"], tags=tags)
open_webui = OpenWebUI(
    f"{stack}-open-webui", ctx, gateway_url=gateway.url, gateway_key=gateway_keys.keys["open-webui"], agent_url=agent.url,
    agent_port=agent.container_port, agent_key=agent.api_key, cluster_name=cluster.cluster_name, tags=tags,
)
ReaderAccess(f"{stack}-reader-access", ctx)
monitoring = None
if settings.monitoring.enabled:
    monitoring = Monitoring(f"{stack}-monitoring", {
        "settings": settings, "platform_namespace": NAMESPACE, "cluster_name": cluster.cluster_name,
        "account_id": account_id, "provider": cluster.provider, "tags": tags, "depends_on": [cluster.storage_class],
        "alert_webhook_url": pulumi.Config().get_secret("alertWebhookUrl"),
        "front_door": front_door.plan if front_door else None,
    })
if front_door:  # after the apps and Grafana (its Ingress is one of the routes)
    alb_subnets = network.public_subnet_ids if settings.front_door.scheme == "internet-facing" else network.private_subnet_ids
    routed = [gateway, langfuse, open_webui, *([monitoring] if monitoring else [])]
    FrontDoorRoutes(f"{stack}-front-door-routes", front_door, settings, namespace=namespace.name, subnet_ids=alb_subnets,
                    provider=cluster.provider, tags=tags, depends_on=routed)

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("region", settings.region)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("systemNodeGroupName", cluster.system_node_group_name)
pulumi.export("neuronNodeGroupName", neuron_nodes.node_group_name)
pulumi.export("neuronNodeRoleArn", neuron_nodes.role_arn)
pulumi.export("bedrockRoleArn", bedrock.role_arn)
pulumi.export("agentServerImage", agent.image)
pulumi.export("namespace", namespace.name)
pulumi.export("langfuseEventBucket", langfuse.bucket_name)
pulumi.export("litellmMasterKey", gateway.master_key)
pulumi.export("langfuseAdminPassword", langfuse.admin_password)
pulumi.export("langfuseAdminEmail", settings.langfuse.admin_email)
pulumi.export("openWebuiAdminEmail", settings.open_webui.admin_email)
pulumi.export("openWebuiAdminPassword", pulumi.Output.secret(credentials.open_webui_admin_password))
pulumi.export("access", access_instructions(settings, NAMESPACE))
if monitoring is not None:
    pulumi.export("grafanaAdminPassword", monitoring.grafana_admin_password)
pulumi.export("gatewayRouting", gateway_routing(settings))

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
from components.apps.langfuse import Langfuse
from components.apps.model_servers import ModelServers
from components.apps.open_webui import OpenWebUI
from components.bedrock_access import BedrockAccess
from components.cluster import Cluster
from components.exports import access_instructions
from components.front_door.component import FrontDoor, FrontDoorRoutes
from components.namespace import PlatformNamespace
from components.network import Network
from components.neuron_device_plugin import NeuronDevicePlugin
from components.neuron_node_group import NeuronNodeGroup
from components.settings import SettingsError, load_settings_from_runtime

NAMESPACE = "genai"
BEDROCK_SERVICE_ACCOUNTS = ["litellm", "custom-server"]

try:
    settings = load_settings_from_runtime()
except SettingsError as err:
    raise pulumi.RunError(str(err)) from None

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
})
# One AZ for the Neuron group: the model caches are zonal EBS volumes (ReadWriteOnce)
neuron_zone, neuron_subnet_ids = network.private_subnets_in(settings.neuron.availability_zone, "neuron.availabilityZone")
neuron_nodes = NeuronNodeGroup(f"{stack}-neuron", {
    "settings": settings.neuron,
    "cluster_name": cluster.cluster_name,
    "kubernetes_version": settings.cluster.version,
    "availability_zone": neuron_zone,
    "subnet_ids": neuron_subnet_ids,
    "tags": tags,
    "region": settings.region,
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
    "name": NAMESPACE, "provider": cluster.provider, "depends_on": [cluster.storage_class],
})
credentials = Credentials(f"{stack}-credentials")
# The front door (issue 12): controller, certificate, WAF and SSO first, so the apps know their URLs
front_door = None
if settings.front_door.enabled:
    front_door = FrontDoor(f"{stack}-front-door", settings, cluster_name=cluster.cluster_name, vpc_id=network.vpc_id,
                           account_id=account_id, provider=cluster.provider, tags=tags,
                           client_secret=pulumi.Config().get_secret("ssoClientSecret"))
ctx = AppContext(settings=settings, namespace=namespace.name, namespace_name=NAMESPACE, provider=cluster.provider,
                 credentials=credentials, account_id=account_id, front_door=front_door.plan if front_door else None)
DataStores(f"{stack}-datastores", ctx)
ModelServers(f"{stack}-models", ctx, pulumi.Config().get_secret("hfToken"))
gateway = Gateway(f"{stack}-gateway", ctx)
langfuse = Langfuse(f"{stack}-langfuse", ctx, cluster.cluster_name, tags)
agent = AgentServer(f"{stack}-agent-server", ctx, gateway_url=gateway.url, gateway_key=gateway.master_key)
open_webui = OpenWebUI(
    f"{stack}-open-webui", ctx, gateway_url=gateway.url, gateway_key=gateway.master_key, agent_url=agent.url,
    agent_port=agent.container_port, agent_key=agent.api_key, cluster_name=cluster.cluster_name, tags=tags,
)
ReaderAccess(f"{stack}-reader-access", ctx)
if front_door:
    alb_subnets = network.public_subnet_ids if settings.front_door.scheme == "internet-facing" else network.private_subnet_ids
    FrontDoorRoutes(f"{stack}-front-door-routes", front_door, settings, namespace=namespace.name, subnet_ids=alb_subnets,
                    provider=cluster.provider, tags=tags, depends_on=[gateway, langfuse, open_webui])

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("region", settings.region)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("systemNodeGroupName", cluster.system_node_group_name)
pulumi.export("neuronNodeGroupName", neuron_nodes.node_group_name)
pulumi.export("neuronNodeRoleArn", neuron_nodes.role_arn)
pulumi.export("bedrockRoleArn", bedrock.role_arn)
pulumi.export("namespace", namespace.name)
pulumi.export("langfuseEventBucket", langfuse.bucket_name)
pulumi.export("litellmMasterKey", gateway.master_key)
pulumi.export("langfuseAdminPassword", langfuse.admin_password)
pulumi.export("langfuseAdminEmail", settings.langfuse.admin_email)
pulumi.export("openWebuiAdminEmail", settings.open_webui.admin_email)
pulumi.export("openWebuiAdminPassword", pulumi.Output.secret(credentials.open_webui_admin_password))
pulumi.export("access", access_instructions(settings, NAMESPACE))

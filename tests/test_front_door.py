"""The front door as rendered: routes, hosts, TLS, scheme and exposure controls, DNS, certificate,
WAF, the apps' URLs and sign-in, the first admin, the `access` output and the cost lines."""

from __future__ import annotations

import json

import pytest

from components.front_door import routes
from components.settings import load_stack_settings
from k8s_manifests import manifests
from tools.cost.estimate import estimate
from tools.offline.engine import PROJECT_DIR

SECRET = {"secure": "v1:test-oidc-client-secret"}
OIDC = {"provider": "oidc", "issuerUrl": "https://login.example.com/realms/genai", "clientId": "genai-ui",
        "groupsClaim": "groups", "adminGroup": "platform-admins", "userGroup": "platform-users",
        # Grafana's generic OAuth takes the endpoints (Keycloak's paths under the issuer)
        "authorizationEndpoint": "https://login.example.com/realms/genai/protocol/openid-connect/auth",
        "tokenEndpoint": "https://login.example.com/realms/genai/protocol/openid-connect/token",
        "userinfoEndpoint": "https://login.example.com/realms/genai/protocol/openid-connect/userinfo"}


def objects(run, kind):
    return [m for m in manifests(run, masked=False) if m["kind"] == kind]


def env_of(run, app):
    (deployment,) = [m for m in objects(run, "Deployment") if m["metadata"]["name"] == app]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def secret_data(run, name):
    (secret,) = [m for m in objects(run, "Secret") if m["metadata"]["name"] == name]
    return secret.get("stringData") or {}


def resolved(run, value):
    """An env value, or the Secret value it references."""
    if isinstance(value, dict):
        ref = value["secretKeyRef"]
        return secret_data(run, ref["name"])[ref["key"]]
    return value


@pytest.fixture(scope="module")
def oidc_run():
    from tools.offline.engine import run_stack  # noqa: PLC0415
    return run_stack("dev", overrides={"genai-platform:frontDoor": {**_dev_front_door(), "sso": OIDC},
                                       "genai-platform:ssoClientSecret": SECRET})


def _dev_front_door():
    return load_stack_settings("dev", PROJECT_DIR).front_door.model_dump(by_alias=True, exclude_none=True)


# --- routes, hosts, TLS, scheme ------------------------------------------------------------------


def test_one_shared_alb_with_https_routes_per_host(stack_run):
    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    fd = settings.front_door
    (params,) = objects(stack_run, "IngressClassParams")
    (klass,) = objects(stack_run, "IngressClass")
    assert klass["spec"] == {"controller": "ingress.k8s.aws/alb", "parameters": {
        "apiGroup": "elbv2.k8s.aws", "kind": "IngressClassParams", "name": params["metadata"]["name"]}}
    spec = params["spec"]
    assert spec["group"] == {"name": routes.GROUP} and spec["scheme"] == fd.scheme == "internet-facing"
    assert spec["targetType"] == "ip" and spec["sslRedirectPort"] == "443"
    assert spec["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert spec["inboundCIDRs"] == fd.allowed_cidrs and "0.0.0.0/0" not in spec["inboundCIDRs"]
    assert len(spec["certificateArn"]) == 1 and spec["certificateArn"][0].startswith("arn:aws:acm:")
    public_subnets = [r.outputs.get("id") or r.name for r in stack_run.of_type("aws:ec2/subnet:Subnet") if "public" in r.name]
    assert len(spec["subnets"]["ids"]) == len(public_subnets) == settings.network.az_count
    # One Ingress per host, all of that class, each HTTPS for its own host
    ingresses = {i["spec"]["rules"][0]["host"]: i for i in objects(stack_run, "Ingress")}
    expected = {f"chat.{fd.domain}": ("open-webui", 80), f"traces.{fd.domain}": ("langfuse", 3000)}
    if fd.hosts.api:
        expected[f"api.{fd.domain}"] = ("litellm", 4000)
    expected[f"grafana.{fd.domain}"] = ("kps-grafana", 80)  # kube-prometheus-stack's Grafana, in `monitoring`
    assert {h: (i["spec"]["rules"][0]["http"]["paths"][-1]["backend"]["service"]["name"],
                i["spec"]["rules"][0]["http"]["paths"][-1]["backend"]["service"]["port"]["number"])
            for h, i in ingresses.items()} == expected
    services = {s["metadata"]["name"]: {p["port"] for p in s["spec"]["ports"]} for s in objects(stack_run, "Service")}
    for host, ingress in ingresses.items():
        assert ingress["spec"]["ingressClassName"] == klass["metadata"]["name"]
        assert ingress["spec"]["tls"] == [{"hosts": [host]}]
        assert json.loads(ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/listen-ports"]) == [
            {"HTTP": 80}, {"HTTPS": 443}]
        service, port = expected[host]
        if service == "kps-grafana":  # the Helm release's Service (not rendered offline)
            assert ingress["metadata"]["namespace"] == "monitoring"
            continue
        assert port in services[service], (service, services[service])


def test_the_api_host_answers_metrics_itself(stack_runs):
    """LiteLLM's /metrics needs no key (for the in-cluster Prometheus): through the ALB it is a fixed
    404, a rule listed before the forward to the gateway; the other hosts forward every path."""
    for run in stack_runs.values():
        for ingress in objects(run, "Ingress"):
            paths = ingress["spec"]["rules"][0]["http"]["paths"]
            annotations = ingress["metadata"]["annotations"]
            if paths[-1]["backend"]["service"]["name"] != "litellm":
                assert len(paths) == 1 and not any(".actions." in k for k in annotations)
                continue
            assert [(p["path"], p["backend"]["service"]) for p in paths] == [
                ("/metrics", {"name": routes.BLOCK_ACTION, "port": {"name": "use-annotation"}}),
                ("/", {"name": "litellm", "port": {"number": 4000}})]
            action = json.loads(annotations[f"alb.ingress.kubernetes.io/actions.{routes.BLOCK_ACTION}"])
            assert action["type"] == "fixed-response" and action["fixedResponseConfig"]["statusCode"] == "404"


def test_prod_has_the_api_route_and_a_waf_with_managed_rules(stack_runs):
    prod = stack_runs["prod"]
    (acl,) = prod.of_type("aws:wafv2/webAcl:WebAcl")
    assert acl.inputs["scope"] == "REGIONAL" and acl.inputs["defaultAction"] == {"allow": {}}
    groups = [r["statement"]["managedRuleGroupStatement"] for r in acl.inputs["rules"]]
    assert {g["vendorName"] for g in groups} == {"AWS"} and "AWSManagedRulesCommonRuleSet" in {g["name"] for g in groups}
    assert all(r["overrideAction"] == {"none": {}} for r in acl.inputs["rules"])
    (params,) = objects(prod, "IngressClassParams")
    assert params["spec"]["wafv2AclArn"] == acl.outputs["arn"]
    assert "wafv2AclArn" not in objects(stack_runs["dev"], "IngressClassParams")[0]["spec"]


def test_certificate_is_requested_and_validated_in_the_zone(dev):
    fd = load_stack_settings("dev", PROJECT_DIR).front_door
    (cert,) = dev.of_type("aws:acm/certificate:Certificate")
    hosts = [f"chat.{fd.domain}", f"traces.{fd.domain}", f"grafana.{fd.domain}"]
    assert [cert.inputs["domainName"], *cert.inputs.get("subjectAlternativeNames", [])] == hosts
    assert cert.inputs["validationMethod"] == "DNS"
    records = dev.of_type("aws:route53/record:Record")
    validation = [r for r in records if r.inputs["type"] == "CNAME"]
    options = cert.outputs["domainValidationOptions"]
    assert sorted(r.inputs["name"] for r in validation) == sorted(o["resourceRecordName"] for o in options)
    assert all(r.inputs["zoneId"] == fd.hosted_zone_id for r in records)
    (check,) = dev.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert sorted(check.inputs["validationRecordFqdns"]) == sorted(r.outputs["fqdn"] for r in validation)
    (params,) = objects(dev, "IngressClassParams")
    assert params["spec"]["certificateArn"] == [check.outputs["certificateArn"]]


def test_dns_alias_records_point_at_the_alb_from_the_ingress_status(dev):
    fd = load_stack_settings("dev", PROJECT_DIR).front_door
    aliases = [r for r in dev.of_type("aws:route53/record:Record") if r.inputs["type"] == "A"]
    alb = {i.outputs["status"]["loadBalancer"]["ingress"][0]["hostname"] for i in dev.of_type("kubernetes:networking.k8s.io/v1:Ingress")}
    assert len(alb) == 1, "all Ingresses of the group share one ALB"
    assert sorted(r.inputs["name"] for r in aliases) == [f"chat.{fd.domain}", f"grafana.{fd.domain}", f"traces.{fd.domain}"]
    for record in aliases:
        (alias,) = record.inputs["aliases"]
        assert alias["name"] == alb.pop() if alb else True
        assert alias["zoneId"] == "Z35SXDOTRQ7X7K"  # us-east-1 ALBs (the mock's real value)


def test_alias_records_take_the_albs_own_zone_in_regions_the_providers_table_lacks(run_with):
    """ap-southeast-5 is a region the catalog allows and the provider's static ALB zone table
    (aws.lb.get_hosted_zone_id) has no row for: the preview failed with "unsupported AWS Region".
    The zone now comes from the ALB the controller made, found by the controller's tags."""
    from tools.offline.mocks import ALB_ZONE_TABLE_REGIONS, _alb_zone  # noqa: PLC0415

    assert "ap-southeast-5" not in ALB_ZONE_TABLE_REGIONS
    models = [{"name": "claude-haiku-4-5", "modelId": "global.anthropic.claude-haiku-4-5-20251001-v1:0"}]
    run = run_with("dev", {"aws:region": "ap-southeast-5", "genai-platform:bedrockModels": models})
    aliases = [r for r in run.of_type("aws:route53/record:Record") if r.inputs["type"] == "A"]
    assert {r.inputs["name"].split(".")[0] for r in aliases} == {"chat", "traces", "grafana"}
    assert all(r.inputs["aliases"][0]["zoneId"] == _alb_zone("ap-southeast-5") for r in aliases)


def test_existing_certificate_no_zone_means_no_certificate_request_and_no_records(run_with):
    fd = {**_dev_front_door(), "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
          "0a1b2c3d-0000-4000-8000-0123456789ab"}
    fd.pop("hostedZoneId")
    run = run_with("dev", {"genai-platform:frontDoor": fd})
    assert not run.of_type("aws:acm/certificate:Certificate") and not run.of_type("aws:route53/record:Record")
    (params,) = objects(run, "IngressClassParams")
    assert params["spec"]["certificateArn"] == [fd["certificateArn"]]


def test_internal_scheme_uses_private_subnets(run_with):
    run = run_with("dev", {"genai-platform:frontDoor": {**_dev_front_door(), "scheme": "internal"}})
    (params,) = objects(run, "IngressClassParams")
    private = [r for r in run.of_type("aws:ec2/subnet:Subnet") if "private" in r.name]
    assert params["spec"]["scheme"] == "internal" and len(params["spec"]["subnets"]["ids"]) == len(private)


def test_ingress_of_a_class_no_controller_serves_is_refused_offline(monkeypatch, run_with):
    """The provider waits for the Ingress status, which only the controller of its class fills in:
    an Ingress whose class is not served by ingress.k8s.aws/alb would time out; the engine refuses it."""
    monkeypatch.setattr(routes, "CONTROLLER", "example.com/other")
    with pytest.raises(Exception, match="no IngressClass 'genai-alb' served by ingress.k8s.aws/alb"):
        run_with("dev", {})


# --- URLs, sign-in, first admin --------------------------------------------------------------------


def test_urls_everywhere(dev):
    fd = load_stack_settings("dev", PROJECT_DIR).front_door
    assert env_of(dev, "open-webui")["WEBUI_URL"] == f"https://chat.{fd.domain}"
    assert env_of(dev, "langfuse")["NEXTAUTH_URL"] == f"https://traces.{fd.domain}"
    access = dev.outputs["access"]
    assert access["open-webui"]["url"] == f"https://chat.{fd.domain}"
    assert access["langfuse"]["url"] == f"https://traces.{fd.domain}"
    assert "url" not in access["litellm"]  # no api host in dev
    assert access["open-webui"]["protectedBy"][:3] == [
        "TLS (HTTP redirected to HTTPS)", "internet-facing ALB", "allow-list 203.0.113.0/24"]
    assert access["open-webui"]["portForward"].startswith("kubectl port-forward")  # the fallback stays


def test_without_front_door_urls_fall_back_to_port_forward(run_with):
    run = run_with("dev", {"genai-platform:frontDoor": {"enabled": False}})
    assert "WEBUI_URL" not in env_of(run, "open-webui")
    assert env_of(run, "langfuse")["NEXTAUTH_URL"] == "http://localhost:3001"
    assert all("url" not in entry for entry in run.outputs["access"].values())
    # other Helm releases (autoscalers, monitoring) stay; the controller and every Ingress go
    charts = {r.inputs.get("chart") for r in run.of_type("kubernetes:helm.sh/v3:Release")}
    assert "aws-load-balancer-controller" not in charts and not objects(run, "Ingress")


def test_first_admin_is_created_by_the_program(stack_run):
    """No unclaimed admin: Open WebUI creates this admin at first start (WEBUI_ADMIN_EMAIL/PASSWORD,
    open_webui/env.py + main.py of 0.12.4); its password is a secret stack output."""
    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    env = env_of(stack_run, "open-webui")
    assert env["WEBUI_ADMIN_EMAIL"] == settings.open_webui.admin_email
    ref = env["WEBUI_ADMIN_PASSWORD"]["secretKeyRef"]
    password = secret_data(stack_run, ref["name"])[ref["key"]]
    assert len(password) >= 24
    assert stack_run.outputs["openWebuiAdminPassword"] == password
    assert "openWebuiAdminPassword" in stack_run.secret_outputs
    assert stack_run.outputs["openWebuiAdminEmail"] == settings.open_webui.admin_email


def test_cognito_sso_in_prod(stack_runs):
    prod = stack_runs["prod"]
    fd = load_stack_settings("prod", PROJECT_DIR).front_door
    (pool,) = prod.of_type("aws:cognito/userPool:UserPool")
    assert pool.inputs["adminCreateUserConfig"]["allowAdminCreateUserOnly"] is True
    (client,) = [c for c in prod.of_type("aws:cognito/userPoolClient:UserPoolClient") if "grafana" not in c.name]
    assert sorted(client.inputs["callbackUrls"]) == [f"https://chat.{fd.domain}/oauth/oidc/login/callback",
                                                     f"https://traces.{fd.domain}/api/auth/callback/custom"]
    assert client.inputs["allowedOauthFlows"] == ["code"] and client.inputs["generateSecret"] is True
    assert {g.inputs["name"] for g in prod.of_type("aws:cognito/userGroup:UserGroup")} == {"genai-admins", "genai-users"}
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{pool.outputs['id']}"
    webui, langfuse = env_of(prod, "open-webui"), env_of(prod, "langfuse")
    assert webui["OPENID_PROVIDER_URL"] == f"{issuer}/.well-known/openid-configuration"
    assert webui["OAUTH_ROLES_CLAIM"] == "cognito:groups" and webui["OAUTH_ADMIN_ROLES"] == "genai-admins"
    assert webui["OAUTH_CLIENT_ID"] == client.outputs["id"] == langfuse["AUTH_CUSTOM_CLIENT_ID"]
    assert langfuse["AUTH_CUSTOM_ISSUER"] == issuer
    ref = webui["OAUTH_CLIENT_SECRET"]["secretKeyRef"]
    assert secret_data(prod, ref["name"])[ref["key"]] == client.outputs["clientSecret"]


def test_oidc_sso_env_for_both_apps(oidc_run):
    fd = load_stack_settings("dev", PROJECT_DIR).front_door
    webui = env_of(oidc_run, "open-webui")
    assert {k: webui[k] for k in ("ENABLE_OAUTH_SIGNUP", "ENABLE_SIGNUP", "ENABLE_LOGIN_FORM",
                                  "ENABLE_OAUTH_ROLE_MANAGEMENT")} == {
        "ENABLE_OAUTH_SIGNUP": "True", "ENABLE_SIGNUP": "False", "ENABLE_LOGIN_FORM": "False",
        "ENABLE_OAUTH_ROLE_MANAGEMENT": "True"}
    assert resolved(oidc_run, webui["ENABLE_PASSWORD_AUTH"]) == "False"
    assert webui["OPENID_PROVIDER_URL"] == "https://login.example.com/realms/genai/.well-known/openid-configuration"
    assert webui["OPENID_REDIRECT_URI"] == f"https://chat.{fd.domain}/oauth/oidc/login/callback"
    assert webui["OAUTH_CLIENT_ID"] == "genai-ui" and webui["OAUTH_ROLES_CLAIM"] == "groups"
    assert webui["OAUTH_ALLOWED_ROLES"] == "platform-users,platform-admins" and webui["OAUTH_ADMIN_ROLES"] == "platform-admins"
    langfuse = env_of(oidc_run, "langfuse")
    assert {k: langfuse[k] for k in ("AUTH_CUSTOM_ISSUER", "AUTH_CUSTOM_CLIENT_ID", "AUTH_CUSTOM_NAME",
                                     "NEXTAUTH_URL")} == {
        "AUTH_CUSTOM_ISSUER": "https://login.example.com/realms/genai", "AUTH_CUSTOM_CLIENT_ID": "genai-ui",
        "AUTH_CUSTOM_NAME": "SSO", "NEXTAUTH_URL": f"https://traces.{fd.domain}"}
    assert resolved(oidc_run, langfuse["AUTH_DISABLE_USERNAME_PASSWORD"]) == "true"
    # The client secret reaches both apps only through Secrets, never as a literal env value
    for app, name in (("open-webui", "OAUTH_CLIENT_SECRET"), ("langfuse", "AUTH_CUSTOM_CLIENT_SECRET")):
        ref = env_of(oidc_run, app)[name]["secretKeyRef"]
        assert secret_data(oidc_run, ref["name"])[ref["key"]] == "offline-placeholder-ssoClientSecret"
    assert not oidc_run.of_type("aws:cognito/userPool:UserPool")


# --- cost ------------------------------------------------------------------------------------------


def test_cost_has_one_alb_per_group_and_the_waf(stack_runs):
    dev = estimate(stack_runs["dev"], region="us-east-1").to_dict()
    prod = estimate(stack_runs["prod"], region="us-east-1").to_dict()
    for result, waf in ((dev, False), (prod, True)):
        albs = [line for line in result["lines"] if line["key"] == "alb"]
        assert len(albs) == 1 and albs[0]["item"] == f"ALB of IngressGroup {routes.GROUP}"
        assert round(albs[0]["monthly"], 2) == round(0.0225 * result["hoursPerMonth"], 2)
        acl = [line for line in result["lines"] if line["key"] == "wafv2-web-acl"]
        rules = [line for line in result["lines"] if line["key"] == "wafv2-rule"]
        assert (len(acl), len(rules)) == ((1, 1) if waf else (0, 0))
    (rules,) = [line for line in prod["lines"] if line["key"] == "wafv2-rule"]
    assert rules["monthly"] == 3.0  # three managed rule groups at $1
    assert any("Cognito user pool" in a for a in prod["assumptions"])


def test_routes_and_exposed_pods_agree(dev):
    """Each route's Service port leads to the container port the NetworkPolicy opens to the ALB."""
    from components.front_door.plan import EXPOSED  # noqa: PLC0415
    assert set(routes.BACKENDS) == set(EXPOSED)
    services = {s["metadata"]["name"]: s["spec"]["ports"] for s in objects(dev, "Service")}
    for route, (service, port, _) in routes.BACKENDS.items():
        app, container_port = EXPOSED[route]
        if route in routes.NAMESPACES:  # Grafana's Service is the chart's: port 80 -> targetPort 3000
            assert (service, port, container_port) == ("kps-grafana", 80, 3000)
            continue
        assert service == app
        (target,) = [p["targetPort"] for p in services[service] if p["port"] == port]
        assert target in (container_port, "http"), (route, target)

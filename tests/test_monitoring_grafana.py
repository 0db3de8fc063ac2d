"""Grafana through the front door: its host on the shared ALB (Ingress, certificate, DNS, URL), SSO
with the front door's identity provider (Cognito in prod, your OIDC provider, none in dev), its
client secret only in a Secret, and the ALB's subnets admitted to Grafana's port and nothing else."""

from __future__ import annotations

import json

import jmespath
import pytest

from components.front_door import routes
from components.settings import load_stack_settings
from netpol_graph import Port, cluster_of
from test_front_door import OIDC, SECRET, _dev_front_door, objects, secret_data
from tools.offline.engine import PROJECT_DIR, run_stack
from tools.preview.front_door import url_lines

RELEASE = "kubernetes:helm.sh/v3:Release"


def _grafana_values(run):
    (release,) = [r for r in run.of_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"]
    return release.inputs["values"]["grafana"]


def _grafana_ingress(run):
    (ingress,) = [i for i in objects(run, "Ingress") if i["metadata"]["name"] == "front-door-grafana"]
    return ingress


def test_grafana_has_its_host_on_the_shared_alb(stack_run):
    fd = load_stack_settings(stack_run.stack, PROJECT_DIR).front_door
    host = f"grafana.{fd.domain}"
    ingress = _grafana_ingress(stack_run)
    assert ingress["metadata"]["namespace"] == "monitoring"
    assert ingress["spec"]["ingressClassName"] == routes.INGRESS_CLASS  # the class's group, scheme, allow-list, WAF
    assert ingress["spec"]["tls"] == [{"hosts": [host]}] and ingress["spec"]["rules"][0]["host"] == host
    assert ingress["spec"]["rules"][0]["http"]["paths"] == [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": "kps-grafana", "port": {"number": 80}}}}]
    assert json.loads(ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/listen-ports"]) == [
        {"HTTP": 80}, {"HTTPS": 443}]
    assert ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"] == "/api/health"
    (cert,) = stack_run.of_type("aws:acm/certificate:Certificate")
    assert host in [cert.inputs["domainName"], *cert.inputs.get("subjectAlternativeNames", [])]
    assert host in [r.inputs["name"] for r in stack_run.of_type("aws:route53/record:Record") if r.inputs["type"] == "A"]
    server = _grafana_values(stack_run)["grafana.ini"]["server"]
    assert server == {"root_url": f"https://{host}", "domain": host}
    grafana = stack_run.outputs["access"]["grafana"]
    assert grafana["url"] == f"https://{host}" and grafana["portForward"].startswith("kubectl port-forward -n monitoring")
    assert f"https://{host} -> grafana: TLS (HTTP redirected to HTTPS)" in "\n".join(url_lines(stack_run.outputs))


def test_only_the_alb_subnets_reach_grafana_and_only_its_port(stack_run):
    from test_network_policies import probe_addresses  # noqa: PLC0415

    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    alb_ip, other_ip = probe_addresses(settings)
    cluster = cluster_of(stack_run, alb_ip, other_ip)
    grafana = next(p for p in cluster.monitoring if p.name == "grafana")
    sources = {s.name: s for s in cluster.sources}
    assert cluster.ingress_ok(grafana, sources["alb"], Port("TCP", 3000))
    assert not cluster.ingress_ok(grafana, sources["alb"], Port("TCP", 9090))
    assert not cluster.ingress_ok(grafana, sources["vpc-other-host"], Port("TCP", 3000))
    assert not cluster.ingress_ok(grafana, sources["internet-client"], Port("TCP", 3000))


def test_without_the_front_door_grafana_stays_behind_port_forward():
    run = run_stack("dev", overrides={"genai-platform:frontDoor": {"enabled": False}})
    assert "grafana.ini" not in _grafana_values(run) and "envValueFrom" not in _grafana_values(run)
    assert not [p for p in objects(run, "NetworkPolicy") if p["metadata"]["name"] == "grafana-from-alb"]
    assert "url" not in run.outputs["access"]["grafana"]
    assert run.outputs["access"]["grafana"]["portForward"] == "kubectl port-forward -n monitoring svc/kps-grafana 3002:80"


def test_cognito_gives_grafana_its_own_client_and_the_secret_goes_through_env(stack_runs):
    prod = stack_runs["prod"]
    fd = load_stack_settings("prod", PROJECT_DIR).front_door
    (client,) = [c for c in prod.of_type("aws:cognito/userPoolClient:UserPoolClient") if "grafana" in c.name]
    assert client.inputs["callbackUrls"] == [f"https://grafana.{fd.domain}/login/generic_oauth"]
    assert client.inputs["generateSecret"] is True and client.inputs["allowedOauthFlows"] == ["code"]
    (domain,) = prod.of_type("aws:cognito/userPoolDomain:UserPoolDomain")
    values = _grafana_values(prod)
    oauth = values["grafana.ini"]["auth.generic_oauth"]
    base = f"https://{domain.inputs['domain']}.auth.us-east-1.amazoncognito.com/oauth2/"
    assert (oauth["auth_url"], oauth["token_url"], oauth["api_url"]) == (base + "authorize", base + "token", base + "userInfo")
    assert oauth["client_id"] == client.outputs["id"] and oauth["enabled"] is True and oauth["role_attribute_strict"] is True
    assert "client_secret" not in oauth and values["grafana.ini"]["auth"] == {"disable_login_form": True}
    ref = values["envValueFrom"]["GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"]["secretKeyRef"]
    assert secret_data(prod, ref["name"])[ref["key"]] == client.outputs["clientSecret"]
    assert client.outputs["clientSecret"] not in json.dumps(values)
    # The local admin keeps its generated password in its own Secret
    assert values["admin"]["existingSecret"] == "grafana-admin" and "grafanaAdminPassword" in prod.secret_outputs


def test_your_oidc_provider_signs_in_to_grafana_with_its_endpoints():
    run = run_stack("dev", overrides={"genai-platform:frontDoor": {**_dev_front_door(), "sso": OIDC},
                                      "genai-platform:ssoClientSecret": SECRET})
    oauth = _grafana_values(run)["grafana.ini"]["auth.generic_oauth"]
    assert oauth["client_id"] == OIDC["clientId"]
    assert (oauth["auth_url"], oauth["token_url"], oauth["api_url"]) == (
        OIDC["authorizationEndpoint"], OIDC["tokenEndpoint"], OIDC["userinfoEndpoint"])
    ref = _grafana_values(run)["envValueFrom"]["GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"]["secretKeyRef"]
    assert secret_data(run, ref["name"])[ref["key"]] == "offline-placeholder-ssoClientSecret"
    assert not run.of_type("aws:cognito/userPoolClient:UserPoolClient")


def test_oidc_without_the_endpoints_grafana_needs_is_refused():
    sso = {k: v for k, v in OIDC.items() if k != "tokenEndpoint"}
    with pytest.raises(Exception) as info:
        run_stack("dev", overrides={"genai-platform:frontDoor": {**_dev_front_door(), "sso": sso},
                                    "genai-platform:ssoClientSecret": SECRET})
    text = str(info.value)
    assert "genai-platform:frontDoor.sso.tokenEndpoint" in text and "Traceback" not in text
    assert "https://login.example.com/realms/genai/.well-known/openid-configuration" in text


@pytest.mark.parametrize("claims, role", [
    ({"cognito:groups": ["genai-admins", "genai-users"]}, "Admin"),
    ({"cognito:groups": ["genai-users"]}, "Viewer"),
    ({"cognito:groups": ["someone-else"]}, None),
    ({"email": "no-groups@example.com"}, None),
])
def test_group_claim_maps_to_grafana_roles_and_others_get_none(claims, role):
    """Evaluated with JMESPath as Grafana does on the ID token: anyone outside both groups gets no
    role, which role_attribute_strict turns into a refused sign-in."""
    from components.front_door.plan import GrafanaSso  # noqa: PLC0415
    from components.monitoring import grafana_access  # noqa: PLC0415

    sso = GrafanaSso(client_id="id", client_secret="secret", auth_url="a", token_url="t", api_url="u", display_name="Cognito",
                     groups_claim="cognito:groups", admin_group="genai-admins", user_group="genai-users")
    result = jmespath.search(grafana_access.role_attribute_path(sso), claims)
    assert (result or None) == role


def test_grafana_host_follows_the_metrics_stack():
    run = run_stack("dev", overrides={"genai-platform:monitoring": {"enabled": False}})
    assert "front-door-grafana" not in [i["metadata"]["name"] for i in objects(run, "Ingress")]
    (cert,) = run.of_type("aws:acm/certificate:Certificate")
    assert not [h for h in [cert.inputs["domainName"], *cert.inputs.get("subjectAlternativeNames", [])] if "grafana" in h]
    with pytest.raises(Exception) as info:
        run_stack("dev", overrides={"genai-platform:monitoring": {"enabled": False},
                                    "genai-platform:frontDoor": {**_dev_front_door(), "hosts": {"grafana": "dash"}}})
    assert "genai-platform:frontDoor.hosts.grafana" in str(info.value) and "monitoring.enabled" in str(info.value)


def test_the_front_door_policy_covers_grafanas_ingress(dev, dev_reported):
    """Grafana's route is a typed Ingress of this program (not one the chart renders), so the pack's
    k8s-front-door-https-restricted rule sees it: serving it over plain HTTP is reported."""
    from policy_cases import only_new, set_in, variant  # noqa: PLC0415

    rule, listen = "k8s-front-door-https-restricted", "alb.ingress.kubernetes.io/listen-ports"
    assert not {(r, urn) for r, urn in dev_reported if r == rule}
    records, urn = variant(dev, "kubernetes:networking.k8s.io/v1:Ingress", "-grafana",
                           set_in(("metadata", "annotations", listen), json.dumps([{"HTTP": 80}]), key="both"))
    assert "front-door-grafana" in urn or "grafana" in urn
    assert only_new(dev_reported, records) == {(rule, urn)}

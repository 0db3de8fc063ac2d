"""The metrics stack as the program renders it offline: the pinned release and its values, Grafana's
secret password, the scrape targets, neuron-monitor on the Neuron nodes, dashboards, logs, settings
errors, and what the preview shows (artifacts, cost, the Helm note)."""

from __future__ import annotations

import json

import pytest
import yaml

from components.monitoring import alerts, dashboards, metrics
from components.settings.loading import load_stack_settings, read_stack_file
from tools.offline.engine import PROJECT_DIR, run_stack
from tools.preview.render import build, entries
from tools.preview.masking import Masker

RELEASE = "kubernetes:helm.sh/v3:Release"


KPS = "kube-prometheus-stack"


def _kps(run):
    """The monitoring release (the autoscalers and the front door bring Helm releases of their own)."""
    (release,) = [r for r in run.of_type(RELEASE) if r.inputs["chart"] == KPS]
    return release


def _one(run, type_, name=None):
    found = [r for r in run.of_type(type_) if name is None or (r.inputs.get("metadata") or {}).get("name") == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_release_is_pinned_and_values_select_every_monitor(stack_run):
    release = _kps(stack_run).inputs
    assert release["chart"] == "kube-prometheus-stack" and release["version"] == "85.1.2"
    assert release["repositoryOpts"]["repo"] == "https://prometheus-community.github.io/helm-charts"
    spec = release["values"]["prometheus"]["prometheusSpec"]
    # ServiceMonitors/PodMonitors/PrometheusRules of this program carry no release label: all must be selected
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["podMonitorSelectorNilUsesHelmValues"] is False and spec["ruleSelectorNilUsesHelmValues"] is False
    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    assert spec["retention"] == settings.monitoring.retention
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == f"{settings.monitoring.storage_gib}Gi"
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert release["values"][component] == {"enabled": False}, "EKS control plane targets would only be down"


def test_grafana_admin_password_is_generated_secret_and_never_in_the_preview(stack_run):
    release = _kps(stack_run).inputs
    grafana = release["values"]["grafana"]
    assert grafana["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}
    assert "adminPassword" not in grafana
    password = _one(stack_run, "kubernetes:core/v1:Secret", "grafana-admin").inputs["stringData"]["admin-password"]
    assert len(password) >= 32
    assert "grafanaAdminPassword" in stack_run.secret_outputs
    files = build(entries(stack_run, Masker(stack_run)), {}, "")
    assert not [path for path, text in files.items() if password in text]


def test_scrape_targets(stack_run):
    monitors = {r.inputs["metadata"]["name"]: r.inputs for kind in ("ServiceMonitor", "PodMonitor")
                for r in stack_run.of_type(f"kubernetes:monitoring.coreos.com/v1:{kind}")}
    assert set(monitors) == {"litellm", "vllm", "neuron-monitor"}
    litellm = monitors["litellm"]["spec"]
    assert litellm["namespaceSelector"] == {"matchNames": ["genai"]}
    assert litellm["endpoints"][0]["path"] == "/metrics/" and litellm["endpoints"][0]["port"] == "http"
    assert monitors["vllm"]["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/component": "model-server"}}
    assert monitors["vllm"]["spec"]["scrapeProtocols"] == ["PrometheusText0.0.4"]
    assert monitors["neuron-monitor"]["spec"]["namespaceSelector"] == {"matchNames": ["kube-system"]}


def test_the_gateway_exports_spend_and_serves_metrics_without_a_key(stack_run):
    config = yaml.safe_load(_one(stack_run, "kubernetes:core/v1:ConfigMap", "litellm-config").inputs["data"]["config.yaml"])
    settings = config["litellm_settings"]
    assert settings["require_auth_for_metrics_endpoint"] is False
    assert "litellm_spend_metric" in settings["prometheus_metrics_config"][0]["metrics"]


def test_neuron_monitor_runs_on_neuron_nodes_only(stack_run):
    daemonset = _one(stack_run, "kubernetes:apps/v1:DaemonSet", "neuron-monitor").inputs
    assert daemonset["metadata"]["namespace"] == "kube-system"
    pod = daemonset["spec"]["template"]["spec"]
    assert {"key": "aws.amazon.com/neuron", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["nodeSelector"] == {"genai-platform/accelerator": "neuron"}
    [container] = pod["containers"]
    assert container["image"].startswith("public.ecr.aws/neuron/neuron-monitor:")
    assert container["command"] == ["/opt/bin/entrypoint.sh"] and container["args"] == ["--port", "8000"]
    assert "aws.amazon.com/neuron" not in container["resources"]["requests"], "the devices belong to vLLM"


def test_dashboards_are_provisioned_and_use_only_known_series(stack_run):
    maps = {r.inputs["metadata"]["name"]: r.inputs for r in stack_run.of_type("kubernetes:core/v1:ConfigMap")
            if (r.inputs["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"}
    assert set(maps) == {f"dashboard-{uid}" for uid in dashboards.DASHBOARDS}
    names = {v for k, v in vars(metrics).items() if k.isupper() and isinstance(v, str)}
    for uid in dashboards.DASHBOARDS:
        model = json.loads(maps[f"dashboard-{uid}"]["data"][f"{uid}.json"])
        assert model["uid"] == uid and model["panels"]
        for title, expr in dashboards.queries(model):
            assert any(n in expr or f"{n}_bucket" in expr for n in names), (title, expr)


def test_preview_artifacts_hold_dashboards_and_rules(stack_run):
    files = build(entries(stack_run, Masker(stack_run)), {}, "")
    assert "rules/monitoring-genai-platform.yaml" in files
    rules = yaml.safe_load(files["rules/monitoring-genai-platform.yaml"])
    assert {r["alert"] for r in rules["groups"][0]["rules"]} >= {"GatewayHighErrorRatio", "GatewaySpendOverBudget"}
    assert {f"config/dashboard-{uid}/{uid}.json" for uid in dashboards.DASHBOARDS} <= set(files)


def test_cost_includes_monitoring_volumes_logs_and_the_helm_note(stack_run):
    from tools.cost.estimate import estimate

    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    cost = estimate(stack_run, region=settings.region).to_dict()
    items = [line["item"] for line in cost["lines"] if line["component"].startswith("Monitoring")]
    assert any("prometheus.prometheusSpec.storageSpec" in i for i in items)
    assert any("CloudWatch Logs ingestion" in i for i in items)
    assert any("not visible in this offline preview" in n for n in cost["notes"])


def test_logs_go_to_log_groups_with_the_retention_from_settings(stack_run):
    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    groups = stack_run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert groups and all(g.inputs["retentionInDays"] == settings.monitoring.logs.retention_days for g in groups)
    addon = [r for r in stack_run.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "amazon-cloudwatch-observability"]
    assert len(addon) == 1
    assert addon[0].inputs["podIdentityAssociations"][0]["serviceAccount"] == "cloudwatch-agent"


def test_monitoring_can_be_turned_off():
    run = run_stack("dev", overrides={"genai-platform:monitoring": {"enabled": False}})
    assert not [r for r in run.of_type(RELEASE) if r.inputs["chart"] == KPS]
    assert all(r.inputs["addonName"] != "amazon-cloudwatch-observability" for r in run.of_type("aws:eks/addon:Addon"))
    assert "grafanaAdminPassword" not in run.outputs


@pytest.mark.parametrize("value, key, words", [
    ({"retention": "a week"}, "genai-platform:monitoring.retention", "Prometheus duration"),
    ({"logs": {"retentionDays": 10}}, "genai-platform:monitoring.logs.retentionDays", "CloudWatch Logs retention"),
    ({"receiver": {"kind": "webhook", "url": "https://hooks.example.com/x"}}, "genai-platform:monitoring.receiver.url",
     "pulumi config set --secret alertWebhookUrl"),
    ({"receiver": {"kind": "webhook"}}, "genai-platform:alertWebhookUrl", "pulumi config set --secret alertWebhookUrl"),
    ({"receiver": {"kind": "sns"}}, "genai-platform:monitoring.receiver.topicArn", "SNS topic ARN"),
    ({"receiver": {"kind": "sns", "topicArn": "arn:aws:sns:us-east-1:123456789012:t", "kmsKeyArn": "alias/aws/sns"}},
     "genai-platform:monitoring.receiver.kmsKeyArn", "KMS key ARN"),
    ({"receiver": {"kind": "none", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd"}},
     "genai-platform:monitoring.receiver.kmsKeyArn", "only when kind is sns"),
    ({"chartVersion": "85.x"}, "genai-platform:monitoring.chartVersion", "exact kube-prometheus-stack chart version"),
])
def test_bad_monitoring_settings_name_the_key(value, key, words):
    with pytest.raises(Exception) as info:
        run_stack("dev", overrides={"genai-platform:monitoring": value})
    text = str(info.value)
    assert key in text and words in text and "Traceback" not in text


def test_sns_receiver_gets_a_publish_only_role(run_with):
    topic = "arn:aws:sns:us-east-1:123456789012:genai-alerts"
    run = run_with("dev", {"genai-platform:monitoring": {"receiver": {"kind": "sns", "topicArn": topic}}})
    config = _kps(run).inputs["values"]["alertmanager"]["config"]
    [platform] = [r for r in config["receivers"] if r["name"] == "platform"]
    assert platform["sns_configs"][0]["topic_arn"] == topic
    policies = [json.loads(r.inputs["policy"]) for r in run.of_type("aws:iam/rolePolicy:RolePolicy")
                if "alertmanager" in r.name]
    assert policies == [{"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": [topic]}]}]
    associations = [r.inputs for r in run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                    if r.inputs["namespace"] == "monitoring"]
    assert [a["serviceAccount"] for a in associations] == ["alertmanager"]


def test_an_encrypted_topics_key_is_usable_for_that_topic_only(run_with):
    """A topic encrypted with a customer managed key refuses a publisher without GenerateDataKey*
    and Decrypt on it: the role gets them, on that key, for that topic's encryption context."""
    topic, key = "arn:aws:sns:eu-west-1:123456789012:genai-alerts", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab"
    run = run_with("dev", {"genai-platform:monitoring": {"receiver": {"kind": "sns", "topicArn": topic, "kmsKeyArn": key}}})
    [policy] = [json.loads(r.inputs["policy"]) for r in run.of_type("aws:iam/rolePolicy:RolePolicy") if "alertmanager" in r.name]
    assert policy["Statement"][1] == {
        "Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": [key],
        "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic}}}


def test_alert_thresholds_follow_settings():
    settings = load_stack_settings("dev", PROJECT_DIR)
    by_name = {a.name: a for a in alerts.alerts(settings)}
    assert by_name["VllmQueueBacklog"].expr.endswith(f"> {settings.monitoring.queue_backlog}")
    assert settings.models[0].service_name in by_name["ModelNoReadyReplica"].expr


def test_why_vllm_is_scraped_in_text_format():
    """prometheus_client (which vLLM uses) answers a Prometheus 2.x OpenMetrics Accept header with
    `vllm_` sample names; the text format keeps the documented `vllm:` names the dashboards query."""
    from prometheus_client import CollectorRegistry, Gauge
    from prometheus_client.exposition import choose_encoder

    registry = CollectorRegistry()
    Gauge("vllm:num_requests_waiting", "waiting", ["model_name"], registry=registry).labels("m").set(1)
    openmetrics = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                   "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    encoder, _ = choose_encoder(openmetrics)
    assert 'vllm_num_requests_waiting{model_name="m"}' in encoder(registry).decode()
    encoder, _ = choose_encoder("text/plain;version=0.0.4")
    assert 'vllm:num_requests_waiting{model_name="m"}' in encoder(registry).decode()


def test_the_container_logs_addon_version_can_be_pinned(run_with):
    """cluster.addonVersions pins amazon-cloudwatch-observability like the cluster's add-ons."""
    config, _ = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    cluster = dict(config["genai-platform:cluster"])
    cluster["addonVersions"] = {"amazon-cloudwatch-observability": "v4.3.0-eksbuild.1"}
    run = run_with("dev", {"genai-platform:cluster": cluster})
    [addon] = [r for r in run.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "amazon-cloudwatch-observability"]
    assert addon.inputs["addonVersion"] == "v4.3.0-eksbuild.1"


def test_an_unknown_addon_pin_is_refused_naming_the_installed_ones():
    with pytest.raises(Exception) as info:
        run_stack("dev", overrides={"genai-platform:cluster": {
            **read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")[0]["genai-platform:cluster"],
            "addonVersions": {"cloudwatch-observability": "v4.3.0-eksbuild.1"}}})
    text = str(info.value)
    assert 'genai-platform:cluster.addonVersions["cloudwatch-observability"]' in text
    assert "amazon-cloudwatch-observability" in text and "Traceback" not in text
    assert "pulumi config rm --path 'cluster.addonVersions[\"cloudwatch-observability\"]'" in text


WEBHOOK_RECEIVER = {"genai-platform:monitoring": {"receiver": {"kind": "webhook"}},
                    "genai-platform:alertWebhookUrl": {"secure": "v1:encrypted-by-pulumi"}}


def test_the_webhook_url_reaches_alertmanager_only_through_a_secret_file(run_with):
    """The URL (often with a token in it) is secret config, put into a Secret that the operator mounts
    and Alertmanager reads with url_file: not in the release's values, the preview or the outputs."""
    run = run_with("dev", WEBHOOK_RECEIVER)
    url = "https://offline-placeholder-alertWebhookUrl.invalid/hook"  # what the offline engine decrypts it to
    secret = _one(run, "kubernetes:core/v1:Secret", "alertmanager-webhook")
    assert secret.inputs["metadata"]["namespace"] == "monitoring" and secret.inputs["stringData"] == {"url": url}
    alertmanager = _kps(run).inputs["values"]["alertmanager"]
    assert alertmanager["alertmanagerSpec"]["secrets"] == ["alertmanager-webhook"]
    [platform] = [r for r in alertmanager["config"]["receivers"] if r["name"] == "platform"]
    assert platform["webhook_configs"] == [
        {"url_file": "/etc/alertmanager/secrets/alertmanager-webhook/url", "send_resolved": True}]
    assert url not in json.dumps(_kps(run).inputs)
    assert url not in json.dumps(run.outputs, default=str)
    masker = Masker(run)
    files = build(entries(run, masker), {}, "")
    assert not [path for path, text in files.items() if "offline-placeholder-alertWebhookUrl" in text]
    assert not [where for where in masker.findings if "Release" in where], masker.findings


def test_a_plain_webhook_url_is_refused_without_echoing_it():
    url = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"
    with pytest.raises(Exception) as info:
        run_stack("dev", overrides={**WEBHOOK_RECEIVER, "genai-platform:alertWebhookUrl": url})
    text = str(info.value)
    assert "genai-platform:alertWebhookUrl" in text and "pulumi config set --secret alertWebhookUrl" in text
    assert url not in text and "XXXXXXXX" not in text and "Traceback" not in text


def test_a_webhook_url_that_is_not_https_is_refused_without_echoing_it():
    from components.settings.loading import parse_settings  # noqa: PLC0415
    from components.settings import SettingsError  # noqa: PLC0415

    raw = {"aws:region": "us-east-1", "genai-platform:monitoring": {"receiver": {"kind": "webhook"}},
           "genai-platform:hfToken": "hf_x", "genai-platform:alertWebhookUrl": "http://10.0.0.5/hook"}
    secret = {"genai-platform:alertWebhookUrl", "genai-platform:hfToken"}
    with pytest.raises(SettingsError) as info:
        parse_settings(raw, secret_keys=secret)
    assert "genai-platform:alertWebhookUrl = <hidden>: an https:// URL" in str(info.value)
    assert "10.0.0.5" not in str(info.value)
    raw["genai-platform:alertWebhookUrl"] = "https://hooks.example.com/x"
    assert parse_settings(raw, secret_keys=secret).alert_webhook_url_set


def test_a_webhook_url_without_a_webhook_receiver_is_refused():
    with pytest.raises(Exception) as info:
        run_stack("dev", overrides={"genai-platform:alertWebhookUrl": {"secure": "v1:x"}})
    text = str(info.value)
    assert "genai-platform:alertWebhookUrl" in text and "unless monitoring.receiver.kind is webhook" in text
    assert "pulumi config rm alertWebhookUrl" in text


def test_sns_alertmanager_may_reach_the_pod_identity_agent_and_nothing_else_new(run_with):
    """The SNS receiver signs with Pod Identity credentials from the agent on 169.254.170.23:80, which
    the namespace's default-deny would block; only Alertmanager's pods get that edge, only with SNS."""
    topic = "arn:aws:sns:eu-west-1:123456789012:genai-alerts"
    run = run_with("dev", {"genai-platform:monitoring": {"receiver": {"kind": "sns", "topicArn": topic}}})
    policy = _one(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "alertmanager-aws-identity").inputs
    assert policy["metadata"]["namespace"] == "monitoring"
    assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "alertmanager"}}
    assert policy["spec"]["egress"] == [{"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}],
                                         "ports": [{"protocol": "TCP", "port": 80}]}]
    values = _kps(run).inputs["values"]["alertmanager"]
    [platform] = [r for r in values["config"]["receivers"] if r["name"] == "platform"]
    assert platform["sns_configs"][0]["sigv4"] == {"region": "eu-west-1"}  # the topic's region, the SDK's credentials
    assert values["serviceAccount"]["name"] == "alertmanager" and values["alertmanagerSpec"]["secrets"] == []
    names = [r.inputs["metadata"]["name"] for r in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert "alertmanager-aws-identity" not in [
        r.inputs["metadata"]["name"] for r in run_stack("dev").of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")]
    assert names.count("alertmanager-aws-identity") == 1


def test_a_webhook_url_left_in_plain_settings_is_not_echoed_and_the_fix_moves_it():
    url = "https://hooks.slack.com/services/T000/B000/YYYYYYYYYYYYYYYY"
    with pytest.raises(Exception) as info:
        run_stack("dev", overrides={"genai-platform:monitoring": {"receiver": {"kind": "webhook", "url": url}}})
    text = str(info.value)
    assert "genai-platform:monitoring.receiver.url" in text and "YYYYYYYY" not in text
    assert "pulumi config rm --path monitoring.receiver.url; pulumi config set --secret alertWebhookUrl" in text

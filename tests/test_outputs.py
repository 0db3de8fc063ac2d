"""Stack outputs and the namespace."""

from __future__ import annotations


def test_outputs_exist_and_kubeconfig_is_secret(stack_run):
    outputs = stack_run.outputs
    for key in ("clusterName", "region", "kubeconfig", "systemNodeGroupName", "neuronNodeGroupName",
                "bedrockRoleArn", "namespace"):
        assert outputs.get(key), key
    assert "kubeconfig" in stack_run.secret_outputs
    assert outputs["namespace"] == "genai"


def test_every_credential_output_is_secret(stack_run):
    sensitive = [k for k in stack_run.outputs if any(w in k.lower() for w in ("kubeconfig", "key", "password", "token", "secret"))]
    assert sensitive, "expected credential outputs"
    for key in sensitive:
        if key.endswith("Arn") or key.endswith("Name"):
            continue
        assert key in stack_run.secret_outputs, key


def test_namespace_restricted_and_default_deny(stack_run):
    ns = stack_run.one("kubernetes:core/v1:Namespace", "namespace-ns").inputs["metadata"]
    assert ns["name"] == "genai"
    for mode in ("enforce", "audit", "warn"):
        assert ns["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"
    deny = stack_run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "namespace-default-deny").inputs
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

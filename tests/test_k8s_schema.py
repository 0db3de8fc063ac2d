"""Every rendered Kubernetes object is valid for the cluster's Kubernetes version, strictly.

kubernetes-validate checks each object against the OpenAPI-derived JSON schema of its
apiVersion/kind; strict mode rejects unknown fields, so a misspelt or misplaced field (which
the API server would drop, or reject with `kubectl --validate=strict`) fails here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema

import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions, major_minor
from packaging.version import Version

from components.settings import load_stack_settings
from k8s_manifests import api_version_kind, manifests, object_id
from tools.offline.engine import PROJECT_DIR


def schema_version(cluster_version: str) -> str:
    """The closest Kubernetes minor version kubernetes-validate ships schemas for."""
    wanted = Version(major_minor(cluster_version))
    shipped = sorted({Version(major_minor(v)) for v in all_versions()})
    closest = min(shipped, key=lambda v: (abs(v.minor - wanted.minor) if v.major == wanted.major else 1000, -v.minor))
    assert closest.major == wanted.major and abs(closest.minor - wanted.minor) <= 1, (
        f"kubernetes-validate {kubernetes_validate.__version__} ships schemas {[str(v) for v in shipped]}, "
        f"none within one minor version of the cluster's {cluster_version}: upgrade kubernetes-validate"
    )
    return str(closest)


# Custom resources (CRDs of third-party controllers): strict schemas written from their API types
CRD_SCHEMAS = {
    ("elbv2.k8s.aws/v1beta1", "IngressClassParams"): Path(__file__).parent / "schemas" / "elbv2.k8s.aws_v1beta1_IngressClassParams.json",
}
# Custom resources whose CRD schema is not in kubernetes_validate, and the test that checks them
CHECKED_ELSEWHERE = {("keda.sh/v1alpha1", "ScaledObject"): "tests/test_scaling_rendered.py"}


def validation_errors(objects: list[dict], version: str) -> list[str]:
    """`Kind/ns/name: path: message` for each object that does not validate strictly."""
    errors = []
    for obj in objects:
        crd_schema = CRD_SCHEMAS.get((obj.get("apiVersion"), obj.get("kind")))
        if crd_schema:
            for err in jsonschema.Draft7Validator(json.loads(crd_schema.read_text())).iter_errors(obj):
                errors.append(f"{object_id(obj)}: {'.'.join(map(str, err.path)) or '(root)'}: {err.message}")
            continue
        if (obj.get("apiVersion"), obj.get("kind")) in CHECKED_ELSEWHERE:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path) or "(root)"
            errors.append(f"{object_id(obj)}: {path}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            errors.append(f"{object_id(obj)}: {err.message}")
    return errors


def test_type_tokens_map_to_api_version_and_kind(stack_run):
    assert api_version_kind("kubernetes:core/v1:Service") == ("v1", "Service")
    assert api_version_kind("kubernetes:rbac.authorization.k8s.io/v1:Role") == ("rbac.authorization.k8s.io/v1", "Role")
    for record in stack_run.kubernetes_objects():  # the provider sends both with the inputs
        assert (record.inputs.get("apiVersion"), record.inputs.get("kind")) == api_version_kind(record.type), record.urn


def test_schema_version_is_within_one_minor_of_the_cluster(stack_run):
    cluster = load_stack_settings(stack_run.stack, PROJECT_DIR).cluster.version
    used, wanted = Version(schema_version(cluster)), Version(major_minor(cluster))
    assert used.major == wanted.major and abs(used.minor - wanted.minor) <= 1


def test_every_object_validates_strictly(stack_run):
    version = schema_version(load_stack_settings(stack_run.stack, PROJECT_DIR).cluster.version)
    objects = manifests(stack_run, masked=False)  # in memory only; nothing is written out
    assert objects, "the program rendered no Kubernetes objects"
    # A kind without a schema (a CRD) is an error too, except the prometheus-operator kinds the
    # kube-prometheus-stack release installs (their specs are checked in tests/test_monitoring*.py)
    crds = [o for o in objects if o["apiVersion"] == "monitoring.coreos.com/v1"]
    assert {o["kind"] for o in crds} <= {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    errors = validation_errors([o for o in objects if o not in crds], version)
    assert not errors, f"invalid against Kubernetes {version} (strict):\n" + "\n".join(errors)


def _deployment(stack_runs) -> dict:
    return copy.deepcopy(next(m for m in manifests(stack_runs["dev"]) if m["kind"] == "Deployment"))


@pytest.mark.parametrize("breakage", [
    "misspelt container field",
    "misplaced pod field",
    "wrong type",
    "unknown top-level field",
])
def test_a_broken_object_fails(stack_runs, breakage):
    version = schema_version(load_stack_settings("dev", PROJECT_DIR).cluster.version)
    broken = _deployment(stack_runs)
    assert validation_errors([broken], version) == []
    pod = broken["spec"]["template"]["spec"]
    if breakage == "misspelt container field":
        pod["containers"][0]["imagePullPolicyy"] = pod["containers"][0].pop("imagePullPolicy")
    elif breakage == "misplaced pod field":
        pod["containers"][0]["serviceAccountName"] = pod.pop("serviceAccountName")
    elif breakage == "wrong type":
        broken["spec"]["replicas"] = "two"
    else:
        broken["status2"] = {}
    errors = validation_errors([broken], version)
    assert len(errors) == 1 and errors[0].startswith(f"Deployment/genai/{broken['metadata']['name']}:"), errors


def test_a_broken_ingress_class_params_fails(stack_runs):
    """The custom resource is checked strictly too: a misspelt field (the controller would ignore
    it, e.g. an allow-list that never applies) or a bad scheme fails."""
    version = schema_version(load_stack_settings("dev", PROJECT_DIR).cluster.version)
    (params,) = [m for m in manifests(stack_runs["dev"], masked=False) if m["kind"] == "IngressClassParams"]
    assert validation_errors([params], version) == []
    for breakage in ("inboundCidrs", "scheme"):
        broken = copy.deepcopy(params)
        if breakage == "scheme":
            broken["spec"]["scheme"] = "public"
        else:
            broken["spec"]["inboundCidrs"] = broken["spec"].pop("inboundCIDRs")
        errors = validation_errors([broken], version)
        assert len(errors) == 1 and errors[0].startswith("IngressClassParams/genai-alb: spec"), errors

"""checkov's Kubernetes checks on the rendered objects: no failure outside tests/checkov_skips.yaml.

The masked manifests of each stack are written as YAML files into a temporary directory and
scanned once per stack (session fixture) with checkov's Kubernetes runner: its resource checks
and its graph checks (CKV2_K8S_*). Skips are applied here, after the scan, rather than through
`RunnerFilter(skip_checks=...)`: a skipped check still runs, so the file can be scoped to
resources and every skip can be proven still needed (a skip whose check passes everywhere
fails `test_every_skip_is_still_needed` until it is removed).
"""

from __future__ import annotations

import json

import copy
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
import yaml
from checkov.kubernetes.runner import Runner
from checkov.runner_filter import RunnerFilter

from k8s_manifests import manifests, write_manifests
from tools.offline.records import MASK

SKIPS_FILE = Path(__file__).with_name("checkov_skips.yaml")
CHECK_ID = re.compile(r"^CKV2?_K8S_\d+$")


@dataclass(frozen=True)
class Finding:
    """One failed check on one resource (`Kind.namespace.name`, checkov's resource id)."""

    check_id: str
    check_name: str
    resource: str

    def __str__(self) -> str:
        return f"{self.check_id} ({self.check_name}) on {self.resource}"


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str
    resources: Optional[tuple[str, ...]]  # fnmatch patterns; None = every resource

    def covers(self, finding: Finding) -> bool:
        return finding.check_id == self.check_id and (
            self.resources is None or any(fnmatch.fnmatchcase(finding.resource, p) for p in self.resources)
        )


@dataclass
class Scan:
    stack: str
    files: list[Path]
    resources: set[str]  # "<file>:<resource id>"
    passed: list[Finding]
    failed: list[Finding]
    parsing_errors: list[str]


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    raw = yaml.safe_load(path.read_text()) or {}
    assert isinstance(raw, dict), f"{path.name}: a mapping of check id -> {{reason, resources}}"
    skips = []
    for check_id, entry in raw.items():
        assert CHECK_ID.match(str(check_id)), f"{path.name}: {check_id!r} is not a checkov Kubernetes check id"
        if isinstance(entry, str):
            entry = {"reason": entry}
        assert isinstance(entry, dict) and set(entry) <= {"reason", "resources"}, (
            f"{path.name}: {check_id}: only `reason` and `resources` are allowed"
        )
        reason = entry.get("reason")
        assert isinstance(reason, str) and len(reason.split()) >= 8, f"{path.name}: {check_id}: give a concrete reason"
        resources = entry.get("resources")
        if resources is not None:
            assert isinstance(resources, list) and resources and all(isinstance(r, str) and r for r in resources), (
                f"{path.name}: {check_id}: `resources` is a non-empty list of Kind.namespace.name patterns"
            )
            assert len(set(resources)) == len(resources), f"{path.name}: {check_id}: duplicate resource patterns"
            resources = tuple(resources)
        skips.append(Skip(check_id, reason, resources))
    return skips


def scan_directory(directory: Path, stack: str, files: list[Path]) -> Scan:
    """checkov's Kubernetes runner on every YAML file in `directory`."""
    report = Runner().run(
        root_folder=str(directory),
        runner_filter=RunnerFilter(framework=["kubernetes"], show_progress_bar=False, run_image_referencer=False),
    )
    reports = report if isinstance(report, list) else [report]
    (report,) = [r for r in reports if r.check_type == "kubernetes"]

    def findings(records) -> list[Finding]:
        return [Finding(r.check_id, r.check_name, r.resource) for r in records]

    return Scan(stack, files, set(report.resources), findings(report.passed_checks), findings(report.failed_checks),
                list(report.parsing_errors))


@pytest.fixture(scope="session")
def checkov_scans(stack_runs, tmp_path_factory) -> dict[str, Scan]:
    """One checkov scan per stack, on the masked manifests written as YAML files."""
    scans = {}
    for stack, run in stack_runs.items():
        directory = tmp_path_factory.mktemp(f"checkov-{stack}")
        # checkov takes a file with `{{` for a Helm template and skips it: Grafana dashboards (legend
        # templates) and PrometheusRules (annotation templates) hold no pod spec and are checked by
        # tests/test_monitoring*.py (promtool, a real Prometheus) instead
        objects = [m for m in manifests(run, masked=True) if "{{" not in json.dumps(m)]
        files = write_manifests(objects, directory)
        scans[stack] = scan_directory(directory, stack, files)
    return scans


@pytest.fixture(scope="session")
def skips() -> list[Skip]:
    return load_skips()


@pytest.fixture(params=("dev", "prod"))
def scan(request, checkov_scans) -> Scan:
    return checkov_scans[request.param]


def _secret_values(plain, masked) -> list[str]:
    if isinstance(masked, dict):
        return [v for k in masked for v in _secret_values(plain[k], masked[k])]
    if isinstance(masked, list):
        return [v for p, m in zip(plain, masked) for v in _secret_values(p, m)]
    return [str(plain)] if masked == MASK and plain != MASK else []


def test_written_manifests_hold_no_secret_value(stack_runs, checkov_scans):
    for stack, run in stack_runs.items():
        values = [v for p, m in zip(manifests(run, masked=False), manifests(run, masked=True))
                  for v in _secret_values(p, m) if len(v) >= 8]
        assert values, "no secret values to look for: is masking still keyed on secret_paths?"
        text = "".join(f.read_text() for f in checkov_scans[stack].files)
        leaked = sum(v in text for v in values)
        assert not leaked, f"{leaked} secret values written in clear to the {stack} manifests"
        assert "kind: Secret" in text and MASK in text


def test_skips_file_is_well_formed(skips):
    assert skips, "an empty skips file: delete this test's file lookups instead"
    assert len({s.check_id for s in skips}) == len(skips)


def test_checkov_scanned_every_object(scan):
    assert not scan.parsing_errors
    scanned_files = {resource.rsplit(":", 1)[0] for resource in scan.resources}
    assert {str(f) for f in scan.files} <= scanned_files, "checkov skipped some manifests"
    workloads = {f.resource for f in scan.passed if f.resource.split(".")[0] in ("Deployment", "StatefulSet", "DaemonSet")}
    assert len(workloads) >= 10 and len(scan.passed) > 500, "the scan ran suspiciously few checks"


def test_no_failed_check_outside_the_skips(scan, skips):
    unexpected = sorted({str(f) for f in scan.failed if not any(s.covers(f) for s in skips)})
    assert not unexpected, (
        f"checkov failures in {scan.stack} (fix the manifest, or add a reasoned skip to {SKIPS_FILE.name}):\n"
        + "\n".join(unexpected)
    )


def test_every_skip_is_still_needed(checkov_scans, skips):
    failed = [f for scan in checkov_scans.values() for f in scan.failed]
    stale = []
    for skip in skips:
        if skip.resources is None:
            if not any(skip.covers(f) for f in failed):
                stale.append(f"{skip.check_id}: passes everywhere")
        for pattern in skip.resources or ():
            if not any(f.check_id == skip.check_id and fnmatch.fnmatchcase(f.resource, pattern) for f in failed):
                stale.append(f"{skip.check_id}: {pattern} passes in every stack")
    assert not stale, f"remove from {SKIPS_FILE.name}:\n" + "\n".join(stale)


def test_the_scan_catches_a_weakened_workload(stack_runs, tmp_path, skips):
    """A Deployment made privileged, with host networking, fails checks that no skip covers."""
    deployment = copy.deepcopy(next(
        m for m in manifests(stack_runs["dev"]) if m["kind"] == "Deployment" and m["metadata"]["name"] == "litellm"
    ))
    pod = deployment["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    pod["containers"][0]["securityContext"] |= {"privileged": True, "allowPrivilegeEscalation": True}
    files = write_manifests([deployment], tmp_path)
    scan = scan_directory(tmp_path, "dev", files)
    unexpected = {f.check_id for f in scan.failed if not any(s.covers(f) for s in skips)}
    assert {"CKV_K8S_16", "CKV_K8S_19", "CKV_K8S_20"} <= unexpected, unexpected

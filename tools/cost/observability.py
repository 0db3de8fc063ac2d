"""Cost lines the metrics stack adds: CloudWatch Logs for container logs, and the volumes a Helm
release claims (the release's own objects are rendered by Helm at deploy time, so they are not in
an offline run: the volumes are read from the release's values instead)."""

from __future__ import annotations

from typing import Any, Iterator

from components.monitoring.logs import EXPECTED_GB_TAG

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def add_log_groups(pricer: Any) -> None:
    """Ingestion of the GB a log group is expected to take (its tag), and storage over its retention."""
    for record in pricer.of_type(LOG_GROUP):
        expected = (record.inputs.get("tags") or {}).get(EXPECTED_GB_TAG)
        if expected is None:
            pricer.assume(f"{record.name}: no {EXPECTED_GB_TAG} tag; its ingestion is not priced")
            continue
        gb = float(expected)
        retention = int(record.inputs.get("retentionInDays") or 0) or 3653
        pricer.add(record, f"{record.name}: CloudWatch Logs ingestion {gb:g} GB/month", "cloudwatch-logs-ingest-gb",
                   "month", gb)
        # Steady state: `retention` days of logs stored (billed compressed; uncompressed is an upper bound)
        stored = gb * min(retention, 3653) / 30
        pricer.add(record, f"{record.name}: CloudWatch Logs storage {stored:.2f} GB ({retention} days)",
                   "cloudwatch-logs-storage", "GB-month", stored)


def _claims(values: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(values path, size) of every volumeClaimTemplate and enabled persistence block in the values."""
    if not isinstance(values, dict):
        return
    template = values.get("volumeClaimTemplate")
    if isinstance(template, dict):
        size = (((template.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
        if size:
            yield path or ".", str(size)
    persistence = values.get("persistence")
    if isinstance(persistence, dict) and persistence.get("enabled") and persistence.get("size"):
        yield f"{path}.persistence" if path else "persistence", str(persistence["size"])
    for key, value in values.items():
        if key not in ("volumeClaimTemplate", "persistence"):
            yield from _claims(value, f"{path}.{key}" if path else key)


def add_helm_releases(pricer: Any, gib: Any) -> list[str]:
    """gp3 volumes claimed in each release's values; returns one preview note per release."""
    notes = []
    for record in pricer.of_type(HELM_RELEASE):
        inputs = record.inputs
        chart = f"{inputs.get('chart')} {inputs.get('version')}"
        for where, size in _claims(inputs.get("values") or {}):
            pricer.add(record, f"Helm release {record.name} ({chart}): volume {where} {gib(size):g} GiB gp3",
                       "ebs-gp3", "GB-month", gib(size))
        notes.append(f"Helm release {inputs.get('name') or record.name} ({chart}): its own objects (Deployments, "
                     "StatefulSets, CRDs, ...) are rendered by Helm at deploy time and are not visible in this offline "
                     "preview; its volumes are priced from its values, its pods run on the system nodes.")
    return notes

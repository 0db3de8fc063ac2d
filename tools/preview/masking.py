"""Keep secret values out of everything the preview prints or writes.

Three layers: (1) the engine's secret paths (`masked_inputs`); (2) Kubernetes Secret
`data`/`stringData` values, whatever their marking (keys stay visible); (3) every known
secret value - strings under secret paths, random password results, secret stack outputs,
the engine's `offline-placeholder-*` config placeholders - is replaced wherever else it
appears. Each replacement of kind (3) in a Kubernetes object is recorded as a finding: a
secret copied into a plain field (an env `value:`, a ConfigMap) ends up readable in the
cluster even though Pulumi encrypts it in state.
"""

from __future__ import annotations

import re
from typing import Any

from tools.offline.records import MASK, ResourceRecord, StackRun

SECRET_KINDS = ("kubernetes:core/v1:Secret",)
SECRET_DATA_KEYS = ("data", "stringData")
# outputs the real engine marks secret (additional_secret_outputs); the mocks do not
SECRET_OUTPUTS = {
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
    "random:index/randomBytes:RandomBytes": ("base64", "hex"),
}
PLACEHOLDER = re.compile(r"offline-placeholder-[A-Za-z0-9_.-]+")
MIN_SECRET_LENGTH = 8  # shorter values are too likely to occur by chance


def secret_like(value: str) -> bool:
    """Values under a secret path that are worth hunting elsewhere: not plain words such as
    a user name kept next to a password (`postgres`), which would mask image names."""
    return len(value) >= 24 or (len(value) >= 12 and any(c.isdigit() for c in value))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _under_mask(raw: Any, masked: Any) -> list[str]:
    """Strings of `raw` where `masked` (the same tree after `mask`) says `[secret]`."""
    if masked == MASK and raw != MASK:
        return _strings(raw)
    if isinstance(raw, dict) and isinstance(masked, dict):
        return [s for k in raw if k in masked for s in _under_mask(raw[k], masked[k])]
    if isinstance(raw, list) and isinstance(masked, list):
        return [s for r, m in zip(raw, masked) for s in _under_mask(r, m)]
    return []


class Masker:
    """Masks the inputs of every record of one run; collects where secrets leaked."""

    def __init__(self, run: StackRun) -> None:
        marked: set[str] = set()
        values: set[str] = set()
        for record in run.resources:
            marked.update(_under_mask(record.inputs, record.masked_inputs))
            if record.type in SECRET_KINDS:
                for key in SECRET_DATA_KEYS:
                    marked.update(_strings(record.inputs.get(key)))
            for key in SECRET_OUTPUTS.get(record.type, ()):
                values.update(_strings(record.outputs.get(key)))
        for key in run.secret_outputs:
            values.update(_strings(run.outputs.get(key)))
        values.update(v for v in marked if secret_like(v))
        # longest first, so a value containing another is replaced whole
        self.values = sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH and v != MASK), key=lambda v: (-len(v), v))
        self.findings: list[str] = []

    def text(self, value: str) -> str:
        """`value` with every known secret and placeholder replaced by `[secret]`."""
        for secret in self.values:
            if secret in value:
                value = value.replace(secret, MASK)
        return PLACEHOLDER.sub(MASK, value)

    def scrub(self, value: Any, where: str = "") -> Any:
        """`text` applied to every string in a JSON-like tree; records `where` it changed something."""
        if isinstance(value, str):
            cleaned = self.text(value)
            if cleaned != value and where:
                self.findings.append(where)
            return cleaned
        if isinstance(value, dict):
            return {k: self.scrub(v, f"{where}.{k}" if where else "") for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v, f"{where}[{i}]" if where else "") for i, v in enumerate(value)]
        return value

    def inputs(self, record: ResourceRecord) -> dict[str, Any]:
        """The record's inputs safe to show: secret paths, Secret values and known secrets masked."""
        inputs = record.masked_inputs
        if record.type in SECRET_KINDS:
            for key in SECRET_DATA_KEYS:
                raw = record.inputs.get(key)
                if isinstance(raw, dict):
                    inputs[key] = {k: MASK for k in raw}
                elif raw is not None:
                    inputs[key] = MASK
            return self.scrub(inputs)
        track = record.type.startswith("kubernetes:")
        return self.scrub(inputs, f"{record.type} {record.name}: inputs" if track else "")

"""The cost estimate's data: priced lines, the estimate of one stack run, storage quantities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from tools.cost.pricing import HOURS_PER_MONTH

NOTES = (
    "On-demand list prices, 730 hours a month; no Savings Plans, reservations or free tier.",
    "Not included: NAT gateway data processing ($0.045/GB), data transfer, load balancer capacity units, "
    "KMS/S3 requests, Bedrock tokens; CloudWatch Logs are priced at the expected volume from settings.",
)

_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_BYTES = {
    "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
}


def gib(quantity: Any) -> float:
    """A Kubernetes storage quantity (`50Gi`, `10G`, `1Ti`, bytes) in GiB (EBS bills per GiB-month)."""
    match = _QUANTITY.match(str(quantity).strip())
    if not match or match.group(2) not in _BYTES:
        raise ValueError(f"not a storage quantity: {quantity!r}")
    return float(match.group(1)) * _BYTES[match.group(2)] / 2**30


@dataclass
class CostLine:
    """One priced item: `quantity` things of `unit` at `usd` each -> `monthly`."""

    component: str
    item: str
    resource: str
    key: str
    quantity: float
    unit: str
    usd: float
    source: str

    @property
    def monthly(self) -> float:
        """USD per month."""
        return self.quantity * self.usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component, "item": self.item, "resource": self.resource, "key": self.key,
            "quantity": round(self.quantity, 4), "unit": self.unit, "usd": self.usd, "source": self.source,
            "monthly": round(self.monthly, 2),
        }


@dataclass
class CostEstimate:
    """The priced lines of one stack run, what idling the Neuron group saves, and the caveats."""

    stack: str
    region: str
    lines: list[CostLine]
    assumptions: list[str] = field(default_factory=list)
    neuron_idle: Optional[dict[str, Any]] = None
    scaling: Optional[dict[str, Any]] = None
    notes: tuple[str, ...] = NOTES

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def by_component(self) -> dict[str, float]:
        """Monthly USD per top-level component, in component order."""
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.component] = out.get(line.component, 0.0) + line.monthly
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "currency": "USD",
            "hoursPerMonth": HOURS_PER_MONTH,
            "monthlyTotal": round(self.total, 2),
            "byComponent": {k: round(v, 2) for k, v in self.by_component().items()},
            "lines": [line.to_dict() for line in self.lines],
            "neuronIdle": self.neuron_idle,
            "scaling": self.scaling,
            "assumptions": list(self.assumptions),
            "notes": list(self.notes),
        }

"""The price table (`pricing.csv`, one price a line, with its source and date) and its overrides.

Prices are looked up by key (`m6i.xlarge`, `ebs-gp3`, ...) and region. A region without a
price of its own falls back to us-east-1, and the quote says so (an assumption to show). A
stack's `genai-platform:pricing` overrides any key, in the table's unit for that key.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

PRICING_CSV = Path(__file__).with_name("pricing.csv")
BASE_REGION = "us-east-1"
HOURS_PER_MONTH = 730
UNITS = ("hour", "GB-month", "month")
OVERRIDE_SOURCE = "stack config genai-platform:pricing"


@dataclass(frozen=True)
class Price:
    """One line of the price table."""

    key: str
    region: str
    usd: float
    unit: str
    source: str
    date: str


@dataclass(frozen=True)
class Quote:
    """The price used for one key in one region, and whether it had to be assumed."""

    key: str
    usd: float
    unit: str
    source: str
    assumption: Optional[str] = None

    @property
    def monthly_factor(self) -> int:
        """Units per month of one thing: 730 hours, or 1 for GB-month and month prices."""
        return HOURS_PER_MONTH if self.unit == "hour" else 1


def read_prices(path: Path = PRICING_CSV) -> list[Price]:
    """Every line of the price table; rejects lines without a price, unit, source or date."""
    prices = []
    with Path(path).open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            missing = [k for k in ("key", "region", "usd", "unit", "source", "date") if not (row.get(k) or "").strip()]
            if missing or row["unit"] not in UNITS:
                raise ValueError(f"{path}:{line}: every line needs key,region,usd,unit ({'/'.join(UNITS)}),source,date")
            prices.append(Price(row["key"], row["region"], float(row["usd"]), row["unit"], row["source"], row["date"]))
    return prices


class PriceTable:
    """Prices by (key, region), with stack overrides applied on top."""

    def __init__(self, prices: list[Price], overrides: Optional[Mapping[str, float]] = None) -> None:
        self.prices = {(p.key, p.region): p for p in prices}
        self.overrides = dict(overrides or {})
        self.used: set[str] = set()

    @classmethod
    def load(cls, overrides: Optional[Mapping[str, float]] = None, path: Path = PRICING_CSV) -> "PriceTable":
        """The repository's table with `overrides` (`settings.pricing`)."""
        return cls(read_prices(path), overrides)

    def quote(self, key: str, region: str, unit: str) -> Quote:
        """The price of `key` in `region`; `unit` is what the caller expects (used for overrides
        of keys the table does not know). Unknown keys cost 0 and say so."""
        self.used.add(key)
        known = self.prices.get((key, region)) or self.prices.get((key, BASE_REGION))
        if key in self.overrides:
            return Quote(key, float(self.overrides[key]), known.unit if known else unit, OVERRIDE_SOURCE)
        if known is None:
            return Quote(key, 0.0, unit, "no price", f"no price for '{key}': priced at $0; add it to "
                         "tools/cost/pricing.csv or set genai-platform:pricing")
        if known.unit != unit:
            raise ValueError(f"pricing.csv: '{key}' is priced per {known.unit}, expected per {unit}")
        assumption = None
        if known.region != region:
            assumption = f"no {region} price for '{key}': used the {known.region} price"
        return Quote(key, known.usd, known.unit, f"{known.source} ({known.date})", assumption)

    def unused_overrides(self) -> list[str]:
        """Override keys no priced item asked for (likely typos)."""
        return sorted(set(self.overrides) - self.used)

"""Monthly on-demand cost estimate of an offline stack run, from the price table `pricing.csv`.

`estimate(run, region=..., overrides=settings.pricing)` -> `CostEstimate` (lines per
component, total, what idling the Neuron group saves, assumptions).
"""

from tools.cost.estimate import estimate
from tools.cost.lines import CostEstimate, CostLine, gib
from tools.cost.pricing import BASE_REGION, HOURS_PER_MONTH, PRICING_CSV, PriceTable, read_prices

__all__ = [
    "BASE_REGION", "HOURS_PER_MONTH", "PRICING_CSV", "CostEstimate", "CostLine", "PriceTable",
    "estimate", "gib", "read_prices",
]

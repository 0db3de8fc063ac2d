"""One preview: a stack run turned into masked entries, a cost estimate and a summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from tools.cost import estimate
from tools.offline.records import MASK, StackRun
from tools.preview import render
from tools.preview.masking import Masker
from tools.preview.policy import policy_results
from tools.preview.summary import Summary


@dataclass
class Preview:
    """What `python -m tools.preview` prints and writes for one stack."""

    stack: str
    region: str
    entries: list[dict[str, Any]]
    cost: dict[str, Any]
    summary: Summary

    def files(self) -> dict[str, str]:
        """Every artifact of `--out`, relative path -> text."""
        return render.build(self.entries, self.cost, self.summary.markdown(), self.summary.policy)

    @property
    def mandatory_violations(self) -> int:
        """How many mandatory policy violations the stack has (0 when policies were not run)."""
        return len(self.summary.policy["mandatory"]) if self.summary.policy else 0


def make_preview(run: StackRun, *, region: str, pricing: Mapping[str, float], policies: bool = True) -> Preview:
    """Mask, price, check and summarise `run` (`pricing`: the stack's `genai-platform:pricing`)."""
    masker = Masker(run)
    entries = render.entries(run, masker)
    cost = estimate(run, region=region, overrides=pricing).to_dict()
    outputs = {k: MASK if k in run.secret_outputs else masker.scrub(v) for k, v in run.outputs.items()}
    summary = Summary(run.stack, region, entries, cost, outputs, set(run.secret_outputs),
                      findings=sorted(set(masker.findings)), policy=policy_results(run) if policies else None)
    return Preview(run.stack, region, entries, cost, summary)

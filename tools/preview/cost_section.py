"""The cost section of the preview summary (text and Markdown), from the cost estimate's dict."""

from __future__ import annotations

from typing import Any


def money(value: float) -> str:
    return f"${value:,.2f}"


def _price(line: dict[str, Any]) -> str:
    unit = {"hour": "h", "GB-month": "GB-month", "month": "month"}.get(line["unit"], line["unit"])
    return f"{line['quantity']:g} {unit} x ${line['usd']:g}"


def md(text: Any) -> str:
    return str(text).replace("|", "\\|")


def cost_text(cost: dict[str, Any]) -> list[str]:
    """The monthly estimate by component and line, with the idle saving, range, assumptions and notes."""
    out = [f"Monthly cost estimate ({cost['currency']}, on-demand, {cost['hoursPerMonth']} h/month, {cost['region']})"]
    items = [line["item"] for line in cost["lines"]]
    width = max([len(c) for c in cost["byComponent"]] + [len(i) + 2 for i in items] + [5])
    for component, total in cost["byComponent"].items():
        out.append(f"  {component:<{width}}  {money(total):>12}")
        for line in (x for x in cost["lines"] if x["component"] == component):
            out.append(f"    {line['item']:<{width - 2}}  {money(line['monthly']):>12}  = {_price(line)}")
    out.append(f"  {'Total':<{width}}  {money(cost['monthlyTotal']):>12}")
    idle = cost.get("neuronIdle")
    if idle:
        out.append(f"  Idling the Neuron group at 0 nodes saves {money(idle['monthlySavings'])}/month "
                   f"(total {money(idle['monthlyTotalWhenIdle'])}): {idle['how']}")
    scaling = cost.get("scaling")
    if scaling:
        out.append(f"  Range: floor {money(scaling['monthlyFloor'])}/month (idle), ceiling "
                   f"{money(scaling['monthlyCeiling'])}/month (every model at maxReplicas): {scaling['how']}")
    out += [f"  Assumption: {a}" for a in cost["assumptions"]]
    out += [f"  Note: {n}" for n in cost["notes"]]
    return out


def cost_markdown(cost: dict[str, Any]) -> list[str]:
    """The same as Markdown: component totals, then the lines folded in a <details> block."""
    out = [f"## Monthly cost estimate ({cost['currency']}, {cost['hoursPerMonth']} h/month, {cost['region']})", "",
           "| component | USD/month |", "|---|---:|"]
    out += [f"| {md(c)} | {money(v)} |" for c, v in cost["byComponent"].items()]
    out += [f"| **total** | **{money(cost['monthlyTotal'])}** |", ""]
    idle = cost.get("neuronIdle")
    if idle:
        out += [f"Idling the Neuron group at 0 nodes saves **{money(idle['monthlySavings'])}/month** "
                f"(total {money(idle['monthlyTotalWhenIdle'])}): {idle['how']}.", ""]
    scaling = cost.get("scaling")
    if scaling:
        out += [f"Range: floor **{money(scaling['monthlyFloor'])}/month** (idle), ceiling "
                f"**{money(scaling['monthlyCeiling'])}/month** (every model at maxReplicas): {scaling['how']}.", ""]
    out += ["<details><summary>Cost lines</summary>", "", "| component | item | price | USD/month |", "|---|---|---|---:|"]
    out += [f"| {md(x['component'])} | {md(x['item'])} | {_price(x)} (`{x['key']}`) | {money(x['monthly'])} |"
            for x in cost["lines"]]
    out += ["", "</details>", ""]
    out += [f"- Assumption: {a}" for a in cost["assumptions"]]
    out += [f"- Note: {n}" for n in cost["notes"]]
    out.append("")
    return out

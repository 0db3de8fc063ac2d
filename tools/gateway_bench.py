"""Gateway overhead benchmark: ``python -m tools.gateway_bench --out DIR``.

Measures what the gateway adds to a request: the real LiteLLM proxy with the program's rendered
config (``tests/gateway/loopback.py`` runs it on loopback) versus straight to the vLLM stub,
and versus the same proxy with a minimal one-model config, in one run; ``main(out_dir)`` writes
``DIR/gateway.md`` and returns the figures. Target: the rendered config adds at most 20% over
the minimal config's overhead (p50).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional


PROJECT_DIR = Path(__file__).resolve().parents[1]
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tests.gateway.loopback import GatewayRun, RenderedGateway, render, run_gateway  # noqa: E402
from tests.gateway.proxy import run_proxy  # noqa: E402

TARGET_RATIO = 1.20

def minimal_config(model: str, api_base: str) -> dict[str, Any]:
    """The smallest config that serves one vLLM model behind a master key."""
    return {
        "model_list": [{"model_name": model, "litellm_params": {"model": f"hosted_vllm/{model}", "api_base": api_base}}],
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }


# ---------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------


def _timed_chat(client: Any, url: str, model: str, stream: bool, headers: Mapping[str, str]) -> float:
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": f"bench {uuid.uuid4().hex}"}],  # unique: never a cache hit
    }
    if stream:
        payload.update(stream=True, stream_options={"include_usage": True})
    started = time.perf_counter()
    if not stream:
        response = client.post(url, json=payload, headers=headers)
        response.read()
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:500]}")
        return time.perf_counter() - started
    with client.stream("POST", url, json=payload, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:500]}")
        done = False
        for line in response.iter_lines():
            if line.strip() == "data: [DONE]":
                done = True
        if not done:
            raise RuntimeError(f"{url}: stream ended without [DONE]")
    return time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


BLOCK = 25
"""Requests per turn: the series take turns in blocks, so slow drift in what else the machine does
weighs on every series alike, while a proxy's deferred work (cache writes, trace export, logging)
rarely spills into another series' requests."""
SETTLE_S = 0.25
"""Pause at each turn for the previous proxy's deferred work to finish."""


def _rotated(client: Any, targets: Mapping[str, tuple[str, Mapping[str, str]]], model: str, stream: bool,
             n: int, warmup: int) -> dict[str, list[float]]:
    """``n`` sequential requests per target after ``warmup`` each, the targets taking turns in blocks."""
    for url, headers in targets.values():
        for _ in range(warmup):
            _timed_chat(client, url, model, stream, headers)
    series: dict[str, list[float]] = {name: [] for name in targets}
    while any(len(values) < n for values in series.values()):
        for name, (url, headers) in targets.items():
            time.sleep(SETTLE_S)
            for _ in range(min(BLOCK, n - len(series[name]))):
                series[name].append(_timed_chat(client, url, model, stream, headers))
    return series


def _summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p95_ms": _percentile(latencies, 95) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def measure_running(gateway: GatewayRun, minimal_url: str, requests: int = 200, warmup: int = 20) -> dict[str, Any]:
    """Latency straight to the vLLM stub, through ``gateway`` and through the minimal proxy at
    ``minimal_url`` (serving the same stub), ``requests`` sequential requests per series."""
    import httpx

    model, stub = next(iter(gateway.vllm.items()))
    auth = {"Authorization": f"Bearer {gateway.master_key}"}
    targets = {
        "direct": (f"{stub.api_base}/chat/completions", {}),
        "rendered": (f"{gateway.url}/v1/chat/completions", auth),
        "minimal": (f"{minimal_url}/v1/chat/completions", auth),
    }
    results: dict[str, Any] = {"requests": requests, "warmup": warmup, "stack": gateway.rendered.stack,
                               "model": model, "target_ratio": TARGET_RATIO, "modes": {}}
    # A new connection per request for every target: the vLLM stub closes each one anyway
    # (HTTP/1.0), and no pooled connection can race a server's keep-alive timeout
    with httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for stream in (False, True):
            series = _rotated(client, targets, model, stream, requests, warmup)
            summary = {name: _summary(values) for name, values in series.items()}
            added = {
                name: {q: summary[name][q] - summary["direct"][q] for q in ("p50_ms", "p95_ms")}
                for name in ("rendered", "minimal")
            }
            ratio = {
                q: (added["rendered"][q] / added["minimal"][q]) if added["minimal"][q] > 0 else float("inf")
                for q in ("p50_ms", "p95_ms")
            }
            results["modes"]["stream" if stream else "plain"] = {
                "latency": summary, "added": added, "ratio": ratio, "within_target": ratio["p50_ms"] <= TARGET_RATIO,
            }
    results["within_target"] = all(m["within_target"] for m in results["modes"].values())
    return results


def measure(
    rendered: RenderedGateway, requests: int = 200, warmup: int = 20, workdir: Optional[Path] = None
) -> dict[str, Any]:
    """Start the rendered gateway and a minimal one on the same vLLM stub; measure both."""
    with contextlib.ExitStack() as stack:
        base = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gateway-bench-")))
        gateway = stack.enter_context(run_gateway(rendered, base / "rendered"))
        model, stub = next(iter(gateway.vllm.items()))
        minimal_url = stack.enter_context(
            run_proxy(minimal_config(model, stub.api_base), {"LITELLM_MASTER_KEY": gateway.master_key},
                      workdir=base / "minimal")
        )
        return measure_running(gateway, minimal_url, requests=requests, warmup=warmup)


def report(results: Mapping[str, Any]) -> str:
    lines = [
        "# Gateway overhead",
        "",
        f"Real LiteLLM proxy on loopback, stack `{results['stack']}`, model `{results['model']}` (vLLM stub), "
        f"{results['requests']} sequential requests per series after {results['warmup']} warm-up requests, "
        f"the three series taking turns in blocks of {BLOCK}, unique prompts (no cache hits).",
        "",
        "- **direct**: straight to the vLLM stub",
        "- **rendered**: through the proxy with the program's rendered config and env (callbacks, Redis cache, "
        "router settings, OTLP export to a stub)",
        "- **minimal**: through the proxy with a one-model config and a master key only",
        "",
        "Added latency = series percentile minus the direct series' percentile.",
        "",
        "| mode | direct p50 | direct p95 | rendered added p50 | rendered added p95 | minimal added p50 "
        "| minimal added p95 | ratio p50 | ratio p95 | target p50 ratio <= "
        f"{results['target_ratio']:.2f} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for mode, m in results["modes"].items():
        lat, added, ratio = m["latency"], m["added"], m["ratio"]
        lines.append(
            f"| {mode} | {lat['direct']['p50_ms']:.1f} ms | {lat['direct']['p95_ms']:.1f} ms "
            f"| {added['rendered']['p50_ms']:.1f} ms | {added['rendered']['p95_ms']:.1f} ms "
            f"| {added['minimal']['p50_ms']:.1f} ms | {added['minimal']['p95_ms']:.1f} ms "
            f"| {ratio['p50_ms']:.2f} | {ratio['p95_ms']:.2f} | {'met' if m['within_target'] else 'NOT met'} |"
        )
    lines += ["", f"Overall: target {'met' if results['within_target'] else 'NOT met'}.", ""]
    return "\n".join(lines)


def main(out_dir: Path, requests: int = 200, warmup: int = 20, stack: str = "dev") -> dict[str, Any]:
    """Run the benchmark; write ``out_dir/gateway.md`` (and ``gateway.json``); return the figures."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = measure(render(stack), requests=requests, warmup=warmup)
    (out_dir / "gateway.md").write_text(report(results))
    (out_dir / "gateway.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


def _cli(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gateway_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for gateway.md and gateway.json")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    results = main(args.out, requests=args.requests, warmup=args.warmup, stack=args.stack)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(_cli())

"""Gateway overhead benchmark: ``python -m tools.gateway_bench --out DIR``.

Measures what the gateway adds to a request: the real LiteLLM proxy with the program's rendered
config (``tests/gateway/loopback.py`` runs it on loopback) versus straight to the vLLM stub,
and versus the same proxy with a minimal one-model config, in one run; ``main(out_dir)`` writes
``DIR/gateway.md`` and returns the figures. Target: the rendered config adds at most 20% over
the minimal config's overhead (p50 added latency).

Requests are sequential with a pause between them, so each one meets an idle gateway: its
latency is its own path through the proxy. Back to back, a single client keeps one LiteLLM
worker saturated, and every request also waits for the previous one's after-response work
(trace export, metrics, cache write). That work is reported separately, as proxy CPU per
request, because it costs capacity (replicas, which the HPA adds on CPU) rather than latency.
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
from collections.abc import Mapping, Sequence
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


PAUSE_S = 0.025
"""Think time after each request: longer than a proxy's after-response work (a few ms), so the
next request meets an idle gateway."""
PRODUCTION_ENV = {"OTEL_BSP_SCHEDULE_DELAY": "5000"}
"""The test harness shortens OpenTelemetry's span export delay; the Deployment runs with the
SDK default, so the benchmark does too."""


def process_cpu_seconds(pid: int) -> Optional[float]:
    """CPU time the process has run, all its threads including ended ones, in nanosecond
    resolution (Linux's process CPU clock, ``clock_getcpuclockid``); ``None`` where it cannot be
    read (another OS, or the process is gone)."""
    clock_id = ((~pid) << 3) | 2  # Linux CPUCLOCK_SCHED for the whole thread group
    try:
        return time.clock_gettime_ns(clock_id) / 1e9
    except (OSError, OverflowError):
        return None


class Series:
    """One benchmark target's latencies and, for proxies, their CPU in and after each request. A target may
    have several instances (same config, separate processes): requests rotate over them."""

    def __init__(self, urls: list[str], headers: Mapping[str, str], pids: list[Optional[int]]) -> None:
        self.endpoints = list(zip(urls, pids, strict=True))
        self.headers = headers
        self.latencies: list[float] = []
        self.cpu_in: list[float] = []
        self.cpu_after: list[float] = []
        self._turns = 0

    def request(self, client: Any, model: str, stream: bool, record: bool) -> None:
        url, pid = self.endpoints[self._turns % len(self.endpoints)]
        self._turns += 1

        def cpu() -> Optional[float]:
            return process_cpu_seconds(pid) if pid is not None else None

        before = cpu()
        latency = _timed_chat(client, url, model, stream, self.headers)
        done = cpu()
        time.sleep(PAUSE_S)
        after = cpu()
        if not record:
            return
        self.latencies.append(latency)
        if before is not None and done is not None and after is not None:
            self.cpu_in.append(done - before)
            self.cpu_after.append(after - done)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = _summary(self.latencies)
        if self.cpu_in:
            out["cpu_in_request_ms"] = statistics.fmean(self.cpu_in) * 1000
            out["cpu_after_response_ms"] = statistics.fmean(self.cpu_after) * 1000
            out["cpu_per_request_ms"] = out["cpu_in_request_ms"] + out["cpu_after_response_ms"]
        return out


def _round_robin(client: Any, series: Mapping[str, Series], model: str, stream: bool, n: int, warmup: int) -> None:
    """``warmup`` then ``n`` requests per series, one series after the other in turn, so drift in
    what else the machine does weighs on every series alike."""
    for index in range(warmup + n):
        for one in series.values():
            one.request(client, model, stream, record=index >= warmup)


def _summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p95_ms": _percentile(latencies, 95) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def _pid(url: Any) -> Optional[int]:
    process = getattr(url, "process", None)  # a ProxyURL from run_proxy carries its process
    return process.pid if process is not None else None


def measure_running(
    gateway: GatewayRun, rendered_urls: Sequence[Any], minimal_urls: Sequence[Any], requests: int = 200, warmup: int = 20
) -> dict[str, Any]:
    """Latency straight to the vLLM stub, through the rendered proxies at ``rendered_urls`` (the
    gateway's and any more on its backends) and through the minimal proxies at ``minimal_urls``
    (serving the same stub), ``requests`` sequential requests per series."""
    import httpx

    model, stub = next(iter(gateway.vllm.items()))
    auth = {"Authorization": f"Bearer {gateway.master_key}"}
    results: dict[str, Any] = {
        "requests": requests, "warmup": warmup, "stack": gateway.rendered.stack, "model": model,
        "target_ratio": TARGET_RATIO, "pause_ms": PAUSE_S * 1000,
        "instances": {"rendered": len(rendered_urls), "minimal": len(minimal_urls)}, "modes": {},
    }

    def proxies(urls: Sequence[Any]) -> Series:
        return Series([f"{url}/v1/chat/completions" for url in urls], auth, [_pid(url) for url in urls])

    # A new connection per request for every target: the vLLM stub closes each one anyway
    # (HTTP/1.0), and no pooled connection can race a server's keep-alive timeout
    with httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for stream in (False, True):
            series = {
                "direct": Series([f"{stub.api_base}/chat/completions"], {}, [None]),
                "rendered": proxies(rendered_urls),
                "minimal": proxies(minimal_urls),
            }
            _round_robin(client, series, model, stream, requests, warmup)
            summary = {name: one.summary() for name, one in series.items()}
            added = {
                name: {q: summary[name][q] - summary["direct"][q] for q in ("p50_ms", "p95_ms")}
                for name in ("rendered", "minimal")
            }
            ratio = {
                q: (added["rendered"][q] / added["minimal"][q]) if added["minimal"][q] > 0 else float("inf")
                for q in ("p50_ms", "p95_ms")
            }
            mode: dict[str, Any] = {
                "latency": summary, "added": added, "ratio": ratio, "within_target": ratio["p50_ms"] <= TARGET_RATIO,
            }
            if "cpu_per_request_ms" in summary["rendered"] and "cpu_per_request_ms" in summary["minimal"]:
                mode["cpu_ratio"] = summary["rendered"]["cpu_per_request_ms"] / summary["minimal"]["cpu_per_request_ms"]
            results["modes"]["stream" if stream else "plain"] = mode
    results["within_target"] = all(m["within_target"] for m in results["modes"].values())
    return results


RENDERED_COSTS = (
    "What the rendered config still adds (ablations on LiteLLM 1.106.2): in the request path, the opt-in "
    "response cache derives every request's cache key before its `default_off` mode declines it "
    "(`litellm/caching/caching_handler.py` `_retrieve_from_cache`; the proxy turns the router's "
    "`cache_responses` on whenever a cache is configured) and the callbacks' per-request setup; after the "
    "response, the Prometheus and Langfuse callbacks, the rate limiter's token counters and the Bedrock "
    "budget's spend in Redis. Self-hosted "
    "deployments declare zero token rates: without them LiteLLM's zero-cost diagnostic walks a ~165-key "
    "pricing entry twice per request, once before the reply (plain ratio 1.3-1.4x instead of 1.1-1.15x)."
)
"""Known costs of the rendered config (``components/apps/gateway_config.py``), printed with the results."""


INSTANCES = 2
"""Proxy processes per config. Identical proxies on this machine differ by up to 15% for as long
as they run (seen in repeated runs); taking turns over two of each halves that bias."""


def measure(
    rendered: RenderedGateway, requests: int = 200, warmup: int = 20, workdir: Optional[Path] = None
) -> dict[str, Any]:
    """Start the rendered gateway (``INSTANCES`` proxies on one set of backends, like replicas)
    and as many minimal proxies on the same vLLM stub; measure both."""
    with contextlib.ExitStack() as stack:
        base = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gateway-bench-")))
        gateway = stack.enter_context(run_gateway(rendered, base / "rendered", extra_env=PRODUCTION_ENV))
        model, stub = next(iter(gateway.vllm.items()))
        rendered_urls = [gateway.url] + [
            stack.enter_context(run_proxy(gateway.config, gateway.env, workdir=base / f"rendered-{index}"))
            for index in range(1, INSTANCES)
        ]
        minimal = minimal_config(model, stub.api_base)
        minimal_env = {"LITELLM_MASTER_KEY": gateway.master_key, **PRODUCTION_ENV}
        minimal_urls = [
            stack.enter_context(run_proxy(minimal, minimal_env, workdir=base / f"minimal-{index}"))
            for index in range(INSTANCES)
        ]
        return measure_running(gateway, rendered_urls, minimal_urls, requests=requests, warmup=warmup)


def report(results: Mapping[str, Any]) -> str:
    lines = [
        "# Gateway overhead",
        "",
        f"Real LiteLLM proxy on loopback, stack `{results['stack']}`, model `{results['model']}` (vLLM stub), "
        f"{results['requests']} sequential requests per series after {results['warmup']} warm-up requests, "
        f"each proxy series over {results['instances']['rendered']} processes of its config in turn, "
        f"the three series taking turns request by request, {results['pause_ms']:.0f} ms between requests "
        "(each request meets an idle gateway), unique prompts (no cache hits).",
        "",
        "- **direct**: straight to the vLLM stub",
        "- **rendered**: through the proxy with the program's rendered config and env (callbacks, Redis cache, "
        "router settings, OTLP export to a stub with the SDK's default batch delay)",
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
    lines += ["", f"Overall: target {'met' if results['within_target'] else 'NOT met'}.", "", RENDERED_COSTS, ""]
    cpu_modes = {mode: m for mode, m in results["modes"].items() if "cpu_ratio" in m}
    if cpu_modes:
        lines += [
            "## Proxy CPU per request (capacity, no target)",
            "",
            "Mean CPU time of the proxy process (all threads) while the request ran, and during the pause "
            "after it (after-response work: trace export, metrics, cache write). Back to back, a request "
            "also waits for the previous one's after-response work, so a single sequential client without "
            "pauses sees roughly the CPU ratio instead of the latency ratio.",
            "",
            "| mode | rendered in request | rendered after response | minimal in request | minimal after response "
            "| CPU ratio |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for mode, m in cpu_modes.items():
            r, mi = m["latency"]["rendered"], m["latency"]["minimal"]
            lines.append(
                f"| {mode} | {r['cpu_in_request_ms']:.1f} ms | {r['cpu_after_response_ms']:.1f} ms "
                f"| {mi['cpu_in_request_ms']:.1f} ms | {mi['cpu_after_response_ms']:.1f} ms | {m['cpu_ratio']:.2f} |"
            )
        lines.append("")
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

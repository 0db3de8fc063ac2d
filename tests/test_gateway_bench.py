"""The gateway benchmark's own mechanics, against in-process vLLM stubs (no proxy): how requests
are spread over a config's instances, what is recorded, and how proxy CPU is read."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.gateway.stubs import OpenAIStub
from tools import gateway_bench as gb

MODEL = "llama-3.2-1b"


@pytest.fixture()
def two_stubs():
    with OpenAIStub(models=[MODEL]) as first, OpenAIStub(models=[MODEL]) as second:
        yield first, second


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_series_takes_turns_over_its_instances_and_skips_warmup(two_stubs, stream: bool) -> None:
    first, second = two_stubs
    series = gb.Series([f"{s.api_base}/chat/completions" for s in two_stubs], {}, [None, None])
    with httpx.Client(timeout=10) as client:
        gb._round_robin(client, {"stubs": series}, MODEL, stream, n=4, warmup=2)
    assert (len(first.chat_requests), len(second.chat_requests)) == (3, 3)
    assert len(series.latencies) == 4, "warm-up requests are not recorded"
    prompts = [r.json["messages"][0]["content"] for r in first.chat_requests + second.chat_requests]
    assert len(set(prompts)) == 6, "every prompt is unique, so the response cache never answers"
    summary = series.summary()
    assert 0 < summary["p50_ms"] <= summary["p95_ms"]
    assert "cpu_per_request_ms" not in summary, "no process to read for a stub"


def test_process_cpu_counts_threads_that_have_ended() -> None:
    """A proxy's work runs on its event loop and on worker threads that may come and go."""
    busy = subprocess.Popen(
        [sys.executable, "-c", "import threading, time\n"
         "def spin():\n    end = time.process_time() + 0.5\n    while time.process_time() < end: pass\n"
         "thread = threading.Thread(target=spin); thread.start(); thread.join(); print('done', flush=True)\n"
         "time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert busy.stdout.readline().strip() == "done"
        cpu = gb.process_cpu_seconds(busy.pid)
        if cpu is None:
            pytest.skip("no process CPU clock on this OS")
        assert 0.5 <= cpu < 5, f"an ended thread spun 0.5 s of CPU, read {cpu:.2f} s"
    finally:
        busy.kill()
        busy.wait()
    assert gb.process_cpu_seconds(busy.pid) is None, "a process that is gone has no reading"
    assert gb.process_cpu_seconds(os.getpid()) > 0


def test_report_shows_cpu_only_when_measured() -> None:
    mode = {
        "latency": {
            "direct": {"p50_ms": 1.0, "p95_ms": 2.0},
            "rendered": {"p50_ms": 12.0, "p95_ms": 15.0, "cpu_in_request_ms": 11.0, "cpu_after_response_ms": 3.0},
            "minimal": {"p50_ms": 11.0, "p95_ms": 13.0, "cpu_in_request_ms": 10.0, "cpu_after_response_ms": 1.0},
        },
        "added": {"rendered": {"p50_ms": 11.0, "p95_ms": 13.0}, "minimal": {"p50_ms": 10.0, "p95_ms": 11.0}},
        "ratio": {"p50_ms": 1.1, "p95_ms": 13 / 11},
        "within_target": True,
        "cpu_ratio": 14 / 11,
    }
    results = {"stack": "dev", "model": MODEL, "requests": 200, "warmup": 20, "pause_ms": 25.0,
               "instances": {"rendered": 2, "minimal": 2}, "target_ratio": 1.2, "within_target": True,
               "modes": {"plain": mode}}
    text = gb.report(results)
    assert "| plain | 1.0 ms | 2.0 ms | 11.0 ms | 13.0 ms | 10.0 ms | 11.0 ms | 1.10 | 1.18 | met |" in text
    assert "| plain | 11.0 ms | 3.0 ms | 10.0 ms | 1.0 ms | 1.27 |" in text
    without_cpu = {**results, "modes": {"plain": {k: v for k, v in mode.items() if k != "cpu_ratio"}}}
    assert "CPU per request" not in gb.report(without_cpu)

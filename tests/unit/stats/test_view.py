"""The live view of a known workload, recorded through the distro's own instruments into a real SDK.

A fake clock drives the stats reader, so windows are exact: each test samples at chosen
instants and checks the window (a difference of two snapshots) and since-start totals.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from otel_chatbot.genai import GenAIRequest, GenAIResponse, PriceTable
from otel_chatbot.genai.types import TokenUsage
from otel_chatbot.instrumentation.genai.metrics import GenAIMetrics
from otel_chatbot.stats import names as n
from otel_chatbot.stats.exponential import relative_error
from tests.unit.stats.stats_rig import Rig, make_rig


@pytest.fixture
def rig() -> Iterator[Rig]:
    with make_rig() as made:
        yield made


HAIKU = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def test_routes_count_requests_errors_and_exact_percentiles_within_the_bound(rig: Rig) -> None:
    rig.sample_at(0)
    chat = [0.020 + 0.004 * i for i in range(100)]  # 20 .. 416 ms
    for i, seconds in enumerate(chat):
        rig.request("/chat/{session}", seconds, status=500 if i % 10 == 0 else 200)
    for _ in range(7):
        rig.request("/health", 0.001)
    rig.request(None, 0.002, status=404)  # no route matched: counted, not an error
    rig.request("/chat/{session}", 0.5, status=500, error="RuntimeError")
    rig.sample_at(1)

    http = rig.view()["since_start"]["http"]
    overall = http["overall"]
    assert (overall["requests"], overall["errors"]) == (109, 11)
    assert overall["error_rate"] == pytest.approx(11 / 109, abs=1e-4)
    assert overall["status"] == {"2xx": 97, "4xx": 1, "5xx": 11}
    routes = {(r["method"], r["route"]): r for r in http["routes"]}
    assert set(routes) == {("POST", "/chat/{session}"), ("POST", "/health"), ("POST", None)}
    chat_route = routes[("POST", "/chat/{session}")]
    assert (chat_route["requests"], chat_route["errors"]) == (101, 11)
    assert chat_route["rate"] == pytest.approx(101.0)  # one second since start
    latency = chat_route["latency_s"]
    values = [*chat, 0.5]
    assert latency["avg"] == pytest.approx(sum(values) / len(values), rel=1e-6)
    assert latency["max"] == 0.5  # exact: the max since start
    bound = latency["relative_error"]
    for label, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        assert abs(latency[label] - exact(values, q)) / exact(values, q) <= bound * 1.0001, label
    assert routes[("POST", "/health")]["latency_s"]["p99"] == pytest.approx(0.001, rel=relative_error(5))


def test_a_window_is_the_difference_of_two_snapshots(rig: Rig) -> None:
    rig.sample_at(0)
    for _ in range(50):
        rig.request("/chat/{session}", 2.0)  # slow, then ...
    rig.idle_until(61)
    for _ in range(30):
        rig.request("/chat/{session}", 0.1, status=503)  # ... fast failures in the last minute only
    rig.sample_at(62)

    document = rig.view(60)
    window, since_start = document["window"], document["since_start"]
    assert window["seconds"] == 60.0
    overall = window["http"]["overall"]
    assert (overall["requests"], overall["errors"], overall["error_rate"]) == (30, 30, 1.0)
    assert overall["rate"] == pytest.approx(0.5)
    assert overall["latency_s"]["p99"] == pytest.approx(0.1, rel=relative_error(4))
    # The largest value in the window is not the largest since start: estimated from the top bucket.
    assert overall["latency_s"]["max"] == pytest.approx(0.1, rel=overall["latency_s"]["relative_error"])
    assert since_start["http"]["overall"]["requests"] == 80
    assert since_start["http"]["overall"]["latency_s"]["max"] == 2.0
    assert document["window_requested_s"] == 60
    assert document["stats"]["snapshots"] == 62  # 61 one-second snapshots and the first (t=0) kept for longer windows


def test_a_young_ring_gives_a_shorter_window_and_says_so(rig: Rig) -> None:
    rig.sample_at(0)
    rig.request("/chat/{session}", 0.1)
    rig.sample_at(5)
    window = rig.view(60)["window"]
    assert window["seconds"] == 5.0
    assert window["http"]["overall"]["rate"] == pytest.approx(0.2)


def test_before_two_samples_there_is_no_window_and_before_one_no_data(rig: Rig) -> None:
    document = rig.view()
    assert (document["window"], document["since_start"], document["sample_age_s"]) == (None, None, None)
    rig.sample_at(0)
    document = rig.view()
    assert document["window"] is None
    assert document["since_start"]["http"]["overall"]["requests"] == 0


def test_active_and_peak_requests_come_from_the_sampled_up_down_counter(rig: Rig) -> None:
    key = rig.server.active_key("POST", "http")
    rig.sample_at(0)
    rig.server.active.add(3, key)
    rig.sample_at(1)
    rig.server.active.add(-2, key)
    rig.sample_at(2)
    rig.idle_until(70)
    document = rig.view(60)
    assert document["since_start"]["http"]["overall"]["active"] == 1
    assert document["since_start"]["http"]["overall"]["peak_active"] == 3
    assert document["window"]["http"]["overall"]["peak_active"] == 1  # the peak of 3 left the window


def test_genai_per_provider_and_model_from_the_genai_instruments(rig: Rig) -> None:
    metrics = GenAIMetrics(rig.provider.get_meter("otel_chatbot.genai"), PriceTable.default())
    haiku = GenAIRequest(operation_name="chat", provider_name="aws.bedrock", model=HAIKU)
    sonnet = GenAIRequest(operation_name="chat", provider_name="aws.bedrock", model=SONNET)
    answered = GenAIResponse(response_model=HAIKU, usage=TokenUsage(uncached_input_tokens=100, output_tokens=40))
    rig.sample_at(0)
    cost_total = 0.0
    for i in range(10):
        cost = metrics.compute_cost(haiku, answered)
        assert cost is not None
        cost_total += sum(cost.by_type().values())
        metrics.record(haiku, answered, 0.4 + 0.01 * i, None, cost)
        metrics.record_chunk_times(haiku, answered, 0.15, [0.15, 0.2, 0.25])
    metrics.record(sonnet, GenAIResponse(), 1.2, "ThrottlingException", None)
    metrics.record_throttle(sonnet)
    rig.sample_at(60)

    genai = rig.view()["since_start"]["genai"]
    models = {(m["provider"], m["model"]): m for m in genai["models"]}
    h = models[("aws.bedrock", HAIKU)]
    assert (h["calls"], h["errors"], h["throttles"]) == (10, 0, 0)
    assert h["tokens"] == {"input": 1000, "output": 400}
    assert h["tokens_per_min"] == pytest.approx(1400.0)
    assert h["cost_usd"] == pytest.approx(cost_total, abs=1e-6)
    assert h["cost_per_hour_usd"] == pytest.approx(cost_total * 60, abs=1e-5)
    assert h["ttft_s"]["count"] == 10
    assert h["ttft_s"]["p50"] == pytest.approx(0.15, rel=h["ttft_s"]["relative_error"])
    assert h["latency_s"]["max"] == pytest.approx(0.49)
    s = models[("aws.bedrock", SONNET)]
    assert (s["calls"], s["errors"], s["throttles"], s["cost_usd"]) == (1, 1, 1, 0.0)
    assert (genai["overall"]["calls"], genai["overall"]["errors"], genai["overall"]["throttles"]) == (11, 1, 1)


def test_cache_and_failover_appear_only_when_recorded(rig: Rig) -> None:
    rig.sample_at(0)
    rig.sample_at(1)
    assert (rig.view()["since_start"]["cache"], rig.view()["since_start"]["failover"]) == (None, None)

    meter = rig.provider.get_meter("otel_chatbot.helpers")
    lookups = meter.create_counter(n.CACHE_LOOKUPS)
    for result, count in (("hit", 3), ("miss", 6), ("error", 1)):
        lookups.add(count, {n.CACHE_NAME: "semantic", n.CACHE_RESULT: result})
    meter.create_counter(n.CACHE_SAVED_TOKENS).add(300, {n.TOKEN_TYPE: "input", n.REQUEST_MODEL: HAIKU})
    meter.create_counter(n.CACHE_SAVED_COST).add(0.0125, {n.REQUEST_MODEL: HAIKU})
    chains = meter.create_counter(n.FAILOVER_CHAINS)
    chains.add(18, {n.FAILOVER_OUTCOME: "served"})
    chains.add(2, {n.FAILOVER_OUTCOME: "exhausted"})
    meter.create_counter(n.FAILOVER_SWITCHES).add(5, {"chatbot.failover.from": "aws.bedrock"})
    attempts = meter.create_counter(n.FAILOVER_ATTEMPTS)
    attempts.add(20, {n.PROVIDER: "aws.bedrock"})
    attempts.add(7, {n.PROVIDER: "aws.bedrock", n.ERROR_TYPE: "ThrottlingException"})
    overhead = meter.create_histogram(n.FAILOVER_OVERHEAD)
    for seconds in (0.05, 0.08, 0.12):
        overhead.record(seconds)
    rig.sample_at(2)

    view = rig.view()["since_start"]
    cache = view["cache"]
    assert (cache["lookups"], cache["hit"], cache["miss"], cache["error"], cache["hit_ratio"]) == (10, 3, 6, 1, 0.3)
    assert cache["saved_tokens"] == {"input": 300}
    assert cache["saved_cost_usd"] == pytest.approx(0.0125)
    assert cache["caches"] == [{"name": "semantic", "lookups": 10, "hit": 3, "miss": 6, "error": 1, "hit_ratio": 0.3}]
    failover = view["failover"]
    assert (failover["chains"], failover["served"], failover["exhausted"]) == (20, 18, 2)
    assert (failover["switched"], failover["switch_ratio"], failover["switches"]) == (3, 0.15, 5)
    assert (failover["attempts"], failover["failed_attempts"]) == (27, 7)
    assert failover["overhead_s"]["max"] == 0.12


def test_streams_websockets_and_process(rig: Rig) -> None:
    meter = rig.provider.get_meter("otel_chatbot.fastapi")
    durations = meter.create_histogram(n.STREAM_DURATION)
    ttfb = meter.create_histogram(n.STREAM_TTFB)
    cpu_seconds = [0.0]
    meter.create_observable_counter(
        n.CPU_TIME, callbacks=[lambda options: [_observation(cpu_seconds[0], {n.CPU_MODE: "user"})]]
    )
    meter.create_observable_up_down_counter(
        n.MEMORY_USAGE, callbacks=[lambda options: [_observation(50 * 1024 * 1024, {})]]
    )
    rig.sample_at(0)
    for outcome, count in (("completed", 8), ("cancelled", 2)):
        for _ in range(count):
            durations.record(3.0, {n.STREAM_OUTCOME: outcome})
            ttfb.record(0.3)
    rig.server.websockets.add(2, rig.server.active_key("GET", "ws"))
    cpu_seconds[0] = 1.5
    rig.sample_at(10)
    view = rig.view()["since_start"]
    assert view["streams"]["streams"] == 10
    assert view["streams"]["outcomes"] == {"cancelled": 2, "completed": 8}
    assert view["streams"]["time_to_first_byte_s"]["max"] == 0.3
    assert (view["websockets"]["active"], view["websockets"]["peak_active"]) == (2, 2)
    assert view["process"]["cpu_s"] == 1.5
    assert view["process"]["cpu_cores"] == pytest.approx(0.15)
    assert view["process"]["rss_bytes"] == 50 * 1024 * 1024
    assert view["process"]["loop_lag_s"] is None


def _observation(value: float, attributes: dict[str, Any]) -> Any:
    from opentelemetry.metrics import Observation

    return Observation(value, attributes)

"""The stats endpoint as ``configure()`` builds it: its own loopback port, JSON, the page, a clean close."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from otel_chatbot.config import load_settings
from otel_chatbot.stats import names as n
from otel_chatbot.stats.endpoint import parse_window
from otel_chatbot.telemetry import Telemetry, build


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def stats(url: str, window: int = 60) -> Any:
    status, content_type, body = get(f"{url}stats?window={window}")
    assert (status, content_type) == (200, "application/json")
    return json.loads(body)


def _requests_seen(document: Any, count: int) -> bool:
    return document["since_start"] is not None and document["since_start"]["http"]["overall"]["requests"] >= count


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    settings = load_settings(
        {
            "traces_exporter": "none",
            "metrics_exporter": "none",
            "logs_exporter": "none",
            "stats_port": 0,
            "service_name": "stats-test",
        },
        environ={},
    )
    handle = build(settings)
    yield handle
    handle.shutdown()


def test_stats_are_served_on_their_own_loopback_port(telemetry: Telemetry) -> None:
    url = telemetry.stats_url
    assert url is not None and url.startswith("http://127.0.0.1:")
    assert telemetry.meter_provider is not None
    histogram = telemetry.meter_provider.get_meter("test").create_histogram(n.HTTP_DURATION)
    for _ in range(12):
        histogram.record(0.05, {n.METHOD: "GET", n.ROUTE: "/health", n.STATUS: 200})
    deadline = time.monotonic() + 5
    while not _requests_seen(document := stats(url), 12):
        assert time.monotonic() < deadline, document
        time.sleep(0.1)
    assert document["service"]["name"] == "stats-test"
    assert document["since_start"]["http"]["routes"][0]["route"] == "/health"
    assert document["sample_age_s"] <= 1.5
    assert document["stats"]["collect_cpu_ms"]["avg"] is not None


def test_the_page_is_one_self_contained_html_document(telemetry: Telemetry) -> None:
    status, content_type, body = get(telemetry.stats_url or "")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    page = body.decode()
    assert "<script>" in page and "fetch(`stats?window=" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # no CDN, nothing off-host
    assert "https://" not in page


def test_a_bad_window_or_path_is_a_clear_client_error(telemetry: Telemetry) -> None:
    url = telemetry.stats_url or ""
    status, _, body = get(f"{url}stats?window=9999")
    assert status == 400
    assert "window must be an integer number of seconds from 1 to 300" in json.loads(body)["error"]
    status, _, body = get(f"{url}metrics")
    assert status == 404 and "try / or /stats" in json.loads(body)["error"]


def test_parse_window() -> None:
    assert (parse_window(None), parse_window(""), parse_window("10")) == (60, 60, 10)
    for bad in ("0", "301", "ten", "1.5"):
        with pytest.raises(ValueError, match="window must be"):
            parse_window(bad)


def test_shutdown_frees_the_port() -> None:
    settings = load_settings(
        {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", "stats_port": 0},
        environ={},
    )
    handle = build(settings)
    url = handle.stats_url
    assert url is not None
    handle.shutdown()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}stats", timeout=2)


def test_a_port_in_use_is_logged_and_the_app_runs_on_without_stats(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = load_settings(
            {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", "stats_port": port},
            environ={},
        )
        with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
            handle = build(settings)
        try:
            assert handle.stats_url is None
            assert handle.meter_provider is not None
        finally:
            handle.shutdown()
    assert f"OTEL_CHATBOT_STATS_PORT: cannot serve the live stats on 127.0.0.1:{port}" in caplog.text


def test_the_free_port_is_logged_where_it_is_seen(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(
        {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", "stats_port": 0}, environ={}
    )
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        handle = build(settings)
    handle.shutdown()
    assert f"otel_chatbot: live stats at {handle.stats_url} (JSON: {handle.stats_url}stats)" in caplog.text


def test_the_operator_helpers_show_in_the_view(configure_helpers: Any) -> None:
    """cache_lookup() and failover(), the real helpers, counted exactly in /stats."""
    from otel_chatbot import cache_lookup, failover

    configured = configure_helpers(stats_port=0)
    url = configured.telemetry.stats_url
    for similarity in (0.95, 0.91, 0.40, 0.35, 0.20):
        with cache_lookup("semantic", model="us.anthropic.claude-3-5-haiku-20241022-v1:0") as lookup:
            if similarity > 0.85:
                lookup.hit(similarity=similarity, input_tokens=100, output_tokens=40)
            else:
                lookup.miss(similarity=similarity)
    for rounds in range(3):
        with failover("chat") as chain:
            for provider in ("aws.bedrock", "openai"):
                try:
                    with chain.attempt(provider=provider, model="m"):
                        if provider == "aws.bedrock" and rounds < 2:
                            raise TimeoutError("throttled")
                    break
                except TimeoutError:
                    continue
    deadline = time.monotonic() + 5
    while (view := stats(url or "")["since_start"]) is None or view["cache"] is None or view["failover"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    cache, chains = view["cache"], view["failover"]
    assert (cache["lookups"], cache["hit"], cache["miss"], cache["hit_ratio"]) == (5, 2, 3, 0.4)
    assert cache["saved_tokens"] == {"input": 200, "output": 80} and cache["saved_cost_usd"] > 0
    assert (chains["chains"], chains["served"], chains["exhausted"], chains["switched"]) == (3, 3, 0, 2)
    assert (chains["attempts"], chains["failed_attempts"], chains["switches"]) == (5, 2, 2)

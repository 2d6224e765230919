"""The optional in-process /metrics endpoint, for users without a collector."""

from __future__ import annotations

import urllib.request

import pytest

from otel_chatbot.config import load_settings
from otel_chatbot.telemetry import build

pytestmark = pytest.mark.e2e


def test_metrics_are_served_in_prometheus_text_format() -> None:
    settings = load_settings(
        {"traces_exporter": "none", "logs_exporter": "none", "metrics_exporter": "prometheus", "prometheus_port": 0},
        environ={},
    )
    telemetry = build(settings)
    try:
        port = telemetry.prometheus_port
        assert port
        meter = telemetry.meter_provider.get_meter("test")
        meter.create_histogram("http.server.request.duration", unit="s").record(0.2, {"http.route": "/chat/{id}"})
        telemetry.force_flush()
        telemetry.force_flush()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        assert 'http_server_request_duration_seconds_count{http_route="/chat/{id}"' in text
        assert text.count("# TYPE http_server_request_duration_seconds histogram") == 1, "no repeats"
        assert "target_info" in text
    finally:
        telemetry.shutdown()

"""sink_settings: what configure() gets to send every signal to a sink, whatever the environment says."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from otel_chatbot.config import load_settings
from otel_chatbot.testing.settings import sink_settings

SINK: Any = SimpleNamespace(http_endpoint="http://127.0.0.1:43180")

HOSTILE_ENVIRONMENT = {
    "OTEL_SDK_DISABLED": "true",
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "prometheus",
    "OTEL_LOGS_EXPORTER": "console",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example:4317",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://tempo.example:4318/v1/traces",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://mimir.example:4318/v1/metrics",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://loki.example:4318/v1/logs",
    "OTEL_TRACES_SAMPLER": "always_off",
    "OTEL_CHATBOT_AWS_DETECTORS": "ec2",
}


def test_every_signal_goes_to_the_sink_over_http_whatever_the_environment_says() -> None:
    settings = load_settings(sink_settings(SINK), environ=HOSTILE_ENVIRONMENT)
    assert not settings.sdk_disabled
    assert all(settings.exports(signal, "otlp") for signal in ("traces", "metrics", "logs"))
    assert not settings.exports("metrics", "prometheus") and not settings.exports("logs", "console")
    assert settings.otlp_protocol == "http/protobuf"
    assert settings.otlp_traces_endpoint == "http://127.0.0.1:43180/v1/traces"
    assert settings.otlp_metrics_endpoint == "http://127.0.0.1:43180/v1/metrics"
    assert settings.otlp_logs_endpoint == "http://127.0.0.1:43180/v1/logs"
    assert settings.sampler == "parentbased_always_on"
    assert settings.aws_detectors == ("none",)

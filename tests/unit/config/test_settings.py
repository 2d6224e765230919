"""The settings table: precedence and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_chatbot.config import SETTINGS, ConfigError, load_settings
from otel_chatbot.config.settings import setting_names


def test_table_and_dataclass_name_the_same_settings() -> None:
    assert tuple(s.name for s in SETTINGS) == setting_names()


def test_every_default_parses() -> None:
    for setting in SETTINGS:
        setting.parse_default()


def test_precedence_keyword_over_environment_over_default() -> None:
    env = {"OTEL_SERVICE_NAME": "from-env", "OTEL_TRACES_SAMPLER_ARG": "0.25"}
    settings = load_settings({"service_name": "from-kwarg"}, environ=env)
    assert settings.service_name == "from-kwarg"
    assert settings.sampler_arg == 0.25
    assert load_settings(environ={}).service_name == "chatbot"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER: expected a comma-separated list of otlp"),
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_PROTOCOL: expected one of http/protobuf, grpc",
        ),
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG: expected a number from 0.0 to 1.0"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"},
            "OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https://",
        ),
        ({"OTEL_RESOURCE_ATTRIBUTES": "novalue"}, "OTEL_RESOURCE_ATTRIBUTES: expected key=value pairs"),
        ({"OTEL_PYTHON_EXCLUDED_URLS": "(unclosed"}, "OTEL_PYTHON_EXCLUDED_URLS: invalid regular expression"),
        ({"OTEL_SDK_DISABLED": "maybe"}, "OTEL_SDK_DISABLED: expected one of true, false"),
        ({"OTEL_CHATBOT_STATS_PORT": "70000"}, "OTEL_CHATBOT_STATS_PORT: expected an integer from 0 to 65535"),
        ({"OTEL_CHATBOT_STATS_PORT": "auto"}, "OTEL_CHATBOT_STATS_PORT: expected an integer from 0 to 65535"),
        (
            {"OTEL_CHATBOT_CONVERSATION_ID": "cookie:x"},
            "OTEL_CHATBOT_CONVERSATION_ID: expected comma-separated header:NAME",
        ),
    ],
)
def test_bad_values_name_the_variable_and_the_accepted_values(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    assert expected in str(info.value)


def test_bad_keyword_names_the_keyword() -> None:
    with pytest.raises(ConfigError, match=r"configure\(otlp_timeout_ms=...\) \[OTEL_EXPORTER_OTLP_TIMEOUT\]"):
        load_settings({"otlp_timeout_ms": -1}, environ={})
    with pytest.raises(ConfigError, match="unknown setting 'servce_name'"):
        load_settings({"servce_name": "x"}, environ={})


def test_resource_attributes_are_percent_decoded() -> None:
    settings = load_settings(environ={"OTEL_RESOURCE_ATTRIBUTES": "team=chat%20ops,tier=gold"})
    assert settings.resource_attributes == (("team", "chat ops"), ("tier", "gold"))


def test_keywords_take_the_forms_code_naturally_passes() -> None:
    settings = load_settings(
        {
            "traces_exporter": "otlp",
            "metrics_exporter": ("otlp", "prometheus"),
            "logs_exporter": ["console"],
            "otlp_headers": {"authorization": "Basic dXNlcjpwYXNz==", "x-tags": "a,b=c%20d"},
            "resource_attributes": {"team": "chat ops"},
            "gc_freeze": False,
            "sampler_arg": 1,
            "otlp_timeout_ms": 2500,
            "service_version": None,
            "pricing_file": Path("/etc/prices.json"),
            "excluded_urls": ["^/internal/", "^/ping$"],
            "conversation_id_sources": [("header", "X-Chat-ID"), ("body", "session_id")],
        },
        environ={},
    )
    assert settings.traces_exporter == ("otlp",)
    assert settings.metrics_exporter == ("otlp", "prometheus")
    assert settings.logs_exporter == ("console",)
    # Values holding the separators of the string form arrive exactly as given.
    assert settings.otlp_headers == (("authorization", "Basic dXNlcjpwYXNz=="), ("x-tags", "a,b=c%20d"))
    assert settings.resource_attributes == (("team", "chat ops"),)
    assert settings.gc_freeze is False
    assert settings.sampler_arg == 1.0
    assert settings.otlp_timeout_ms == 2500
    assert settings.service_version is None
    assert settings.pricing_file == "/etc/prices.json"
    assert settings.excluded_urls == ("^/internal/", "^/ping$")
    assert settings.conversation_id_sources == (("header", "x-chat-id"), ("body", "session_id"))


def test_keywords_still_take_the_environment_string_form() -> None:
    settings = load_settings({"gc_freeze": "false", "otlp_timeout_ms": "2500", "otlp_headers": "a=b"}, environ={})
    assert (settings.gc_freeze, settings.otlp_timeout_ms, settings.otlp_headers) == (False, 2500, (("a", "b"),))


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        (
            "service_name",
            None,
            r"configure\(service_name=...\) expects str \(or the string form of OTEL_SERVICE_NAME\)",
        ),
        ("gc_freeze", 1, r"configure\(gc_freeze=...\) expects bool .* got int 1"),
        ("otlp_timeout_ms", 2.5, r"expects int .* got float 2.5"),
        ("traces_exporter", {"otlp"}, r"expects 'otlp' \| 'console' \| 'none' \| Sequence\[.*got set"),
        ("otlp_headers", [("a", "b")], r"expects Mapping\[str, str\] .* got list"),
        ("conversation_id_sources", [("header",)], r"expects Sequence\[tuple\['header' \| 'path' \| 'body', str\]\]"),
    ],
)
def test_a_keyword_of_the_wrong_type_is_a_type_error_naming_it(keyword: str, value: object, expected: str) -> None:
    with pytest.raises(TypeError, match=expected):
        load_settings({keyword: value}, environ={})


def test_the_stats_port_is_off_unless_set_and_zero_means_a_free_port() -> None:
    assert load_settings(environ={}).stats_port is None
    assert load_settings(environ={"OTEL_CHATBOT_STATS_PORT": ""}).stats_port is None
    assert load_settings(environ={"OTEL_CHATBOT_STATS_PORT": "0"}).stats_port == 0
    assert load_settings({"stats_port": 8765}, environ={"OTEL_CHATBOT_STATS_PORT": "0"}).stats_port == 8765
    assert load_settings({"stats_port": None}, environ={"OTEL_CHATBOT_STATS_PORT": "0"}).stats_port is None
    assert load_settings(environ={}).stats_host == "127.0.0.1"

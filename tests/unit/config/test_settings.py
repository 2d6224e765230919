"""The settings table: precedence, clear errors, and the README kept in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_chatbot.config import SETTINGS, ConfigError, load_settings
from otel_chatbot.config.docs import END, START, markdown_table
from otel_chatbot.config.settings import setting_names

README = Path(__file__).resolve().parents[3] / "README.md"


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


def test_readme_configuration_table_is_generated_from_the_table() -> None:
    text = README.read_text()
    block = text.split(START, 1)[1].split(END, 1)[0]
    assert block.strip() == markdown_table().strip(), "run: python -m otel_chatbot.config.docs --write README.md"

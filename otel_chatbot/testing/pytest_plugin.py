"""pytest fixtures of the testing kit: provider stand-ins, an OTLP receiver, telemetry aimed at it.

Opt-in: add ``pytest_plugins = ["otel_chatbot.testing.pytest_plugin"]`` to your root
``conftest.py`` (or run ``pytest -p otel_chatbot.testing.pytest_plugin``). The distro does not
register it under the ``pytest11`` entry point, which would load it into every pytest run of
every environment where otel-chatbot is installed: importing otel_chatbot before a coverage
plugin starts measuring it, and claiming fixture names in projects that never asked.

Each fixture is per test (a fresh ledger, no records of another test; each server starts and
stops in ~50 ms). Importing this module imports neither server nor the SDK: they load when a
fixture is first used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from otel_chatbot.config import SettingsKeywords
    from otel_chatbot.telemetry import StarletteApp, Telemetry
    from otel_chatbot.testing.anthropic import AnthropicServer
    from otel_chatbot.testing.bedrock import BedrockServer
    from otel_chatbot.testing.ollama import OllamaServer
    from otel_chatbot.testing.openai import OpenAIServer
    from otel_chatbot.testing.otlp_sink import OtlpSink


class ConfigureTelemetry(Protocol):
    """The ``configure_telemetry`` fixture: ``configure()`` aimed at this test's ``otlp_sink``."""

    def __call__(self, app: StarletteApp | None = None, **settings: Unpack[SettingsKeywords]) -> Telemetry: ...


@pytest.fixture
def bedrock_server() -> Iterator[BedrockServer]:
    """A Bedrock-compatible server on 127.0.0.1.

    ``boto3.client("bedrock-runtime", **bedrock_server.client_kwargs())`` talks to it; what it
    answered is in ``bedrock_server.ledger``.
    """
    from otel_chatbot.testing.bedrock import BedrockServer

    with BedrockServer() as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """An OpenAI-compatible server (and Azure OpenAI resource) on 127.0.0.1.

    ``openai.OpenAI(**openai_server.client_kwargs())`` and
    ``openai.AzureOpenAI(**openai_server.azure_kwargs())`` talk to it; what it answered is in
    ``openai_server.ledger``.
    """
    from otel_chatbot.testing.openai import OpenAIServer

    with OpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """An Anthropic Messages API on 127.0.0.1: ``anthropic.Anthropic(**anthropic_server.client_kwargs())``."""
    from otel_chatbot.testing.anthropic import AnthropicServer

    with AnthropicServer() as server:
        yield server


@pytest.fixture
def ollama_server() -> Iterator[OllamaServer]:
    """An Ollama on 127.0.0.1: native API at ``ollama_server.url``, OpenAI's at ``.openai_base_url``."""
    from otel_chatbot.testing.ollama import OllamaServer

    with OllamaServer() as server:
        yield server


@pytest.fixture
def otlp_sink() -> Iterator[OtlpSink]:
    """An OTLP receiver on 127.0.0.1 (HTTP at ``.http_endpoint``, gRPC at ``.grpc_endpoint``)."""
    from otel_chatbot.testing.otlp_sink import OtlpSink

    with OtlpSink() as sink:
        yield sink


@pytest.fixture
def configure_telemetry(otlp_sink: OtlpSink) -> Iterator[ConfigureTelemetry]:
    """``configure(app, **settings)`` exporting every signal to ``otlp_sink``; shut down after the test.

    Your ``settings`` override the sink's (:func:`~otel_chatbot.testing.settings.sink_settings`).
    No global providers are set: OpenTelemetry's are set once per process, and the next test
    configures afresh. For spans of your own, use ``telemetry.tracer_provider.get_tracer(...)``.
    Call ``telemetry.force_flush()`` before reading the sink. If the process is configured
    already, ``configure()`` returns that configuration (its settings unchanged) and the fixture
    leaves it running.
    """
    from otel_chatbot import configure
    from otel_chatbot.telemetry import active
    from otel_chatbot.testing.settings import sink_settings

    made: list[Telemetry] = []

    def configure_for_test(app: StarletteApp | None = None, **settings: Unpack[SettingsKeywords]) -> Telemetry:
        merged = sink_settings(otlp_sink)
        merged.update(settings)
        before = active()
        telemetry = configure(app, set_global_providers=False, **merged)
        if telemetry is not before:  # a configuration made elsewhere is not this fixture's to shut down
            made.append(telemetry)
        return telemetry

    yield configure_for_test
    for telemetry in made:
        telemetry.shutdown()

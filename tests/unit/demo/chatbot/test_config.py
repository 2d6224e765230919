"""The example chatbot's settings: providers, endpoints from each SDK's variables, failover, bad values named."""

from __future__ import annotations

import pytest

from otel_chatbot.demo.chatbot.config import (
    DEFAULT_MODEL_ID,
    LOCAL_API_KEY,
    ChatbotConfig,
    Endpoint,
    ollama_url,
)


def test_bedrock_settings() -> None:
    local = ChatbotConfig.from_env({"BEDROCK_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "eu-west-1"})
    assert local.endpoint_url == "http://127.0.0.1:9" and local.region == "eu-west-1" and local.fake_credentials
    assert not ChatbotConfig.from_env({"BEDROCK_ENDPOINT_URL": "http://x", "AWS_PROFILE": "dev"}).fake_credentials
    real = ChatbotConfig.from_env({"CHATBOT_MODEL_ID": "amazon.nova-lite-v1:0"})
    assert real.endpoint_url is None and not real.fake_credentials and real.model_id == "amazon.nova-lite-v1:0"
    assert (real.provider, real.enabled, real.fallback) == ("bedrock", ("bedrock",), None)


def test_each_http_provider_is_on_when_its_sdk_variables_are_set() -> None:
    config = ChatbotConfig.from_env(
        {
            "OPENAI_BASE_URL": "http://127.0.0.1:8001/v1",
            "ANTHROPIC_API_KEY": "sk-ant-x",
            "OLLAMA_HOST": "127.0.0.1:8003",
            "CHATBOT_OLLAMA_MODEL": "qwen3",
        }
    )
    assert config.enabled == ("bedrock", "openai", "anthropic", "ollama")
    assert config.endpoint("openai") == Endpoint("http://127.0.0.1:8001/v1", LOCAL_API_KEY)
    assert config.endpoint("anthropic") == Endpoint(None, "sk-ant-x")  # the public API
    assert config.endpoint("ollama") == Endpoint("http://127.0.0.1:8003")
    assert [config.model_of(name) for name in config.enabled] == [
        DEFAULT_MODEL_ID,
        "gpt-4o-mini",
        "claude-haiku-4-5",
        "qwen3",
    ]


def test_the_default_provider_and_the_fallback() -> None:
    config = ChatbotConfig.from_env(
        {"CHATBOT_PROVIDER": "Anthropic", "ANTHROPIC_API_KEY": "k", "CHATBOT_FALLBACK_PROVIDER": "ollama"}
    )
    assert config.provider == "anthropic" and config.fallback == ("ollama", "llama3.2")
    assert config.endpoint("ollama") == Endpoint("http://127.0.0.1:11434"), "Ollama's own default host"
    # Only a fallback model: a Bedrock model, what the setting meant before there were providers.
    assert ChatbotConfig.from_env({"CHATBOT_FALLBACK_MODEL_ID": "us.amazon.nova-lite-v1:0"}).fallback == (
        "bedrock",
        "us.amazon.nova-lite-v1:0",
    )


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CHATBOT_PROVIDER": "gemini"}, "CHATBOT_PROVIDER='gemini'"),
        ({"CHATBOT_FALLBACK_PROVIDER": "bard"}, "CHATBOT_FALLBACK_PROVIDER='bard'"),
        ({"CHATBOT_PROVIDER": "openai"}, "needs OPENAI_API_KEY"),
        ({"CHATBOT_FALLBACK_PROVIDER": "anthropic"}, "needs ANTHROPIC_API_KEY"),
        ({"CHATBOT_FALLBACK_MODEL_ID": DEFAULT_MODEL_ID}, "CHATBOT_FALLBACK_PROVIDER / CHATBOT_FALLBACK_MODEL_ID"),
    ],
)
def test_a_bad_setting_fails_at_start_up_naming_it(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError) as caught:
        ChatbotConfig.from_env(environ)
    assert named in str(caught.value)


def test_ollama_host_is_read_as_ollama_reads_it() -> None:
    assert ollama_url("0.0.0.0:11434") == "http://0.0.0.0:11434"
    assert ollama_url("https://llm.internal/") == "https://llm.internal:11434"
    assert ollama_url("http://ollama:8080") == "http://ollama:8080"

"""The example chatbot's model providers: one module per provider, each through its official client.

* ``bedrock``: boto3, Converse and ConverseStream (:mod:`.bedrock`);
* ``openai``: ``openai.AsyncOpenAI``, Chat Completions, for OpenAI or any OpenAI-compatible
  server (:mod:`.openai`);
* ``anthropic``: ``anthropic.AsyncAnthropic``, Messages (:mod:`.anthropic`);
* ``ollama``: ``httpx.AsyncClient``, ``/api/chat`` with NDJSON streams (:mod:`.ollama`).

A provider's module (and its SDK) is imported only when the configuration enables it.
"""

from __future__ import annotations

from otel_chatbot.demo.chatbot.config import ChatbotConfig, ProviderName
from otel_chatbot.demo.chatbot.providers.base import ChatProvider, Completion, Delta, Prompt, ProviderError
from otel_chatbot.demo.chatbot.providers.bedrock import BedrockGateway, BedrockProvider

__all__ = ["ChatProvider", "Completion", "Delta", "Prompt", "ProviderError", "create_providers"]

_INSTALL_HINT = "the example chatbot's {name} provider needs {package}: pip install 'otel-chatbot[demo]'"


def create_providers(config: ChatbotConfig, gateway: BedrockGateway) -> dict[ProviderName, ChatProvider]:
    """Every provider the configuration enables, by setting name (their clients start with the app)."""
    providers: dict[ProviderName, ChatProvider] = {}
    for name in config.enabled:
        providers[name] = BedrockProvider(config, gateway) if name == "bedrock" else _http_provider(config, name)
    return providers


def _http_provider(config: ChatbotConfig, name: ProviderName) -> ChatProvider:
    endpoint, model = config.endpoint(name), config.model_of(name)
    try:
        if name == "openai":
            from otel_chatbot.demo.chatbot.providers.openai import OpenAIProvider

            return OpenAIProvider(endpoint, model)
        if name == "anthropic":
            from otel_chatbot.demo.chatbot.providers.anthropic import AnthropicProvider

            return AnthropicProvider(endpoint, model)
        from otel_chatbot.demo.chatbot.providers.ollama import OllamaProvider

        return OllamaProvider(endpoint, model)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(_INSTALL_HINT.format(name=name, package=exc.name)) from exc

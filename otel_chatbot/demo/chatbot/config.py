"""The example chatbot's settings, read from the environment only.

The app is instrumented from the outside (``opentelemetry-instrument`` or the demo), so it
takes no telemetry settings at all; these are the few things a chatbot calling one or more
model providers needs. Keys and base URLs use each SDK's own variables (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``, ``OLLAMA_HOST``); the
app's own choices are ``CHATBOT_*``. A bad value raises ``ValueError`` naming the variable,
at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

ProviderName = Literal["bedrock", "openai", "anthropic", "ollama"]
PROVIDERS: tuple[ProviderName, ...] = get_args(ProviderName)

DEFAULT_MODEL_ID = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
"""A cross-region inference profile the shipped price table knows, so cost shows up."""
DEFAULT_MODELS: dict[ProviderName, str] = {
    "bedrock": DEFAULT_MODEL_ID,
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "ollama": "llama3.2",
}
"""Models the price table knows (Ollama's cost 0), so cost shows up for every provider."""
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"

DEFAULT_AGENT_ID = "CHATBOTAGT"
DEFAULT_AGENT_ALIAS_ID = "TSTALIASID"
LOCAL_API_KEY = "local-no-key"
"""Sent to a local OpenAI/Anthropic-compatible server given without a key: the SDKs want one."""

# Only these decide whether the fake keys are needed: asking botocore's full credential
# chain would probe the EC2 metadata service, which stalls start-up off AWS.
_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@dataclass(frozen=True)
class Endpoint:
    """Where an HTTP provider is: ``base_url`` ``None`` means its public API."""

    base_url: str | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class ChatbotConfig:
    """Which provider answers, where each one is, and the operator features (cache, failover)."""

    endpoint_url: str | None = None
    """A Bedrock-compatible endpoint (the local fake); ``None`` means real AWS."""
    region: str = "us-east-1"
    model_id: str = DEFAULT_MODEL_ID
    """The Bedrock model."""
    agent_id: str = DEFAULT_AGENT_ID
    agent_alias_id: str = DEFAULT_AGENT_ALIAS_ID
    fake_credentials: bool = False
    """Sign requests with throw-away keys: only ever for a local endpoint without real ones."""
    history_messages: int = 20
    """Messages kept per session and sent back as context; bounds memory and prompt size."""
    provider: ProviderName = "bedrock"
    """Who answers a turn that names no provider."""
    endpoints: Mapping[ProviderName, Endpoint] = field(default_factory=dict)
    """The HTTP providers a turn may name (besides the default and the fallback, always on)."""
    models: Mapping[ProviderName, str] = field(default_factory=dict)
    """Each HTTP provider's model when a turn names none (default: :data:`DEFAULT_MODELS`)."""
    fallback_provider: ProviderName | None = None
    """Who the default turn fails over to when its provider throttles or is unavailable (with only
    ``fallback_model_id`` set: Bedrock, what that setting meant before there were providers)."""
    fallback_model_id: str | None = None
    """The fallback's model (default: that provider's model)."""
    semantic_cache: bool = False
    """Answer chat questions close to one asked before from an in-process semantic cache."""

    def __post_init__(self) -> None:
        for name in (self.provider, self.fallback_provider):
            if name is not None and name not in PROVIDERS:
                raise ValueError(f"unknown provider {name!r}; expected one of {', '.join(PROVIDERS)}")
        if self.fallback is not None and self.fallback == (self.provider, self.model_of(self.provider)):
            raise ValueError("the fallback is the default provider and model itself: nothing to fail over to")

    def model_of(self, provider: ProviderName) -> str:
        if provider == "bedrock":
            return self.model_id
        return self.models.get(provider) or DEFAULT_MODELS[provider]

    @property
    def fallback(self) -> tuple[ProviderName, str] | None:
        """(provider, model) the default turn fails over to; ``None``: no failover."""
        provider = self.fallback_provider or ("bedrock" if self.fallback_model_id else None)
        if provider is None:
            return None
        return provider, self.fallback_model_id or self.model_of(provider)

    @property
    def enabled(self) -> tuple[ProviderName, ...]:
        """Providers with clients: Bedrock (agents use it), the default, the fallback, and those configured."""
        on = {"bedrock", self.provider, *self.endpoints}
        if self.fallback is not None:
            on.add(self.fallback[0])
        return tuple(name for name in PROVIDERS if name in on)

    def endpoint(self, provider: ProviderName) -> Endpoint:
        return self.endpoints.get(provider) or Endpoint()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChatbotConfig:
        env = os.environ if environ is None else environ
        endpoint = env.get("BEDROCK_ENDPOINT_URL") or None
        has_credentials = any(env.get(name) for name in _CREDENTIAL_VARIABLES)
        provider = _provider(env, "CHATBOT_PROVIDER") or "bedrock"
        fallback = _provider(env, "CHATBOT_FALLBACK_PROVIDER")
        wanted = {provider, fallback}
        endpoints = {
            name: found for name in ("openai", "anthropic", "ollama") if (found := _endpoint(env, name, wanted))
        }
        models = {name: model for name in endpoints if (model := env.get(f"CHATBOT_{name.upper()}_MODEL"))}
        try:
            return cls(
                endpoint_url=endpoint,
                region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
                model_id=env.get("CHATBOT_MODEL_ID") or DEFAULT_MODEL_ID,
                agent_id=env.get("BEDROCK_AGENT_ID") or DEFAULT_AGENT_ID,
                agent_alias_id=env.get("BEDROCK_AGENT_ALIAS_ID") or DEFAULT_AGENT_ALIAS_ID,
                fake_credentials=endpoint is not None and not has_credentials,
                provider=provider,
                endpoints=cast("dict[ProviderName, Endpoint]", endpoints),
                models=cast("dict[ProviderName, str]", models),
                fallback_provider=fallback,
                fallback_model_id=env.get("CHATBOT_FALLBACK_MODEL_ID") or None,
                semantic_cache=env.get("CHATBOT_SEMANTIC_CACHE", "").lower() in ("1", "true", "yes"),
            )
        except ValueError as exc:
            raise ValueError(f"CHATBOT_FALLBACK_PROVIDER / CHATBOT_FALLBACK_MODEL_ID: {exc}") from None


def _provider(env: Mapping[str, str], variable: str) -> ProviderName | None:
    value = (env.get(variable) or "").strip().lower()
    if not value:
        return None
    if value not in PROVIDERS:
        raise ValueError(f"{variable}={value!r}: expected one of {', '.join(PROVIDERS)}")
    return value


def _endpoint(env: Mapping[str, str], name: str, wanted: set[ProviderName | None]) -> Endpoint | None:
    """The provider's endpoint from its SDK's variables; ``None`` when it is neither set nor wanted."""
    if name == "ollama":
        host = env.get("OLLAMA_HOST") or None
        if host is None and name not in wanted:
            return None
        return Endpoint(base_url=ollama_url(host or DEFAULT_OLLAMA_HOST))
    prefix = name.upper()
    base_url, api_key = env.get(f"{prefix}_BASE_URL") or None, env.get(f"{prefix}_API_KEY") or None
    if base_url is None and api_key is None:
        if name in wanted:
            raise ValueError(
                f"CHATBOT_PROVIDER / CHATBOT_FALLBACK_PROVIDER={name} needs {prefix}_API_KEY "
                f"(or {prefix}_BASE_URL for a local {name}-compatible server)"
            )
        return None
    return Endpoint(base_url=base_url, api_key=api_key or (LOCAL_API_KEY if base_url else None))


def ollama_url(host: str) -> str:
    """``OLLAMA_HOST`` as Ollama's own CLI reads it (``host:port`` or a URL) -> a base URL."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    if host.count(":") < 2:  # no port: Ollama's
        host += ":11434"
    return host

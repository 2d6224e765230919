"""The example chatbot's settings, read from the environment only.

The app is instrumented from the outside (``opentelemetry-instrument`` or the demo), so it
takes no telemetry settings at all; these are the few things any Bedrock chatbot needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MODEL_ID = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
"""A cross-region inference profile the shipped price table knows, so cost shows up."""

DEFAULT_AGENT_ID = "CHATBOTAGT"
DEFAULT_AGENT_ALIAS_ID = "TSTALIASID"

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
class ChatbotConfig:
    """Where Bedrock is and which model and agent to use."""

    endpoint_url: str | None = None
    """A Bedrock-compatible endpoint (the local fake); ``None`` means real AWS."""
    region: str = "us-east-1"
    model_id: str = DEFAULT_MODEL_ID
    agent_id: str = DEFAULT_AGENT_ID
    agent_alias_id: str = DEFAULT_AGENT_ALIAS_ID
    fake_credentials: bool = False
    """Sign requests with throw-away keys: only ever for a local endpoint without real ones."""
    history_messages: int = 20
    """Messages kept per session and sent back as context; bounds memory and prompt size."""
    fallback_model_id: str | None = None
    """The model the chat route fails over to when ``model_id`` is throttled or unavailable."""
    semantic_cache: bool = False
    """Answer chat questions close to one asked before from an in-process semantic cache."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChatbotConfig:
        env = os.environ if environ is None else environ
        endpoint = env.get("BEDROCK_ENDPOINT_URL") or None
        has_credentials = any(env.get(name) for name in _CREDENTIAL_VARIABLES)
        return cls(
            endpoint_url=endpoint,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            model_id=env.get("CHATBOT_MODEL_ID") or DEFAULT_MODEL_ID,
            agent_id=env.get("BEDROCK_AGENT_ID") or DEFAULT_AGENT_ID,
            agent_alias_id=env.get("BEDROCK_AGENT_ALIAS_ID") or DEFAULT_AGENT_ALIAS_ID,
            fake_credentials=endpoint is not None and not has_credentials,
            fallback_model_id=env.get("CHATBOT_FALLBACK_MODEL_ID") or None,
            semantic_cache=env.get("CHATBOT_SEMANTIC_CACHE", "").lower() in ("1", "true", "yes"),
        )

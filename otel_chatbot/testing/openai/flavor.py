"""The servers that speak OpenAI's API, and what tells their answers apart.

OpenAI itself, Azure OpenAI and OpenAI-compatible servers (Ollama's ``/v1/``, vLLM, LiteLLM)
answer the same requests with the same shapes, but not the same details: the model they
report, the fingerprint, Azure's content-filter results (and its first stream chunk with no
choices), OpenAI's ``obfuscation`` padding on stream events, how much of ``usage`` they fill.
Parsers meet all of them in production, so the stand-in reproduces each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Aliases OpenAI resolves to a dated snapshot, reported as the response's model.
OPENAI_SNAPSHOTS: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-5": "gpt-5-2025-08-07",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "gpt-5-nano": "gpt-5-nano-2025-08-07",
}


def openai_snapshot(model: str) -> str:
    """The model OpenAI reports for a requested one (an alias becomes its snapshot)."""
    return OPENAI_SNAPSHOTS.get(model, model)


def echo(model: str) -> str:
    return model


@dataclass(frozen=True)
class Flavor:
    """One OpenAI-speaking server's answering habits."""

    name: str
    response_model: Callable[[str], str]
    system_fingerprint: str | None
    service_tier: str | None
    usage_details: bool  # prompt_tokens_details / completion_tokens_details in chat usage
    content_filters: bool  # Azure's prompt_filter_results / content_filter_results
    obfuscation: bool  # OpenAI's padding field on stream events
    id_prefix: str = "chatcmpl-"


OPENAI = Flavor(
    name="openai",
    response_model=openai_snapshot,
    system_fingerprint="fp_standin01",
    service_tier="default",
    usage_details=True,
    content_filters=False,
    obfuscation=True,
)
AZURE = Flavor(
    name="azure",
    response_model=openai_snapshot,
    system_fingerprint="fp_standin01",
    service_tier=None,
    usage_details=True,
    content_filters=True,
    obfuscation=False,
)
OLLAMA = Flavor(
    name="ollama",
    response_model=echo,
    system_fingerprint="fp_ollama",
    service_tier=None,
    usage_details=False,
    content_filters=False,
    obfuscation=False,
)

"""The README's helper snippets, run as they are written against a configuration, with what they record."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.unit.helpers.helper_kit import Configured

README = Path(__file__).resolve().parents[3] / "README.md"
Configure = Callable[..., Configured]


def snippet(name: str) -> str:
    found = re.search(rf"<!-- helpers:{name} -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert found, f"README: no snippet marked helpers:{name}"
    return found.group(1)


@dataclass
class Hit:
    similarity: float
    input_tokens: int
    output_tokens: int


class Cache:
    def __init__(self, entries: dict[str, Hit]) -> None:
        self.entries = entries

    def get(self, prompt: str) -> Hit | None:
        return self.entries.get(prompt)

    def best_similarity(self, prompt: str) -> float:
        return 0.4


def test_the_cache_snippet(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    cache = Cache({"hello": Hit(0.97, 100, 40)})
    for prompt in ("hello", "bye"):
        exec(snippet("cache"), {"cache": cache, "prompt": prompt, "model_id": "amazon.nova-lite-v1:0"})
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("hit",): 1, ("miss",): 1}
    assert sum(p.value for p in kit.points("chatbot.cache.saved.tokens")) == 140


def test_the_failover_snippet(configure_helpers: Configure) -> None:
    kit = configure_helpers()

    class ProviderError(Exception):
        pass

    def call(provider: str, model: str) -> str:
        if provider == "aws.bedrock":
            raise ProviderError("throttled")
        return "hi"

    namespace: dict[str, Any] = {
        "candidates": [("aws.bedrock", "amazon.nova-lite-v1:0"), ("openai", "gpt-4o-mini")],
        "call": call,
        "ProviderError": ProviderError,
    }
    exec(snippet("failover"), namespace)
    assert namespace["reply"] == "hi"
    assert kit.values("chatbot.failover.switches", "chatbot.failover.from", "chatbot.failover.to") == {
        ("aws.bedrock", "openai"): 1
    }


def test_the_feedback_snippet(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    exec(snippet("feedback"), {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
    assert kit.values("chatbot.feedback", "gen_ai.evaluation.score.label") == {("thumbs_down",): 1}
    with pytest.raises(ValueError, match="32 hex digits"):
        exec(snippet("feedback"), {"trace_id": "4bf92f35"})

"""Which request is a GenAI call: the default recognition rules and configured base URLs, as a table."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from otel_chatbot.genai.endpoints import RECOGNISED_URLS_KEPT, Endpoints, Match

HEADERS_ANTHROPIC = {"anthropic-version": "2023-06-01"}


DEFAULT_CASES = [
    ("POST", "https://api.openai.com/v1/chat/completions", {}, ("openai.chat_completions", "openai", None)),
    ("POST", "https://api.openai.com/v1/responses", {}, ("openai.responses", "openai", None)),
    ("POST", "https://api.openai.com/v1/embeddings", {}, ("openai.embeddings", "openai", None)),
    ("GET", "https://api.openai.com/v1/chat/completions", {}, None),
    ("POST", "https://api.openai.com/v1/files", {}, None),
    ("POST", "http://127.0.0.1:8000/v1/chat/completions", {}, ("openai.chat_completions", "openai", None)),
    ("POST", "https://openrouter.ai/api/v1/chat/completions", {}, ("openai.chat_completions", "openai", None)),
    ("POST", "https://api.deepseek.com/chat/completions", {}, ("openai.chat_completions", "deepseek", None)),
    (
        "POST",
        "https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
        {},
        ("openai.chat_completions", "azure.ai.openai", "gpt4o-prod"),
    ),
    (
        "POST",
        "http://127.0.0.1:9/openai/responses?api-version=x",
        {},
        ("openai.responses", "azure.ai.openai", None),
    ),
    ("POST", "http://127.0.0.1:9/openai/v1/embeddings", {}, ("openai.embeddings", "azure.ai.openai", None)),
    ("POST", "http://localhost:11434/v1/chat/completions", {}, ("openai.chat_completions", "ollama", None)),
    ("POST", "http://127.0.0.1:9/responses", {}, None),  # too generic without /v1/
    ("POST", "https://api.anthropic.com/v1/messages", {}, ("anthropic.messages", "anthropic", None)),
    ("POST", "http://127.0.0.1:9/v1/messages", HEADERS_ANTHROPIC, ("anthropic.messages", "anthropic", None)),
    ("POST", "http://127.0.0.1:9/v1/messages", {}, None),  # an app's own /v1/messages
    ("POST", "http://127.0.0.1:9/v1/messages/count_tokens", HEADERS_ANTHROPIC, None),
    ("POST", "http://localhost:11434/api/chat", {}, ("ollama.chat", "ollama", None)),
    ("POST", "http://ollama:8080/api/generate", {}, ("ollama.generate", "ollama", None)),
    ("POST", "http://localhost:11434/api/embed", {}, ("ollama.embed", "ollama", None)),
    ("POST", "http://localhost:11434/api/embeddings", {}, ("ollama.embed", "ollama", None)),
    ("POST", "http://127.0.0.1:8080/api/chat", {}, None),  # a chatbot's own /api/chat
]


@pytest.mark.parametrize(("method", "url", "headers", "expected"), DEFAULT_CASES)
def test_default_recognition(
    method: str, url: str, headers: dict[str, str], expected: tuple[str, str, str | None] | None
) -> None:
    match = Endpoints().match(method, url, urlsplit(url), headers)
    assert (None if match is None else (match.api.name, match.provider, match.path_model)) == expected


def test_configured_base_urls_name_the_provider_and_the_api_flavour() -> None:
    endpoints = Endpoints(
        [("http://gpu:8000/llm", "vllm"), ("http://gpu:8000/llm/claude", "anthropic"), ("http://box:8080/", "ollama")]
    )

    def match(url: str) -> tuple[str, str] | None:
        found = endpoints.match("POST", url, urlsplit(url), {})
        return None if found is None else (found.api.name, found.provider)

    assert match("http://gpu:8000/llm/chat/completions") == ("openai.chat_completions", "vllm")
    assert match("http://gpu:8000/llm/responses") == ("openai.responses", "vllm")
    assert match("http://gpu:8000/llm/claude/v1/messages") == ("anthropic.messages", "anthropic")  # longest base wins
    assert match("http://gpu:8000/llmx/chat/completions") == ("openai.chat_completions", "openai")  # not under the base
    assert match("http://box:8080/api/chat") == ("ollama.chat", "ollama")
    assert match("http://box:8080/v1/chat/completions") == ("openai.chat_completions", "ollama")
    assert match("http://gpu:8000/llm/claude/v1/complete") is None


def _described(match: Match | None) -> tuple[str, str, str | None] | None:
    return None if match is None else (match.api.name, match.provider, match.path_model)


def test_one_instance_answers_each_url_as_a_fresh_one_does_cached_or_not() -> None:
    """The recognition kept per URL (and anthropic-version header) is what working it out again gives."""
    shared = Endpoints()
    for _ in range(3):  # first pass fills the cache, later ones read it; the header case shares URLs
        for method, url, headers, expected in DEFAULT_CASES:
            assert _described(shared.match(method, url, urlsplit(url), headers)) == expected
            assert _described(Endpoints().match(method, url, urlsplit(url), headers)) == expected


def test_recognitions_kept_are_bounded_and_later_urls_still_answered() -> None:
    endpoints = Endpoints()
    urls = [f"http://127.0.0.1:{port}/v1/chat/completions" for port in range(1000, 1000 + RECOGNISED_URLS_KEPT + 50)]
    for url in [*urls, "http://127.0.0.1:1/" + "x" * 600 + "/v1/chat/completions"]:
        found = endpoints.match("POST", url, urlsplit(url), {})
        assert _described(found) == ("openai.chat_completions", "openai", None)
    assert len(endpoints._recognised) == RECOGNISED_URLS_KEPT
    with pytest.raises(ValueError, match="Port"):  # a bad port raises as before, and is not kept
        bad = "http://h:99999/v1/chat/completions"
        endpoints.match("POST", bad, urlsplit(bad), {})

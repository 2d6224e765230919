"""Which outgoing HTTP request is a GenAI call: API and provider from the method, URL and headers.

Runs for every request the HTTP clients send, so the common case is cheap: anything but a
``POST`` whose path ends in a known API path (one ``str.endswith`` over a tuple) is
answered at once, and no body is read. Recognised without configuration:

- OpenAI-compatible paths anywhere: ``.../chat/completions``, ``.../v1/responses``,
  ``.../embeddings``; the provider from the host (``api.openai.com`` → ``openai``, Azure
  hosts and ``/openai/...`` paths → ``azure.ai.openai``, Ollama → ``ollama``, a few other
  vendors the convention names), else ``openai`` (the convention's value names the API
  flavour; ``server.address`` tells which server it was);
- Azure deployment paths ``/openai/deployments/{deployment}/...``: the deployment is the model;
- Anthropic ``.../v1/messages`` with the ``anthropic-version`` header every Messages request
  carries (or on ``api.anthropic.com``);
- Ollama's native ``/api/chat``, ``/api/generate``, ``/api/embed`` on Ollama's port 11434 or a
  host named ``ollama`` (those paths are too common to claim elsewhere).

``OTEL_CHATBOT_GENAI_ENDPOINTS`` adds base URLs with their provider: under one, the API
is told by the rest of the path alone, and the provider is the configured name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult

from . import anthropic, ollama, openai
from .http_apis import (
    ANTHROPIC_MESSAGES,
    OLLAMA_CHAT,
    OLLAMA_EMBED,
    OLLAMA_GENERATE,
    OPENAI_CHAT,
    OPENAI_EMBEDDINGS,
    OPENAI_RESPONSES,
    HttpApi,
)

OLLAMA_PORT = 11434
ANTHROPIC_VERSION_HEADER = "anthropic-version"

# Hosts whose provider the convention names (gen_ai.provider.name well-known values).
_HOST_PROVIDERS: Mapping[str, str] = {
    "api.openai.com": openai.PROVIDER,
    "api.anthropic.com": anthropic.PROVIDER,
    "api.deepseek.com": "deepseek",
    "api.groq.com": "groq",
    "api.mistral.ai": "mistral_ai",
    "api.x.ai": "x_ai",
    "api.perplexity.ai": "perplexity",
}
_AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")

_OPENAI_PATHS: tuple[tuple[str, HttpApi], ...] = (
    ("/chat/completions", OPENAI_CHAT),
    ("/responses", OPENAI_RESPONSES),
    ("/embeddings", OPENAI_EMBEDDINGS),
)
_OLLAMA_PATHS: tuple[tuple[str, HttpApi], ...] = (
    ("/api/chat", OLLAMA_CHAT),
    ("/api/generate", OLLAMA_GENERATE),
    ("/api/embed", OLLAMA_EMBED),
    ("/api/embeddings", OLLAMA_EMBED),
)
_OLLAMA_NATIVE: Mapping[str, HttpApi] = dict(_OLLAMA_PATHS)
_ANTHROPIC_PATHS: tuple[tuple[str, HttpApi], ...] = (("/messages", ANTHROPIC_MESSAGES),)

# Every path ending any recognised request has: the one test every POST pays.
_SUFFIXES = tuple(suffix for suffix, _ in _OPENAI_PATHS + _OLLAMA_PATHS + _ANTHROPIC_PATHS)


@dataclass(frozen=True, slots=True)
class Match:
    """A recognised call: its API row, its ``gen_ai.provider.name``, and the model its path names."""

    api: HttpApi
    provider: str
    path_model: str | None = None


def _ollama_host(host: str, port: int | None) -> bool:
    return port == OLLAMA_PORT or "ollama" in host


def _openai_provider(host: str, port: int | None, path: str) -> str:
    known = _HOST_PROVIDERS.get(host)
    if known is not None:
        return known
    if host.endswith(_AZURE_HOST_SUFFIXES) or path.startswith("/openai/"):
        return openai.AZURE_PROVIDER
    if _ollama_host(host, port):
        return ollama.PROVIDER
    return openai.PROVIDER


def _deployment(path: str) -> str | None:
    """``/openai/deployments/{deployment}/chat/completions`` → the deployment (Azure's model name)."""
    marker = "/openai/deployments/"
    at = path.find(marker)
    if at < 0:
        return None
    name, _, _ = path[at + len(marker) :].partition("/")
    return name or None


def _lookup(path: str, table: Sequence[tuple[str, HttpApi]]) -> HttpApi | None:
    for suffix, api in table:
        if path.endswith(suffix):
            return api
    return None


RECOGNISED_URLS_KEPT = 256
"""Distinct call URLs whose recognition is kept (URLs come from the app's configuration, so few)."""

_CACHED_URL_CHARS = 512


class Endpoints:
    """The recognition rules of one configuration: the defaults plus the configured base URLs."""

    def __init__(self, configured: Sequence[tuple[str, str]] = ()) -> None:
        # Longest base first, so a more specific base URL wins.
        self._configured = tuple(sorted(((base.rstrip("/"), p) for base, p in configured), key=lambda e: -len(e[0])))
        # What a POST to a URL is, by (URL, whether it has the anthropic-version header when that
        # matters): the rules below depend on nothing else. Bounded; later URLs are worked out each time.
        self._recognised: dict[tuple[str, bool], Match | None] = {}

    def match(self, method: str, url: str, parts: SplitResult, headers: Mapping[str, str]) -> Match | None:
        """The call ``method url`` is, or None for anything that is not a GenAI call we read.

        ``parts`` is ``urlsplit(url)`` (the caller has it already); ``headers`` the request's.
        """
        if method != "POST":
            return None
        path = parts.path.rstrip("/")
        if not path.endswith(_SUFFIXES):
            return None
        key = (url, path.endswith("/messages") and ANTHROPIC_VERSION_HEADER in headers)
        recognised = self._recognised
        try:
            return recognised[key]
        except KeyError:
            pass
        found = self._match(url, parts, path, key[1])
        if len(url) <= _CACHED_URL_CHARS and len(recognised) < RECOGNISED_URLS_KEPT:
            recognised[key] = found
        return found

    def _match(self, url: str, parts: SplitResult, path: str, anthropic_header: bool) -> Match | None:
        for base, provider in self._configured:
            if url.startswith(base) and (len(url) == len(base) or url[len(base)] in "/?"):
                return self._configured_match(provider, path)
        host = (parts.hostname or "").lower()
        port = parts.port
        if path.endswith("/messages"):
            if path.endswith("/v1/messages") and (anthropic_header or _HOST_PROVIDERS.get(host) == anthropic.PROVIDER):
                return Match(ANTHROPIC_MESSAGES, anthropic.PROVIDER)
            return None
        native = _OLLAMA_NATIVE.get(path)
        if native is not None:
            return Match(native, ollama.PROVIDER) if _ollama_host(host, port) else None
        api = _lookup(path, _OPENAI_PATHS)
        if api is None or (api is OPENAI_RESPONSES and not path.endswith(("/v1/responses", "/openai/responses"))):
            return None
        return Match(api, _openai_provider(host, port, path), _deployment(path))

    @staticmethod
    def _configured_match(provider: str, path: str) -> Match | None:
        if provider == anthropic.PROVIDER:
            api = _lookup(path, _ANTHROPIC_PATHS)
        elif provider == ollama.PROVIDER:
            api = _lookup(path, _OLLAMA_PATHS) or _lookup(path, _OPENAI_PATHS)
        else:
            api = _lookup(path, _OPENAI_PATHS)
        return Match(api, provider, _deployment(path)) if api is not None else None

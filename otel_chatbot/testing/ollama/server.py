"""The Ollama stand-in: the native ``/api/`` (NDJSON streams) and the OpenAI-compatible ``/v1/`` on one port.

No auth, like a local Ollama. The model is echoed as requested; a model whose name contains
``notfound`` answers Ollama's 404 ("try pulling it first").
"""

from __future__ import annotations

from otel_chatbot.testing.ollama import native
from otel_chatbot.testing.ollama.dialect import OllamaDialect
from otel_chatbot.testing.openai.dialect import OllamaCompatDialect
from otel_chatbot.testing.openai.flavor import OLLAMA
from otel_chatbot.testing.openai.server import openai_endpoints
from otel_chatbot.testing.standin.api import ApiHandler, ApiServer, Dialect, Endpoint, Request, unless_false
from otel_chatbot.testing.standin.generation import complete
from otel_chatbot.testing.standin.responses import JsonResponse, Response, StreamResponse

CHAT = "chat"
GENERATE = "generate"
EMBED = "embed"
VERSION = "0.12.6"
MODELS = ("llama3.2:latest", "qwen3:8b", "nomic-embed-text:latest")
_MODIFIED_AT = "2025-09-01T00:00:00.000000000Z"


def model_given(request: Request, dialect: Dialect) -> None:
    if not request.model:
        raise dialect.error(400, "model is required")


class _Handler(ApiHandler):
    server_version = "ollama-standin/1.0"


class OllamaServer(ApiServer):
    """A local Ollama: ``/api/chat``, ``/api/generate``, ``/api/embed``, ``/api/tags``, ``/api/version``, and ``/v1/``.

    What it answered is in ``ledger``, keyed by the model as requested and the operation
    (``chat``, ``generate``, ``embed``; ``chat.completions``, ``embeddings`` on ``/v1/``):
    ``input_tokens`` = ``prompt_eval_count``, ``output_tokens`` = ``eval_count``, added when
    the object reporting them (the last one of a stream) is written.
    """

    handler = _Handler
    fallback_dialect = OllamaDialect()

    def endpoints(self) -> list[tuple[str, str, Endpoint]]:
        dialect = self.fallback_dialect
        checks = (model_given,)
        compat = openai_endpoints(
            "/v1", self.cache, OLLAMA, OllamaCompatDialect(), (), models=MODELS, owner="library", responses=False
        )
        return [
            ("POST", "/api/chat", Endpoint(CHAT, self._chat, dialect, unless_false, checks=checks)),
            ("POST", "/api/generate", Endpoint(GENERATE, self._generate, dialect, unless_false, checks=checks)),
            ("POST", "/api/embed", Endpoint(EMBED, self._embed, dialect, checks=checks)),
            ("GET", "/api/tags", Endpoint("tags", self._tags, dialect, counted=False)),
            ("GET", "/api/version", Endpoint("version", self._version, dialect, counted=False)),
            *compat,
        ]

    def _chat(self, request: Request) -> Response:
        completion = complete(native.chat_prompt(request.body), self.cache, request.model)
        if unless_false(request.body):
            return StreamResponse(native.chat_stream(completion, request.model))
        body, tokens = native.chat_body(completion, request.model)
        return JsonResponse(body, usage=tokens)

    def _generate(self, request: Request) -> Response:
        completion = complete(native.generate_prompt(request.body), self.cache, request.model)
        if unless_false(request.body):
            return StreamResponse(native.generate_stream(completion, request.model))
        body, tokens = native.generate_body(completion, request.model)
        return JsonResponse(body, usage=tokens)

    def _embed(self, request: Request) -> Response:
        body, tokens = native.embed_body(request.body, request.model)
        return JsonResponse(body, usage=tokens)

    def _tags(self, request: Request) -> Response:
        models = [
            {"name": name, "model": name, "modified_at": _MODIFIED_AT, "size": 2_019_393_189, "digest": "0" * 64}
            for name in MODELS
        ]
        return JsonResponse({"models": models})

    def _version(self, request: Request) -> Response:
        return JsonResponse({"version": VERSION})

    @property
    def openai_base_url(self) -> str:
        """``http://host:port/v1``: the ``base_url`` of an OpenAI client talking to this Ollama."""
        return f"{self.url}/v1"

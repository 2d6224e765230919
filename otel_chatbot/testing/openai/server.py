"""The OpenAI-compatible stand-in: OpenAI's ``/v1/`` paths and Azure OpenAI's, on one port.

:func:`openai_endpoints` builds the rows for any OpenAI-speaking server (a path prefix, a
:class:`~otel_chatbot.testing.openai.flavor.Flavor`, a dialect, the checks), so the Ollama
stand-in serves its ``/v1/`` with the same code.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

from otel_chatbot.testing.openai import chat, embeddings, prompts, responses_api
from otel_chatbot.testing.openai.dialect import AzureDialect, OpenAIDialect
from otel_chatbot.testing.openai.flavor import AZURE, OPENAI, OPENAI_SNAPSHOTS, Flavor
from otel_chatbot.testing.standin.api import (
    ApiHandler,
    ApiServer,
    Dialect,
    Endpoint,
    InvalidRequest,
    Request,
    never,
    require_model,
    when_true,
)
from otel_chatbot.testing.standin.cache import PromptCache
from otel_chatbot.testing.standin.generation import Completion, Prompt, complete
from otel_chatbot.testing.standin.responses import JsonResponse, Response, StreamResponse

JsonObject = dict[str, Any]
Check = Callable[[Request, Dialect], None]

CHAT = "chat.completions"
RESPONSES = "responses"
EMBEDDINGS = "embeddings"
AZURE_API_VERSION = "2024-10-21"
MODEL_IDS = (
    *OPENAI_SNAPSHOTS,
    *OPENAI_SNAPSHOTS.values(),
    *embeddings.MODEL_DIMENSIONS,
)
_MODEL_CREATED = 1_715_367_049
_MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
_AZURE_ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your resource."
)


def bearer_auth(request: Request, dialect: Dialect) -> None:
    """A check: OpenAI wants ``Authorization: Bearer <key>`` (any key works here)."""
    scheme, _, key = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise dialect.error(401, _MISSING_KEY)


def azure_auth(request: Request, dialect: Dialect) -> None:
    """A check: Azure wants an ``api-key`` header (or an Entra ID bearer token)."""
    if not (request.headers.get("api-key") or request.headers.get("Authorization", "").startswith("Bearer ")):
        raise dialect.error(401, _AZURE_ACCESS_DENIED)


def azure_api_version(request: Request, dialect: Dialect) -> None:
    """A check: Azure's deployment paths answer 404 without ``?api-version=``."""
    if not request.query.get("api-version"):
        raise dialect.error(404, "Resource not found")


def deployment(params: Mapping[str, str], body: JsonObject) -> str:
    """Azure's model: the deployment named in the path."""
    return params["deployment"]


def _stream_options(body: JsonObject) -> JsonObject:
    options = body.get("stream_options")
    if options is None:
        return {}
    if body.get("stream") is not True:
        raise InvalidRequest(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    if not isinstance(options, dict):
        raise prompts.invalid_type("stream_options", "an object")
    return options


def _stream_flag(body: JsonObject) -> bool:
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise prompts.invalid_type("stream", "a boolean")
    return stream


class _Model:
    """The deterministic model behind one server's OpenAI routes."""

    def __init__(self, cache: PromptCache, flavor: Flavor) -> None:
        self.cache = cache
        self.flavor = flavor

    def _complete(self, request: Request, prompt: Prompt) -> Completion:
        return complete(prompt, self.cache, request.model)

    def chat(self, request: Request) -> Response:
        body = request.body
        stream = _stream_flag(body)
        options = _stream_options(body)
        completion = self._complete(request, prompts.chat_prompt(body))
        answer_id = self.flavor.id_prefix + uuid.uuid4().hex[:29]
        answer = chat.Answer(answer_id, int(time.time()), self.flavor.response_model(request.model), self.flavor)
        if stream:
            include_usage = options.get("include_usage") is True
            obfuscate = self.flavor.obfuscation and options.get("include_obfuscation") is not False
            chunks = chat.completion_chunks(completion, answer, include_usage=include_usage, obfuscate=obfuscate)
            return StreamResponse(chunks)
        document, tokens = chat.completion_body(completion, answer)
        return JsonResponse(document, usage=tokens)

    def responses(self, request: Request) -> Response:
        body = request.body
        stream = _stream_flag(body)
        completion = self._complete(request, prompts.responses_prompt(body))
        hex_id = uuid.uuid4().hex * 2
        item = ("fc_" if completion.tool_call is not None else "msg_") + hex_id[16:64]
        model = self.flavor.response_model(request.model)
        ids = responses_api.ResponseIds("resp_" + hex_id[:48], item, int(time.time()), model)
        if stream:
            events = responses_api.response_events(body, completion, ids, obfuscate=self.flavor.obfuscation)
            return StreamResponse(events)
        document, tokens = responses_api.response_object(body, completion, ids, done=True)
        return JsonResponse(document, usage=tokens)

    def embeddings(self, request: Request) -> Response:
        inputs = prompts.embedding_inputs(request.body)
        document, tokens = embeddings.embeddings_body(request.body, inputs, request.model)
        return JsonResponse(document, usage=tokens)


def model_list(ids: Sequence[str], owner: str) -> JsonObject:
    return {
        "object": "list",
        "data": [{"id": model, "object": "model", "created": _MODEL_CREATED, "owned_by": owner} for model in ids],
    }


def openai_endpoints(
    prefix: str,
    cache: PromptCache,
    flavor: Flavor,
    dialect: OpenAIDialect,
    checks: tuple[Check, ...],
    *,
    models: Sequence[str] = MODEL_IDS,
    owner: str = "system",
    responses: bool = True,
) -> list[tuple[str, str, Endpoint]]:
    """Chat Completions, Responses (unless ``responses=False``), Embeddings and the model list under ``prefix``."""
    model = _Model(cache, flavor)
    with_model = (*checks, require_model)

    def listing(request: Request) -> Response:
        return JsonResponse(model_list(models, owner))

    def one_model(request: Request) -> Response:
        name = request.params["model"]
        if name not in models:
            raise dialect.model_not_found(name)
        return JsonResponse(model_list([name], owner)["data"][0])

    rows = [
        ("POST", f"{prefix}/chat/completions", Endpoint(CHAT, model.chat, dialect, when_true, checks=with_model)),
        ("POST", f"{prefix}/embeddings", Endpoint(EMBEDDINGS, model.embeddings, dialect, checks=with_model)),
        ("GET", f"{prefix}/models", Endpoint("models", listing, dialect, checks=checks, counted=False)),
        ("GET", f"{prefix}/models/{{model}}", Endpoint("models", one_model, dialect, checks=checks, counted=False)),
    ]
    if responses:
        endpoint = Endpoint(RESPONSES, model.responses, dialect.typed(), when_true, checks=with_model)
        rows.append(("POST", f"{prefix}/responses", endpoint))
    return rows


def azure_deployment_endpoints(cache: PromptCache) -> list[tuple[str, str, Endpoint]]:
    """Azure's classic paths: ``/openai/deployments/{deployment}/...?api-version=`` and ``/openai/responses``."""
    model = _Model(cache, AZURE)
    dialect = AzureDialect()
    checks: tuple[Check, ...] = (azure_auth, azure_api_version)
    base = "/openai/deployments/{deployment}"

    def by_deployment(
        operation: str, handle: Callable[[Request], Response], streams: Callable[[JsonObject], bool]
    ) -> Endpoint:
        return Endpoint(operation, handle, dialect, streams, model=deployment, checks=checks)

    return [
        ("POST", f"{base}/chat/completions", by_deployment(CHAT, model.chat, when_true)),
        ("POST", f"{base}/embeddings", by_deployment(EMBEDDINGS, model.embeddings, never)),
        (
            "POST",
            "/openai/responses",
            Endpoint(RESPONSES, model.responses, dialect.typed(), when_true, checks=(*checks, require_model)),
        ),
    ]


class OpenAIClientKwargs(TypedDict):
    """Keywords for ``openai.OpenAI(**kwargs)`` / ``AsyncOpenAI`` aimed at an :class:`OpenAIServer`."""

    base_url: str
    api_key: str


class AzureClientKwargs(TypedDict):
    """Keywords for ``openai.AzureOpenAI(**kwargs)`` / ``AsyncAzureOpenAI`` aimed at an :class:`OpenAIServer`."""

    azure_endpoint: str
    api_key: str
    api_version: str


class _Handler(ApiHandler):
    server_version = "openai-standin/1.0"
    request_id_header = "x-request-id"
    request_id_prefix = "req_"


class OpenAIServer(ApiServer):
    """A local OpenAI-compatible API (``/v1/...``) that is also an Azure OpenAI resource (``/openai/...``).

    ``openai.OpenAI(**server.client_kwargs())`` and ``openai.AzureOpenAI(**server.azure_kwargs())``
    work against it unchanged, streaming included. What it answered is in ``ledger``, keyed by
    the model as requested (the deployment, for Azure's deployment paths) and the operation
    (``chat.completions``, ``responses``, ``embeddings``).
    """

    handler = _Handler
    fallback_dialect = OpenAIDialect()

    def endpoints(self) -> list[tuple[str, str, Endpoint]]:
        azure_v1 = openai_endpoints("/openai/v1", self.cache, AZURE, AzureDialect(), (azure_auth,))
        return [
            *openai_endpoints("/v1", self.cache, OPENAI, OpenAIDialect(), (bearer_auth,)),
            *azure_deployment_endpoints(self.cache),
            *azure_v1,
        ]

    @property
    def base_url(self) -> str:
        """``http://host:port/v1``: OpenAI's ``base_url``."""
        return f"{self.url}/v1"

    def client_kwargs(self) -> OpenAIClientKwargs:
        """``base_url`` and a throw-away key (any non-empty key is accepted)."""
        return OpenAIClientKwargs(base_url=self.base_url, api_key="testing")

    def azure_kwargs(self, api_version: str = AZURE_API_VERSION) -> AzureClientKwargs:
        """``azure_endpoint``, a throw-away ``api-key`` and an ``api_version``."""
        return AzureClientKwargs(azure_endpoint=self.url, api_key="testing", api_version=api_version)

"""Embeddings answers: a ``list`` of ``embedding`` objects and ``usage.prompt_tokens``.

Tokens: the words of each input string, or the number of ids of a token-id input (no
overhead: nothing is added around an embedding input). The vector length is the model's
(``text-embedding-3-small`` 1536, ``-large`` 3072, ``ada-002`` 1536, others 256) unless the
request sets ``dimensions``; ``encoding_format: "base64"`` (what the openai SDK asks for by
default) packs the float32 values as OpenAI does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_chatbot.testing.openai.prompts import optional_int
from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.embeddings import MAX_DIMENSIONS, as_base64, embedding
from otel_chatbot.testing.standin.generation import count_tokens
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]

DEFAULT_DIMENSIONS = 256
MODEL_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


def input_tokens(item: str | list[int]) -> int:
    return count_tokens(item) if isinstance(item, str) else len(item)


def dimensions_of(body: Mapping[str, Any], model: str) -> int:
    dimensions = optional_int(body, "dimensions")
    if dimensions is None:
        return MODEL_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    if dimensions > MAX_DIMENSIONS:
        raise InvalidRequest(f"This model does not support more than {MAX_DIMENSIONS} dimensions.", param="dimensions")
    return dimensions


def embeddings_body(body: Mapping[str, Any], inputs: list[str | list[int]], model: str) -> tuple[JsonObject, Usage]:
    """The answer and its tokens (input only)."""
    dimensions = dimensions_of(body, model)
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise InvalidRequest("Invalid value for 'encoding_format'.", param="encoding_format", code="invalid_value")
    data = []
    for index, item in enumerate(inputs):
        vector = embedding(item if isinstance(item, str) else " ".join(map(str, item)), dimensions)
        value: Any = as_base64(vector) if encoding == "base64" else vector
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(input_tokens(item) for item in inputs)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}, Usage(input_tokens=tokens)

"""Ollama's native API: ``/api/chat``, ``/api/generate`` (NDJSON streams) and ``/api/embed``.

Ollama streams unless the request says ``"stream": false``. Each streamed line is a JSON
object with a piece of the answer; the last one (``"done": true``) carries
``done_reason``, ``prompt_eval_count`` (input tokens) and ``eval_count`` (output tokens),
and a non-streamed answer is that last object with the whole text. Ollama has no prompt
cache counts and no response id. An ``{"error": "..."}`` line is an in-stream error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import names
from ._builder import ResponseBuilder
from ._coerce import as_dict, as_float, as_int, as_list, as_str, str_tuple
from .messages import Message, Part, assistant_output, by_role, output_of, response_of, text_part, tool_call_part
from .types import GenAIRequest, GenAIResponse

PROVIDER = "ollama"
"""``gen_ai.provider.name`` of Ollama: the convention lists no value for it, so its own name, lower-case."""

ERROR_IN_STREAM = "error"
"""``error.type`` of an ``{"error": ...}`` answer: Ollama gives a message and no code."""


def _request(body: Mapping[str, Any], operation: str, provider: str) -> GenAIRequest:
    options = as_dict(body.get("options"))
    return GenAIRequest(
        operation_name=operation,
        provider_name=provider,
        model=as_str(body.get("model")),
        max_tokens=as_int(options.get("num_predict")),
        temperature=as_float(options.get("temperature")),
        top_p=as_float(options.get("top_p")),
        top_k=as_float(options.get("top_k")),
        stop_sequences=str_tuple(options.get("stop")),
        seed=as_int(options.get("seed")),
        stream=streams(body) if operation != names.OPERATION_EMBEDDINGS else None,
    )


def streams(body: Mapping[str, Any]) -> bool:
    """Ollama's default: a streamed answer unless the body says ``"stream": false``."""
    return body.get("stream") is not False


def chat_request(body: Mapping[str, Any], provider: str = PROVIDER, model: str | None = None) -> GenAIRequest:
    return _request(body, names.OPERATION_CHAT, provider)


def generate_request(body: Mapping[str, Any], provider: str = PROVIDER, model: str | None = None) -> GenAIRequest:
    return _request(body, names.OPERATION_TEXT_COMPLETION, provider)


def embed_request(body: Mapping[str, Any], provider: str = PROVIDER, model: str | None = None) -> GenAIRequest:
    return _request(body, names.OPERATION_EMBEDDINGS, provider)


def read_object(obj: Mapping[str, Any], b: ResponseBuilder) -> bool:
    """Fill ``b`` from one answer object (a streamed line or a whole answer); True if it carried content."""
    error = obj.get("error")
    if error is not None:
        b.error_type = ERROR_IN_STREAM
        return False
    b.set_model(obj.get("model"))
    message = as_dict(obj.get("message"))
    text = as_str(message.get("content")) or as_str(obj.get("response"))
    b.add_text(text)
    calls = as_list(message.get("tool_calls"))
    for call in calls:
        call = as_dict(call)
        function = as_dict(call.get("function"))
        b.tool_calls.add(len(b.tool_calls), call.get("id"), function.get("name"), function.get("arguments"))
    if obj.get("done") is True:
        b.add_finish_reason(obj.get("done_reason"))
    b.set_usage(uncached_input=obj.get("prompt_eval_count"), output=obj.get("eval_count"))
    return text is not None or bool(calls) or bool(as_str(message.get("thinking")))


def answer_response(body: Mapping[str, Any]) -> GenAIResponse:
    return response_of(read_object, body)


def answer_output_messages(body: Mapping[str, Any]) -> list[Message]:
    return output_of(read_object, body)


def _chat_message_parts(message: dict[str, Any]) -> list[Part]:
    if message.get("role") == "tool":
        response = message.get("content")
        return [{"type": "tool_call_response", "id": as_str(message.get("tool_call_id")), "response": response}]
    text = text_part(message.get("content"))
    parts: list[Part] = [text] if text is not None else []
    for call in as_list(message.get("tool_calls")):
        function = as_dict(as_dict(call).get("function"))
        parts.append(tool_call_part(as_dict(call).get("id"), function.get("name"), function.get("arguments")))
    if as_list(message.get("images")):
        parts.append({"type": "image"})
    return parts


def chat_input_messages(body: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.input.messages`` of an ``/api/chat`` body (images are noted, never captured)."""
    return by_role(body.get("messages"), _chat_message_parts)


def generate_input_messages(body: Mapping[str, Any]) -> list[Message]:
    """``gen_ai.input.messages`` of an ``/api/generate`` body: its prompt."""
    part = text_part(body.get("prompt"))
    return [{"role": "user", "parts": [part]}] if part is not None else []


class AnswerStreamAccumulator:
    """Folds the NDJSON lines of a streamed ``/api/chat`` or ``/api/generate`` answer."""

    steps = ()

    def __init__(self, *, capture_content: bool) -> None:
        self._b = ResponseBuilder(keep_text=capture_content)
        self.chunks = 0

    def feed(self, line: Mapping[str, Any]) -> None:
        if read_object(as_dict(line), self._b):
            self.chunks += 1

    def response(self) -> GenAIResponse:
        return self._b.build()

    def output_messages(self) -> list[Message]:
        b = self._b
        return assistant_output(b) if b.text_parts or len(b.tool_calls) else []


def embed_response(body: Mapping[str, Any]) -> GenAIResponse:
    """Response facts from an ``/api/embed`` answer: the model and ``prompt_eval_count``."""
    b = ResponseBuilder(keep_text=False)
    b.set_model(body.get("model"))
    b.set_usage(uncached_input=body.get("prompt_eval_count"))
    return b.build()

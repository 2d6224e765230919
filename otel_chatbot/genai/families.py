"""InvokeModel body formats, one reader per model family.

Each family has its own JSON dialect for requests, responses and stream chunks. The
readers here fill a :class:`~._builder.ResponseBuilder` and never raise: a field of the
wrong type is simply not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from . import anthropic, models, names
from ._builder import ResponseBuilder
from ._coerce import as_dict, as_float, as_int, as_list, as_str, dig, first, str_tuple
from .types import GenAIRequest

Path = tuple[str, ...]

# Where each family keeps its generation settings; the first path present wins.
_SETTINGS: Final[dict[str, dict[str, tuple[Path, ...]]]] = {
    models.ANTHROPIC: {
        "max_tokens": (("max_tokens",), ("max_tokens_to_sample",)),
        "temperature": (("temperature",),),
        "top_p": (("top_p",),),
        "top_k": (("top_k",),),
        "stop": (("stop_sequences",),),
    },
    models.AMAZON_NOVA: {
        "max_tokens": (("inferenceConfig", "max_new_tokens"), ("inferenceConfig", "maxTokens")),
        "temperature": (("inferenceConfig", "temperature"),),
        "top_p": (("inferenceConfig", "top_p"), ("inferenceConfig", "topP")),
        "top_k": (("inferenceConfig", "top_k"), ("inferenceConfig", "topK")),
        "stop": (("inferenceConfig", "stopSequences"), ("inferenceConfig", "stop_sequences")),
    },
    models.AMAZON_TITAN: {
        "max_tokens": (("textGenerationConfig", "maxTokenCount"),),
        "temperature": (("textGenerationConfig", "temperature"),),
        "top_p": (("textGenerationConfig", "topP"),),
        "stop": (("textGenerationConfig", "stopSequences"),),
    },
    models.META: {
        "max_tokens": (("max_gen_len",),),
        "temperature": (("temperature",),),
        "top_p": (("top_p",),),
    },
    models.COHERE: {
        "max_tokens": (("max_tokens",),),
        "temperature": (("temperature",),),
        "top_p": (("p",),),
        "top_k": (("k",),),
        "stop": (("stop_sequences",),),
        "seed": (("seed",),),
        "choices": (("num_generations",),),
    },
    models.MISTRAL: {
        "max_tokens": (("max_tokens",),),
        "temperature": (("temperature",),),
        "top_p": (("top_p",),),
        "top_k": (("top_k",),),
        "stop": (("stop",),),
    },
    models.AI21: {
        "max_tokens": (("max_tokens",), ("maxTokens",)),
        "temperature": (("temperature",),),
        "top_p": (("top_p",), ("topP",)),
        "stop": (("stop",), ("stopSequences",)),
        "choices": (("n",), ("numResults",)),
    },
}

# OpenAI-style keys: the best guess for families we do not know (DeepSeek, gpt-oss ...).
_GENERIC: Final[dict[str, tuple[Path, ...]]] = {
    "max_tokens": (("max_tokens",), ("max_completion_tokens",), ("max_new_tokens",), ("max_gen_len",)),
    "temperature": (("temperature",),),
    "top_p": (("top_p",),),
    "top_k": (("top_k",),),
    "stop": (("stop",), ("stop_sequences",)),
    "seed": (("seed",),),
    "choices": (("n",),),
}


def _setting(body: Mapping[str, Any], family: str, key: str) -> Any:
    for path in _SETTINGS.get(family, _GENERIC).get(key, ()):
        value = dig(body, *path)
        if value is not None:
            return value
    return None


def operation_for(model_id: str, family: str, body: Mapping[str, Any]) -> str:
    """``chat`` for messages-style bodies, ``text_completion`` for prompt-style ones.

    Follows the convention's well-known values; embedding models report ``embeddings``.
    When the body gives no hint the family's usual style decides.
    """
    base = models.base_model_id(model_id) or ""
    if "embed" in base or "texts" in body:
        return names.OPERATION_EMBEDDINGS
    if "messages" in body or "message" in body:
        return names.OPERATION_CHAT
    if any(key in body for key in ("prompt", "inputText")):
        return names.OPERATION_TEXT_COMPLETION
    if family in (models.AMAZON_TITAN, models.META):
        return names.OPERATION_TEXT_COMPLETION
    return names.OPERATION_CHAT


def parse_request(
    model_id: str,
    body: Mapping[str, Any],
    *,
    stream: bool | None = None,
    guardrail_id: str | None = None,
    guardrail_version: str | None = None,
) -> GenAIRequest:
    """Read the generation settings of an InvokeModel body of ``model_id``'s family."""
    family = models.model_family(model_id)

    def get(key: str) -> Any:
        return _setting(body, family, key)

    return GenAIRequest(
        operation_name=operation_for(model_id, family, body),
        provider_name=names.PROVIDER_AWS_BEDROCK,
        model=as_str(model_id),
        max_tokens=as_int(get("max_tokens")),
        temperature=as_float(get("temperature")),
        top_p=as_float(get("top_p")),
        top_k=as_float(get("top_k")),
        stop_sequences=str_tuple(get("stop")),
        seed=as_int(get("seed")),
        choice_count=as_int(get("choices")),
        stream=stream,
        guardrail_id=as_str(guardrail_id),
        guardrail_version=as_str(guardrail_version),
    )


# --- response bodies ------------------------------------------------------------------


def _nova_usage(usage: Mapping[str, Any], b: ResponseBuilder) -> None:
    b.set_usage(
        uncached_input=usage.get("inputTokens"),
        output=usage.get("outputTokens"),
        cache_read=first(usage.get("cacheReadInputTokenCount"), usage.get("cacheReadInputTokens")),
        cache_write=first(usage.get("cacheWriteInputTokenCount"), usage.get("cacheWriteInputTokens")),
    )


def _nova(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    b.add_finish_reason(body.get("stopReason"))
    _nova_usage(as_dict(body.get("usage")), b)
    for block in as_list(dig(body, "output", "message", "content")):
        b.add_text(as_dict(block).get("text"))


def _titan(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    results = [as_dict(r) for r in as_list(body.get("results"))]
    counts = [as_int(r.get("tokenCount")) for r in results]
    output = sum(c for c in counts if c is not None) if counts and None not in counts else None
    b.set_usage(uncached_input=body.get("inputTextTokenCount"), output=output)
    for result in results:
        b.add_finish_reason(result.get("completionReason"))
        b.add_text(result.get("outputText"))


def _meta(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    b.set_usage(uncached_input=body.get("prompt_token_count"), output=body.get("generation_token_count"))
    b.add_finish_reason(body.get("stop_reason"))
    b.add_text(body.get("generation"))


def _cohere(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    b.set_id(first(body.get("response_id"), body.get("id")))
    b.add_finish_reason(body.get("finish_reason"))  # Command R
    b.add_text(body.get("text"))
    for generation in as_list(body.get("generations")):  # Command (legacy)
        b.add_finish_reason(as_dict(generation).get("finish_reason"))
        b.add_text(as_dict(generation).get("text"))
    billed = as_dict(dig(body, "meta", "billed_units"))
    b.set_usage(uncached_input=billed.get("input_tokens"), output=billed.get("output_tokens"))


def _openai_style(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    """Choices/usage bodies: Jamba, Mistral chat, gpt-oss, DeepSeek and friends."""
    b.set_id(body.get("id"))
    b.set_model(body.get("model"))
    for choice in as_list(body.get("choices")):
        choice = as_dict(choice)
        b.add_finish_reason(first(choice.get("finish_reason"), choice.get("stop_reason")))
        b.add_text(dig(choice, "message", "content"))
        b.add_text(choice.get("text"))
    usage = as_dict(body.get("usage"))
    b.set_usage(
        uncached_input=first(usage.get("prompt_tokens"), usage.get("input_tokens")),
        output=first(usage.get("completion_tokens"), usage.get("output_tokens")),
    )


def _mistral(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    for output in as_list(body.get("outputs")):  # text-completion body
        b.add_finish_reason(as_dict(output).get("stop_reason"))
        b.add_text(as_dict(output).get("text"))
    _openai_style(body, b)


def _ai21(body: Mapping[str, Any], b: ResponseBuilder) -> None:
    _openai_style(body, b)  # Jamba
    completions = as_list(body.get("completions"))  # Jurassic-2
    if completions:
        prompt_tokens = dig(body, "prompt", "tokens")
        output_tokens = [dig(c, "data", "tokens") for c in completions]
        b.set_usage(
            uncached_input=len(prompt_tokens) if isinstance(prompt_tokens, list) else None,
            output=(sum(len(t) for t in output_tokens) if all(isinstance(t, list) for t in output_tokens) else None),
        )
        for completion in completions:
            b.add_finish_reason(dig(completion, "finishReason", "reason"))
            b.add_text(dig(completion, "data", "text"))


_RESPONSE_READERS: Final[dict[str, Callable[[Mapping[str, Any], ResponseBuilder], None]]] = {
    models.ANTHROPIC: anthropic.read_message,
    models.AMAZON_NOVA: _nova,
    models.AMAZON_TITAN: _titan,
    models.META: _meta,
    models.COHERE: _cohere,
    models.MISTRAL: _mistral,
    models.AI21: _ai21,
}


def read_response(model_id: str, body: Mapping[str, Any], b: ResponseBuilder) -> None:
    """Fill ``b`` from a non-streaming InvokeModel response body."""
    reader = _RESPONSE_READERS.get(models.model_family(model_id), _openai_style)
    reader(body, b)
    b.apply_bedrock_extras(body)


# --- stream chunks ----------------------------------------------------------------------
# Each reader returns True when the chunk carried generated content (text, tool input,
# reasoning), which is what "first chunk" timing and the chunk count are about.


def _nova_chunk(chunk: Mapping[str, Any], b: ResponseBuilder) -> bool:
    delta = as_dict(dig(chunk, "contentBlockDelta", "delta"))
    if delta:
        b.add_text(delta.get("text"))
        reasoning = dig(delta, "reasoningContent", "text")
        return bool(as_str(delta.get("text")) or as_dict(delta.get("toolUse")) or as_str(reasoning))
    stop = as_dict(chunk.get("messageStop"))
    if stop:
        b.add_finish_reason(stop.get("stopReason"))
    metadata = as_dict(chunk.get("metadata"))
    if metadata:
        _nova_usage(as_dict(metadata.get("usage")), b)
    return False


def _titan_chunk(chunk: Mapping[str, Any], b: ResponseBuilder) -> bool:
    text = as_str(chunk.get("outputText"))
    b.add_text(text)
    b.add_finish_reason(chunk.get("completionReason"))
    b.set_usage(
        uncached_input=chunk.get("inputTextTokenCount"),
        output=chunk.get("totalOutputTextTokenCount"),
    )
    return text is not None


def _meta_chunk(chunk: Mapping[str, Any], b: ResponseBuilder) -> bool:
    text = as_str(chunk.get("generation"))
    b.add_text(text)
    b.add_finish_reason(chunk.get("stop_reason"))
    # Per-chunk counts are running totals, so the last report wins.
    b.set_usage(uncached_input=chunk.get("prompt_token_count"), output=chunk.get("generation_token_count"))
    return text is not None


def _cohere_chunk(chunk: Mapping[str, Any], b: ResponseBuilder) -> bool:
    if chunk.get("event_type") == "stream-end" or chunk.get("is_finished") is True:
        b.add_finish_reason(chunk.get("finish_reason"))
        response = as_dict(chunk.get("response"))
        b.set_id(response.get("response_id"))
        billed = as_dict(dig(response, "meta", "billed_units"))
        b.set_usage(uncached_input=billed.get("input_tokens"), output=billed.get("output_tokens"))
        for generation in as_list(chunk.get("generations")):
            b.add_finish_reason(as_dict(generation).get("finish_reason"))
        return False
    texts = [as_str(chunk.get("text"))] + [as_str(as_dict(g).get("text")) for g in as_list(chunk.get("generations"))]
    for text in texts:
        b.add_text(text)
    return any(texts)


def _choices_chunk(chunk: Mapping[str, Any], b: ResponseBuilder) -> bool:
    """OpenAI-style and Mistral stream chunks (``choices`` or ``outputs``)."""
    b.set_id(chunk.get("id"))
    b.set_model(chunk.get("model"))
    content = False
    for choice in as_list(chunk.get("choices")) + as_list(chunk.get("outputs")):
        choice = as_dict(choice)
        text = as_str(
            first(
                dig(choice, "delta", "content"),
                dig(choice, "message", "content"),
                choice.get("text"),
            )
        )
        b.add_text(text)
        content = content or text is not None or bool(as_list(dig(choice, "delta", "tool_calls")))
        b.add_finish_reason(first(choice.get("finish_reason"), choice.get("stop_reason")))
    usage = as_dict(chunk.get("usage"))
    b.set_usage(
        uncached_input=first(usage.get("prompt_tokens"), usage.get("input_tokens")),
        output=first(usage.get("completion_tokens"), usage.get("output_tokens")),
    )
    return content


_CHUNK_READERS: Final[dict[str, Callable[[Mapping[str, Any], ResponseBuilder], bool]]] = {
    models.ANTHROPIC: anthropic.read_event,
    models.AMAZON_NOVA: _nova_chunk,
    models.AMAZON_TITAN: _titan_chunk,
    models.META: _meta_chunk,
    models.COHERE: _cohere_chunk,
}


def read_chunk(family: str, chunk: Mapping[str, Any], b: ResponseBuilder) -> bool:
    """Fill ``b`` from one decoded stream chunk; True if it carried generated content."""
    reader = _CHUNK_READERS.get(family, _choices_chunk)
    has_content = reader(chunk, b)
    b.apply_bedrock_extras(chunk)
    return has_content

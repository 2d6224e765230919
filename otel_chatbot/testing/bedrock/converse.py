"""Converse and ConverseStream response shapes (model-independent, unlike InvokeModel).

The usage block follows what Bedrock returns: ``inputTokens`` excludes cached tokens,
``totalTokens`` includes them, and cache fields appear when the request used ``cachePoint``
(with both the current ``...Tokens`` and the older ``...TokenCount`` spellings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from otel_chatbot.testing.bedrock.eventstream import event_frame, padding
from otel_chatbot.testing.standin.generation import Completion, split_chunks
from otel_chatbot.testing.standin.responses import StreamEvent
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]


TOOL_USE_PREFIX = "tooluse_"


def stop_reason(completion: Completion) -> str:
    if completion.tool_call is not None:
        return "tool_use"
    return "max_tokens" if completion.truncated else "end_turn"


def content_blocks(completion: Completion) -> list[JsonObject]:
    """Converse / Nova message content: the text, then the tool call if the model made one."""
    blocks: list[JsonObject] = [{"text": completion.text}]
    call = completion.tool_call
    if call is not None:
        blocks.append({"toolUse": {"toolUseId": call.id(TOOL_USE_PREFIX), "name": call.name, "input": call.input}})
    return blocks


def stream_blocks(completion: Completion) -> list[tuple[str, JsonObject]]:
    """Content events of a Converse-style stream: text deltas, then a streamed tool call."""
    events: list[tuple[str, JsonObject]] = [
        ("contentBlockDelta", {"delta": {"text": text}, "contentBlockIndex": 0})
        for text in split_chunks(completion.text)
    ]
    events.append(("contentBlockStop", {"contentBlockIndex": 0}))
    call = completion.tool_call
    if call is not None:
        start = {"toolUse": {"toolUseId": call.id(TOOL_USE_PREFIX), "name": call.name}}
        events.append(("contentBlockStart", {"start": start, "contentBlockIndex": 1}))
        delta = {"toolUse": {"input": call.input_json}}
        events.append(("contentBlockDelta", {"delta": delta, "contentBlockIndex": 1}))
        events.append(("contentBlockStop", {"contentBlockIndex": 1}))
    return events


def usage_block(usage: Usage, with_cache: bool) -> JsonObject:
    """Converse ``TokenUsage``."""
    block: JsonObject = {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.total_tokens,
    }
    if with_cache:
        block["cacheReadInputTokens"] = usage.cache_read_input_tokens
        block["cacheWriteInputTokens"] = usage.cache_write_input_tokens
        block["cacheReadInputTokenCount"] = usage.cache_read_input_tokens
        block["cacheWriteInputTokenCount"] = usage.cache_write_input_tokens
    return block


def converse_body(completion: Completion, latency_ms: int) -> JsonObject:
    """The Converse response document."""
    return {
        "output": {"message": {"role": "assistant", "content": content_blocks(completion)}},
        "stopReason": stop_reason(completion),
        "usage": usage_block(completion.usage, completion.cache_requested),
        "metrics": {"latencyMs": latency_ms},
    }


def converse_stream_events(completion: Completion, elapsed_ms: Callable[[], int]) -> Iterator[StreamEvent]:
    """ConverseStream events; the final ``metadata`` event carries usage and measured latency."""
    events: list[tuple[str, JsonObject]] = [("messageStart", {"role": "assistant"})]
    events += stream_blocks(completion)
    events.append(("messageStop", {"stopReason": stop_reason(completion)}))
    for index, (event_type, payload) in enumerate(events):
        yield StreamEvent(event_frame(event_type, {**payload, "p": padding(index)}))
    metadata = {
        "usage": usage_block(completion.usage, completion.cache_requested),
        "metrics": {"latencyMs": elapsed_ms()},
        "p": padding(len(events)),
    }
    yield StreamEvent(event_frame("metadata", metadata), usage=completion.usage)

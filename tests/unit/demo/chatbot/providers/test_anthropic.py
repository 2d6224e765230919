"""The Anthropic provider's pure parts: system blocks with a cache marker, the SDK's objects read, errors."""

from __future__ import annotations

import anthropic
import httpx2
from anthropic.types import Message, RawContentBlockDeltaEvent, RawMessageDeltaEvent, RawMessageStartEvent

from otel_chatbot.demo.chatbot.handbook import HANDBOOK
from otel_chatbot.demo.chatbot.providers import Delta, Prompt
from otel_chatbot.demo.chatbot.providers.anthropic import completion_of, delta_of, system_blocks, translate
from otel_chatbot.demo.chatbot.schemas import Turn

USAGE = {"input_tokens": 5, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0, "output_tokens": 3}
MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-haiku-4-5-20251001",
    "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": " there"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": USAGE,
}


def test_the_handbook_is_a_cacheable_system_block() -> None:
    turns = [Turn(role="user", text="hi")]
    assert system_blocks(Prompt("Be brief.", turns)) == [{"type": "text", "text": "Be brief."}]
    assert system_blocks(Prompt("Be brief.", turns, HANDBOOK))[1] == {
        "type": "text",
        "text": HANDBOOK,
        "cache_control": {"type": "ephemeral"},
    }


def test_input_tokens_include_the_cache_as_the_convention_counts_them() -> None:
    got = completion_of(Message.model_validate(MESSAGE))
    assert (got.text, got.stop_reason, got.input_tokens, got.output_tokens) == ("Hi there", "end_turn", 105, 3)
    started: list[int] = []
    start = RawMessageStartEvent.model_validate(
        {"type": "message_start", "message": {**MESSAGE, "content": [], "stop_reason": None}}
    )
    assert delta_of(start, started) is None and started == [105]
    text = RawContentBlockDeltaEvent.model_validate(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
    )
    assert delta_of(text, started) == Delta(text="Hi")
    end = RawMessageDeltaEvent.model_validate(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
            "usage": {"output_tokens": 9},
        }
    )
    assert delta_of(end, started) == Delta(stop_reason="max_tokens", input_tokens=105, output_tokens=9)


def test_sdk_errors_become_the_apis_answers() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/messages")

    def status_error(cls: type[anthropic.APIStatusError], status: int) -> anthropic.APIStatusError:
        return cls("nope", response=httpx2.Response(status, request=request), body=None)

    throttled = translate(status_error(anthropic.RateLimitError, 429))
    assert throttled is not None and (throttled.code, throttled.status) == ("RateLimitError", 429)
    overloaded = translate(status_error(anthropic.APIStatusError, 529))
    assert overloaded is not None and overloaded.status == 503, "Anthropic's overloaded: a failover candidate"
    refused = translate(anthropic.APIConnectionError(request=request))
    assert refused is not None and refused.status == 502
    assert translate(ValueError("not the SDK's")) is None

"""The OpenAI provider's pure parts: messages, the SDK's objects read, its exceptions translated."""

from __future__ import annotations

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from otel_chatbot.demo.chatbot.handbook import HANDBOOK
from otel_chatbot.demo.chatbot.providers import Delta, Prompt
from otel_chatbot.demo.chatbot.providers.openai import chat_messages, completion_of, deltas_of, translate
from otel_chatbot.demo.chatbot.schemas import Turn

REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def test_the_system_prompt_carries_the_context() -> None:
    turns = [Turn(role="user", text="hi")]
    assert chat_messages(Prompt("Be brief.", turns)) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert chat_messages(Prompt("Be brief.", turns, HANDBOOK))[0] == {
        "role": "system",
        "content": f"Be brief.\n\n{HANDBOOK}",
    }


def test_a_completion_and_stream_chunks_are_read_from_the_sdks_types() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
        }
    )
    got = completion_of(completion)
    assert (got.text, got.stop_reason, got.input_tokens, got.output_tokens) == ("Hi there", "stop", 12, 2)

    def chunk(choices: list[dict[str, object]], usage: dict[str, int] | None = None) -> ChatCompletionChunk:
        body = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices}
        return ChatCompletionChunk.model_validate({**body, "usage": usage})

    assert deltas_of(chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])) == []
    assert deltas_of(chunk([{"index": 0, "delta": {"content": "Hi"}}])) == [Delta(text="Hi")]
    assert deltas_of(chunk([{"index": 0, "delta": {}, "finish_reason": "length"}])) == [Delta(stop_reason="length")]
    usage = {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}
    assert deltas_of(chunk([], usage)) == [Delta(input_tokens=12, output_tokens=2)]


def test_sdk_errors_become_the_apis_answers() -> None:
    def status_error(cls: type[openai.APIStatusError], status: int) -> openai.APIStatusError:
        return cls("nope", response=httpx2.Response(status, request=REQUEST), body=None)

    throttled = translate(status_error(openai.RateLimitError, 429))
    assert throttled is not None and (throttled.code, throttled.status) == ("RateLimitError", 429)
    overloaded = translate(status_error(openai.InternalServerError, 503))
    assert overloaded is not None and overloaded.status == 503, "unavailable: a failover candidate"
    broken = translate(status_error(openai.InternalServerError, 500))
    assert broken is not None and broken.status == 502
    missing = translate(status_error(openai.NotFoundError, 404))
    assert missing is not None and missing.status == 404
    refused = translate(openai.APIConnectionError(request=REQUEST))
    assert refused is not None and (refused.code, refused.status) == ("APIConnectionError", 502)
    assert translate(ValueError("not the SDK's")) is None

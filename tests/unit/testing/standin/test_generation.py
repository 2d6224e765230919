"""The deterministic model's rules that every stand-in relies on."""

from __future__ import annotations

from otel_chatbot.testing.standin.cache import PromptCache
from otel_chatbot.testing.standin.generation import (
    INPUT_TOKEN_OVERHEAD,
    PromptBuilder,
    complete,
    json_pieces,
    split_chunks,
)
from otel_chatbot.testing.standin.tools import REQUIRED


def test_pieces_join_back_to_the_text() -> None:
    text = '{"city":"Paris","days":3}'
    assert "".join(json_pieces(text)) == text and len(json_pieces(text)) > 1
    assert json_pieces("") == [""]
    reply = "Hello! This is a deterministic reply to: hi"
    assert "".join(split_chunks(reply)) == reply


def test_a_forced_tool_call_counts_the_preamble_and_arguments() -> None:
    builder = PromptBuilder()
    builder.add_tool("lookup", {"properties": {"q": {"type": "string"}}}, "lookup spec")
    builder.choose_tool(REQUIRED)
    builder.add("find otel")
    builder.user_turn("find otel", has_tool_result=False)
    completion = complete(builder.build(None), PromptCache(), "m")
    assert completion.tool_call is not None and completion.tool_call.input == {"q": "find otel"}
    assert completion.usage.input_tokens == 4 + INPUT_TOKEN_OVERHEAD
    # "I will use the lookup tool." (6 words) + '{"q":"find otel"}' (2 words)
    assert completion.usage.output_tokens == 8


def test_a_cache_point_writes_then_reads() -> None:
    cache = PromptCache()

    def usage() -> tuple[int, int, int]:
        builder = PromptBuilder()
        builder.add("a long system prompt")
        assert builder.token_count() == 4
        builder.cache_point()
        builder.add("hi")
        builder.user_turn("hi", has_tool_result=False)
        got = complete(builder.build(None), cache, "m").usage
        return got.input_tokens, got.cache_write_input_tokens, got.cache_read_input_tokens

    assert usage() == (1 + INPUT_TOKEN_OVERHEAD, 4, 0)
    assert usage() == (1 + INPUT_TOKEN_OVERHEAD, 0, 4)

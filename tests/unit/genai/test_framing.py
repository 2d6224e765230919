"""Incremental SSE and NDJSON decoding: any split of the bytes gives the same events, memory stays bounded."""

from __future__ import annotations

import pytest

from otel_chatbot.genai.framing import MAX_LINE_BYTES, NDJSONDecoder, ServerSentEvent, SSEDecoder

ANTHROPIC_WIRE = (
    b"event: message_start\n"
    b'data: {"type": "message_start", "message": {"id": "msg_1"}}\n\n'
    b": a comment\n"
    b"event: ping\ndata: {}\n\n"
    b"event: content_block_delta\r\n"
    b'data: {"type": "content_block_delta", "delta": {"text": "h\xc3\xa9"}}\r\n\r\n'
)


def _split_everywhere(wire: bytes, make: type[SSEDecoder] | type[NDJSONDecoder]) -> list[list[object]]:
    results = []
    for cut in range(1, len(wire)):
        decoder = make()
        results.append(decoder.feed(wire[:cut]) + decoder.feed(wire[cut:]) + decoder.flush())
    return results


def test_sse_events_whatever_the_chunking() -> None:
    whole = SSEDecoder().feed(ANTHROPIC_WIRE)
    assert [e.event for e in whole] == ["message_start", "ping", "content_block_delta"]
    assert whole[2].json()["delta"]["text"] == "hé"
    for events in _split_everywhere(ANTHROPIC_WIRE, SSEDecoder):
        assert events == whole
    one_byte_at_a_time = SSEDecoder()
    assert [e for b in ANTHROPIC_WIRE for e in one_byte_at_a_time.feed(bytes([b]))] == whole


def test_openai_data_lines_done_and_multi_line_data() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b'data: {"a": 1}\n\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n')
    assert events == [
        ServerSentEvent("message", '{"a": 1}'),
        ServerSentEvent("message", "line one\nline two"),
        ServerSentEvent("message", "[DONE]"),
    ]
    assert events[2].json() == {} and events[1].json() == {}


def test_a_last_event_without_its_blank_line_is_flushed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: message_stop\ndata: {}") == []
    assert decoder.flush() == [ServerSentEvent("message_stop", "{}")]


def test_an_over_long_line_is_dropped_not_buffered() -> None:
    decoder = SSEDecoder()
    huge = b"data: " + b"x" * (MAX_LINE_BYTES + 10)
    for start in range(0, len(huge), 65536):
        assert decoder.feed(huge[start : start + 65536]) == []
    assert decoder.feed(b'\n\ndata: {"ok": true}\n\n') == [ServerSentEvent("message", '{"ok": true}')]
    assert decoder.dropped == 1


OLLAMA_WIRE = (
    b'{"model": "llama3.2", "message": {"content": "Hi"}, "done": false}\n'
    b"not json\n"
    b"[1, 2]\n"
    b'{"model": "llama3.2", "done": true, "eval_count": 3}'
)


def test_ndjson_objects_whatever_the_chunking() -> None:
    decoder = NDJSONDecoder()
    whole = decoder.feed(OLLAMA_WIRE) + decoder.flush()
    assert [o["done"] for o in whole] == [False, True]
    for objects in _split_everywhere(OLLAMA_WIRE, NDJSONDecoder):
        assert objects == whole


@pytest.mark.parametrize("wire", [b"", b"\n\n\n", b"\r\n"])
def test_nothing_in_nothing_out(wire: bytes) -> None:
    assert SSEDecoder().feed(wire) == []
    assert NDJSONDecoder().feed(wire) == []


@pytest.mark.parametrize(
    "chunks",
    [
        [b'data: {"a":1}\n\n'],
        [b'data: {"a":1}\n\ndata: {"b":2}\n\n', b"data: [DONE]\n\n"],
        [b"data: caf\xc3\xa9 \xe2\x82\n\n"],  # a broken UTF-8 sequence before the line's end
        [b"data: a", b"bc\n\n", b"data: d\n\n"],  # a chunk after an unfinished line: the general way
        [b"event: delta\n", b"data: x\n\n"],  # an event name pending: the general way
        [b"data: x\r\n\r\n", b"data: y\n\n"],
        [b"data:x\n\n", b"data: a\ndata: b\n\n", b": ping\n\n", b"\n\n"],
    ],
)
def test_whole_data_event_chunks_decode_as_line_by_line(chunks: list[bytes]) -> None:
    short, general = SSEDecoder(), SSEDecoder()
    for chunk in chunks:
        assert short.feed(chunk) == general._decode(general._lines.feed(chunk))
    assert short.flush() == general.flush()

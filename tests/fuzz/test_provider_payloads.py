"""Fuzzed answers of the HTTP providers (OpenAI, Azure, Anthropic, Ollama) through the pure readers.

A streamed answer reaches the wiring as bytes in chunks the network chose; the SSE and
NDJSON decoders turn them into events and each API's accumulator folds the events into the
span's attributes. The examples are real streams (the unit tests' OpenAI tool-call stream,
a Responses stream, Anthropic's message stream, Ollama's lines) with their JSON broken by
:func:`~tests.fuzz.strategies.shaped_like`, framed with every line ending, comments,
multi-line data and unknown fields, then cut anywhere, followed by garbage, and split into
random chunks. What must hold: nothing raises; the events do not depend on how the bytes
were chunked; the attributes are ones a span can carry; buffered answers and request bodies
of every row read the same way.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from otel_chatbot.genai.framing import NDJSONDecoder, ServerSentEvent, SSEDecoder
from otel_chatbot.genai.http_apis import HTTP_APIS, HttpApi
from tests.fuzz.strategies import HOSTILE_LEAF, TEXT, as_json_bytes, body_like, shaped_like
from tests.fuzz.test_bedrock_payloads import check_attributes
from tests.unit.genai.test_anthropic import MESSAGE, REQUEST
from tests.unit.genai.test_anthropic import STREAM as ANTHROPIC_STREAM
from tests.unit.genai.test_ollama import LINES
from tests.unit.genai.test_openai import CHAT_REQUEST, COMPLETION, RESPONSE_OBJECT, TOOL_STREAM

RESPONSES_STREAM = [
    ("response.created", {"response": {"id": "resp_2", "model": "gpt-4o-mini", "status": "in_progress"}}),
    ("response.output_text.delta", {"output_index": 0, "delta": "Hel"}),
    ("response.output_item.added", {"output_index": 1, "item": {"type": "function_call", "call_id": "c", "name": "f"}}),
    ("response.function_call_arguments.delta", {"output_index": 1, "delta": '{"q":'}),
    ("response.completed", {"response": RESPONSE_OBJECT}),
    ("error", {"code": "server_error", "message": "boom"}),
]
"""(event, data) pairs; the ``type`` field is added as OpenAI sends it."""


def _sse_pairs(events: list[Any]) -> list[tuple[str, Any]]:
    pairs = []
    for event in events:
        try:
            data = json.loads(event.data)
        except ValueError:
            data = event.data  # [DONE]
        pairs.append((event.event, data))
    return pairs


EXAMPLES: dict[str, tuple[dict[str, Any], Any, list[tuple[str, Any]]]] = {
    # api name: (request body, buffered answer, streamed events as (event name, data))
    "openai.chat_completions": (CHAT_REQUEST, COMPLETION, _sse_pairs(TOOL_STREAM)),
    "openai.responses": (
        {"model": "gpt-4o-mini", "input": "hi", "stream": True},
        RESPONSE_OBJECT,
        [(kind, {"type": kind, **data}) for kind, data in RESPONSES_STREAM],
    ),
    "openai.embeddings": (
        {"model": "text-embedding-3-small", "input": ["a", "b"]},
        {"object": "list", "data": [{"index": 0, "embedding": [0.1, 0.2]}], "usage": {"prompt_tokens": 2}},
        [],
    ),
    "anthropic.messages": (REQUEST, MESSAGE, _sse_pairs(ANTHROPIC_STREAM)),
    "ollama.chat": (
        {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]},
        LINES[-1],
        [("", line) for line in LINES] + [("", {"error": "model not found"})],
    ),
    "ollama.generate": (
        {"model": "llama3.2", "prompt": "hi"},
        {"model": "llama3.2", "response": "Hello", "done": True, "prompt_eval_count": 3, "eval_count": 1},
        [("", {"model": "llama3.2", "response": "He", "done": False}), ("", {"done": True, "eval_count": 2})],
    ),
    "ollama.embed": (
        {"model": "all-minilm", "input": ["a"]},
        {"model": "all-minilm", "embeddings": [[0.1]], "prompt_eval_count": 1},
        [],
    ),
}

LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sse_wire(draw: st.DrawFn, events: list[tuple[str, Any]]) -> bytes:
    """Events as SSE text, each broken or kept, framed in any of the ways the format allows."""
    end = draw(LINE_ENDS)
    out: list[str] = []
    for name, data in events:
        if draw(st.integers(0, 9)) == 0:
            out.append(": keep-alive" + end)  # a comment line
        if draw(st.booleans()):
            data = draw(shaped_like(data))
        text = data if isinstance(data, str) else as_json_bytes(data).decode("utf-8", "surrogatepass")
        if name and name != "message":
            out.append(f"event: {name}{end}")
        if draw(st.integers(0, 5)) == 0 and len(text) > 2:  # data split over two data: lines (joined by \n)
            out.append(f"data: {text[:2]}{end}data:{text[2:]}{end}")
        else:
            out.append(f"data: {text}{end}")
        if draw(st.integers(0, 9)) == 0:
            out.append(f"{draw(st.sampled_from(['id', 'retry', 'x-unknown']))}: {draw(TEXT)}{end}")
        out.append(end)
    return "".join(out).encode("utf-8", "surrogatepass")


@st.composite
def ndjson_wire(draw: st.DrawFn, events: list[tuple[str, Any]]) -> bytes:
    lines = []
    for _, data in events:
        value = draw(shaped_like(data)) if draw(st.booleans()) else data
        lines.append(as_json_bytes(value))
        if draw(st.integers(0, 9)) == 0:
            lines.append(b"")  # a blank line between objects
    return b"\n".join(lines) + draw(st.sampled_from([b"\n", b""]))


@st.composite
def broken_wire(draw: st.DrawFn, api: HttpApi) -> bytes:
    _, _, events = EXAMPLES[api.name]
    data = draw(sse_wire(events) if api.framing == "sse" else ndjson_wire(events))
    if data and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        data += draw(st.binary(max_size=60))
    return data


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def _decoder(api: HttpApi) -> SSEDecoder | NDJSONDecoder:
    return SSEDecoder() if api.framing == "sse" else NDJSONDecoder()


def decode(api: HttpApi, chunks: list[bytes]) -> list[Any]:
    decoder = _decoder(api)
    events: list[Any] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events + decoder.flush()


API = st.sampled_from(sorted(HTTP_APIS)).map(HTTP_APIS.__getitem__)


@given(
    case=API.flatmap(lambda api: st.tuples(st.just(api), broken_wire(api))),
    cuts=st.lists(st.integers(0, 5000), max_size=12),
    request=st.sampled_from(sorted(EXAMPLES)).flatmap(lambda name: shaped_like(EXAMPLES[name][0])) | HOSTILE_LEAF,
    capture=st.booleans(),
)
def test_streams_of_every_api(case: tuple[HttpApi, bytes], cuts: list[int], request: Any, capture: bool) -> None:
    api, data = case
    events = decode(api, chunked(data, cuts))
    assert events == decode(api, [data])  # the chunking never changes the events
    params = {"body": request, "provider": api.name.split(".")[0], "model": None}
    row = api.streamed
    check_attributes(row.request(params).attributes())
    assert row.stream is not None
    accumulator = row.stream.accumulator(params, capture)
    for event in events:
        accumulator.feed(event)
        api.terminal(event)
    check_attributes(accumulator.response().attributes())
    json.dumps(accumulator.output_messages(), default=str)


@given(
    api=API,
    body=st.sampled_from(sorted(EXAMPLES)).flatmap(lambda name: body_like(EXAMPLES[name][1])),
    request=st.sampled_from(sorted(EXAMPLES)).flatmap(lambda name: shaped_like(EXAMPLES[name][0])) | HOSTILE_LEAF,
    capture=st.booleans(),
)
def test_buffered_answers_of_every_api(api: HttpApi, body: bytes, request: Any, capture: bool) -> None:
    params = {"body": request, "provider": api.name.split(".")[0], "model": "m"}
    row = api.buffered
    check_attributes(row.request(params).attributes())
    if row.input_messages is not None:
        json.dumps(row.input_messages(params), default=str)
    result = {"body": api.read_body(body)}
    assert row.response is not None
    check_attributes(row.response(params, result).attributes())
    if row.output_messages is not None:
        json.dumps(row.output_messages(params, result), default=str)
    api.streams(request if isinstance(request, dict) else {})


@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_any_bytes_decode_the_same_however_chunked(data: bytes, cuts: list[int]) -> None:
    for framing in (SSEDecoder, NDJSONDecoder):
        whole, split = framing(), framing()
        expected = whole.feed(data) + whole.flush()
        got = [event for chunk in chunked(data, cuts) for event in split.feed(chunk)] + split.flush()
        assert got == expected


def test_every_api_is_fuzzed() -> None:
    assert set(EXAMPLES) == set(HTTP_APIS)


# --- the short ways agree with the general readers ------------------------------------------

_SSE_PIECES = st.one_of(
    st.builds(lambda text: f"data: {text}\n\n".encode(), st.text(max_size=30)),
    st.builds(lambda text: f"data: {text}\n\n".encode("utf-16-le", "surrogatepass"), st.text(max_size=8)),
    st.sampled_from([b"data: [DONE]\n\n", b"\n\n", b"\n", b"\r\n", b"\r", b"data:x\n\n", b"event: e\n", b": c\n\n"]),
    st.sampled_from([b"data: \xff\xfe\n\n", b"data: \xe2\x82\n\n", b"data: a\nb\n\n", b"id: 1\ndata: y\n\n"]),
    st.binary(max_size=12),
)


def _general_sse(decoder: SSEDecoder, chunk: bytes) -> list[Any]:
    return decoder._decode(decoder._lines.feed(chunk))


@given(chunks=st.lists(st.lists(_SSE_PIECES, max_size=4).map(b"".join), max_size=8))
def test_sse_whole_event_chunks_decode_as_the_general_decoder_does(chunks: list[bytes]) -> None:
    short, general = SSEDecoder(), SSEDecoder()
    for chunk in chunks:
        assert short.feed(chunk) == _general_sse(general, chunk)
    assert short.flush() == general.flush()
    assert short.dropped == general.dropped


def _chat_chunk(
    chunk_id: str, model: str, text: str, role: bool, extras: list[tuple[str, Any]], ascii_only: bool
) -> str:
    delta: dict[str, Any] = {"role": "assistant", "content": text} if role else {"content": text}
    head = {"id": chunk_id, "object": "chat.completion.chunk", "created": 1741570283, "model": model}
    tail = {"choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}], "usage": None}
    chunk = {**head, "service_tier": "default", "system_fingerprint": "fp_1", **tail, "obfuscation": "abc"}
    for key, value in extras:  # an extra or a replaced field: the general path's business
        chunk[key] = value
    return json.dumps(chunk, separators=(",", ":"), ensure_ascii=ascii_only)


_CHAT_CHUNKS = st.builds(
    _chat_chunk,
    st.sampled_from(["chatcmpl-1", "chatcmpl-2", ""]),
    st.sampled_from(["gpt-4o-mini", "gpt-4o", ""]),
    st.text(max_size=12),
    st.booleans(),
    st.lists(
        st.tuples(
            st.sampled_from(["usage", "error", "choices", "created", "id", "model", "x"]),
            st.one_of(HOSTILE_LEAF, st.just([{"index": 1, "delta": {"content": "b"}, "finish_reason": "stop"}])),
        ),
        max_size=1,
    ),
    st.booleans(),
)


MUTATIONS = ["", " ", '"', "\\", "\x01", "0", "}"]
"""A character deleted (""), or one of these inserted: a chunk just off the short way's shape."""


def _mutated(data: str, at: int, insert: str) -> str:
    at = min(at, len(data))
    return data[:at] + insert + data[at + (1 if not insert else 0) :]


@given(
    chunks=st.lists(
        st.one_of(
            _CHAT_CHUNKS,
            st.builds(_mutated, _CHAT_CHUNKS, st.integers(0, 400), st.sampled_from(MUTATIONS)),
            st.sampled_from(["[DONE]", "", "{}"]),
        ),
        max_size=6,
    ),
    capture=st.booleans(),
)
def test_chat_content_chunks_read_the_short_way_as_the_general_reader_reads_them(
    chunks: list[str], capture: bool
) -> None:
    from unittest import mock

    from otel_chatbot.genai import openai

    def accumulated() -> tuple[Any, ...]:
        acc = openai.ChatStreamAccumulator(capture_content=capture)
        for data in chunks:
            acc.feed(ServerSentEvent("message", data))
        return acc.chunks, acc.response(), acc.output_messages()

    short = accumulated()
    with mock.patch.object(openai, "content_chunk", lambda data: None):
        assert short == accumulated()

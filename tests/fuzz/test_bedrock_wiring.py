"""Fuzzed Bedrock answers and AWS event-stream frames through real boto3 clients, with and without the distro.

A real boto3 client gets canned HTTP answers in-process (``aws_stub``: botocore parses,
verifies event-stream checksums and raises as it would on the wire). Each example is
answered twice: once with the distro's patch stepping aside (inside upstream's
``suppress_instrumentation()``, where it calls botocore straight through) and once
instrumented. What the app sees (the result, each body chunk or stream event, the
exception) must be the same; every span must end; our code must log no traceback.

Event streams are built from real events of every streaming operation, then broken: an
unknown event type, a modeled exception, a frame with a bad CRC, the stream cut at any
byte, garbage after the last frame.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.instrumentation.utils import suppress_instrumentation

from otel_chatbot.testing.bedrock.eventstream import event_frame, exception_frame
from tests.app_view import Seen, seen
from tests.configured import Distro, OurLogs
from tests.fuzz.strategies import TEXT, body_like, shaped_like
from tests.unit.genai.test_agents import AGENT_EVENTS
from tests.unit.genai.test_bedrock import CONVERSE_RESPONSE, RESPONSE_CASES
from tests.unit.genai.test_streams import CONVERSE_EVENTS, STREAM_CASES
from tests.unit.instrumentation.aws_stub import AwsStub, aws_client, stubbed

EVENT_STREAM = {"content-type": "application/vnd.amazon.eventstream"}
MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[AwsStub, AwsStub, Distro]]:
    distro = Distro(capture_message_content=True).apply_libraries()
    runtime, agent = aws_client("bedrock-runtime"), aws_client("bedrock-agent-runtime")
    with stubbed(runtime) as runtime_stub, stubbed(agent) as agent_stub:
        yield runtime_stub, agent_stub, distro
    distro.revert()


def same_with_and_without(distro: Distro, answer: Callable[[], None], app: Callable[[Seen], Any]) -> list[Any]:
    """``answer()`` queues the canned answer; ``app`` is the app's code. Run bare, then instrumented."""
    answer()
    with suppress_instrumentation():
        bare = seen(app)
    answer()
    with OurLogs() as logs:
        instrumented = seen(app)
    assert instrumented == bare
    assert logs.tracebacks() == []
    assert distro.open_spans.still_open() == []
    return instrumented


# -- buffered answers -------------------------------------------------------------------------------

READS = {
    "read": lambda body: [body.read()],
    "chunks": lambda body: list(body.iter_chunks(17)),
    "lines": lambda body: list(body.iter_lines()),
}


@given(
    case=st.sampled_from(RESPONSE_CASES).flatmap(lambda c: st.tuples(st.just(c[0]), body_like(c[1]))),
    announced=st.sampled_from(["exact", "more", "none"]),
    read=st.sampled_from(sorted(READS)),
    headers=st.dictionaries(
        st.sampled_from(["X-Amzn-Bedrock-Input-Token-Count", "X-Amzn-Bedrock-Output-Token-Count"]),
        st.one_of(TEXT, st.integers().map(str)),
    ),
)
def test_invoke_model_answers(
    clients: Any, case: tuple[str, bytes], announced: str, read: str, headers: dict[str, str]
) -> None:
    runtime, _, distro = clients
    model, body = case
    length = {"exact": {"content-length": str(len(body))}, "more": {"content-length": str(len(body) + 7)}, "none": {}}

    def app(record: Seen) -> Any:
        response = runtime.client.invoke_model(modelId=model, body=b"{}")
        return READS[read](response["body"])

    same_with_and_without(distro, lambda: runtime.raw(body, headers={**headers, **length[announced]}), app)


@given(body=body_like(CONVERSE_RESPONSE), status=st.sampled_from([200, 200, 400, 429, 500]))
def test_converse_answers(clients: Any, body: bytes, status: int) -> None:
    runtime, _, distro = clients

    def app(record: Seen) -> Any:
        return runtime.client.converse(modelId=CLAUDE, messages=MESSAGES)

    error = {"x-amzn-ErrorType": "ThrottlingException"} if status == 429 else {}
    same_with_and_without(
        distro, lambda: runtime.raw(body, status=status, headers={"content-type": "application/json", **error}), app
    )


# -- event streams ----------------------------------------------------------------------------------


def _chunk(payload: Any) -> tuple[str, Any]:
    return "chunk", {"bytes": base64.b64encode(json.dumps(payload, default=str).encode()).decode()}


def _event_like(example: dict[str, Any]) -> st.SearchStrategy[tuple[str, Any]]:
    """An event of ``example``'s type with its payload broken (see ``shaped_like``)."""
    kind = next(iter(example))
    return shaped_like(example[kind]).map(lambda payload: (kind, payload))


CONVERSE_FRAMES = st.lists(
    st.one_of(
        st.sampled_from(CONVERSE_EVENTS).flatmap(_event_like),
        st.tuples(st.text(min_size=1, max_size=20), shaped_like({"x": 1})),  # an event type nobody knows
    ),
    max_size=10,
)
INVOKE_FRAMES = st.sampled_from(STREAM_CASES).flatmap(
    lambda c: st.lists(st.one_of(*map(shaped_like, c[1])).map(_chunk), max_size=8).map(lambda f, m=c[0]: (m, f))
)
AGENT_FRAMES = st.lists(
    st.sampled_from(AGENT_EVENTS).flatmap(_event_like),
    max_size=10,
)
EXCEPTIONS = st.sampled_from(
    ["throttlingException", "modelStreamErrorException", "internalServerException", "unknownException"]
)


def _frames(events: list[tuple[str, Any]]) -> list[bytes]:
    frames = []
    for kind, payload in events:
        try:
            frames.append(event_frame(kind, payload if isinstance(payload, dict) else {"value": payload}))
        except (ValueError, TypeError, OverflowError, RecursionError, UnicodeEncodeError):
            continue  # not encodable as an event: a server could not have sent it either
    return frames


@st.composite
def broken(draw: st.DrawFn, frames: list[bytes]) -> bytes:
    """The frames as a stream body, maybe broken: an exception event, a bad CRC, a cut, garbage after."""
    frames = list(frames)
    if frames and draw(st.booleans()):
        at = draw(st.integers(0, len(frames) - 1))
        frame = bytearray(frames[at])
        frame[-1] ^= 0xFF  # the message CRC no longer matches
        frames[at] = bytes(frame)
    if draw(st.booleans()):
        frames.append(exception_frame(draw(EXCEPTIONS), draw(TEXT)))
    data = b"".join(frames)
    if data and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        data += draw(st.binary(max_size=40))
    return data


def _stream_case(frames: st.SearchStrategy[list[tuple[str, Any]]]) -> st.SearchStrategy[bytes]:
    return frames.map(_frames).flatmap(broken)


@given(data=_stream_case(CONVERSE_FRAMES), stop_after=st.none() | st.integers(0, 4))
def test_converse_streams(clients: Any, data: bytes, stop_after: int | None) -> None:
    runtime, _, distro = clients

    def app(record: Seen) -> Any:
        stream = runtime.client.converse_stream(modelId=CLAUDE, messages=MESSAGES)["stream"]
        for index, event in enumerate(stream):
            record.add(event)
            if index == stop_after:
                stream.close()  # the app stops early
                break
        return "done"

    same_with_and_without(distro, lambda: runtime.raw(data, headers=EVENT_STREAM), app)


@given(case=INVOKE_FRAMES.flatmap(lambda c: st.tuples(st.just(c[0]), broken(_frames(c[1])))))
def test_invoke_model_streams_of_every_family(clients: Any, case: tuple[str, bytes]) -> None:
    runtime, _, distro = clients
    model, data = case

    def app(record: Seen) -> Any:
        record.each(runtime.client.invoke_model_with_response_stream(modelId=model, body=b"{}")["body"])
        return "done"

    same_with_and_without(distro, lambda: runtime.raw(data, headers=EVENT_STREAM), app)


@given(data=_stream_case(AGENT_FRAMES))
def test_invoke_agent_streams(clients: Any, data: bytes) -> None:
    _, agent, distro = clients

    def app(record: Seen) -> Any:
        response = agent.client.invoke_agent(
            agentId="A1", agentAliasId="AL1", sessionId="s-1", inputText="book", enableTrace=True
        )
        record.each(response["completion"])
        return "done"

    same_with_and_without(distro, lambda: agent.raw(data, headers=EVENT_STREAM), app)

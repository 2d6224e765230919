"""An InvokeModel body is observed as the app reads it: every way of reading it, whole, cut and malformed.

Each case reads the same canned answer twice through a real boto3 client (see ``aws_stub``):
once uninstrumented, once through the patch as the distro wires it; what the app got (the
chunks, then the exception's class and message) must be the same, and the span must end
once with the outcome.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.response import StreamingBody

from otel_chatbot.instrumentation.bedrock.body import _observed_body_class
from tests.unit.instrumentation.aws_stub import AwsStub

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
REQUEST = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 40, "messages": [{"role": "user", "content": "hi"}]}
)
ANSWER = json.dumps(
    {
        "id": "msg_01",
        "model": "claude-3-haiku-20240307",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "hello\nthere, this is a reply long enough to be read in pieces"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 12},
    }
).encode()
USAGE = {"X-Amzn-Bedrock-Input-Token-Count": "10", "X-Amzn-Bedrock-Output-Token-Count": "12"}


def _read_loop(body: Any) -> list[bytes]:
    chunks = []
    while chunk := body.read(7):
        chunks.append(chunk)
    return chunks


def _readinto_loop(body: Any) -> list[bytes]:
    chunks, buffer = [], bytearray(11)
    while count := body.readinto(buffer):
        chunks.append(bytes(buffer[:count]))
    return chunks


def _raw(body: Any) -> list[bytes]:
    with body as raw:  # botocore hands out the urllib3 response itself
        return [raw.read()]


READS: dict[str, Callable[[Any], list[bytes]]] = {
    "read": lambda body: [body.read()],
    "read_n": _read_loop,
    "exact_length": lambda body: [body.read(len(ANSWER))],
    "iter_lines": lambda body: list(body.iter_lines()),
    "iter_chunks": lambda body: list(body.iter_chunks(16)),
    "iterate": list,
    "readinto": _readinto_loop,
    "readlines": lambda body: body.readlines(),
    "readline": lambda body: [body.readline()],
    "with_raw": _raw,
}

BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "whole": (ANSWER, {"content-length": str(len(ANSWER)), **USAGE}),
    "cut": (ANSWER[:100], {"content-length": str(len(ANSWER)), **USAGE}),
    "malformed": (ANSWER[:100], {"content-length": "100", **USAGE}),
    "unannounced": (ANSWER, USAGE),
    "empty": (b"", {"content-length": "0", **USAGE}),
}


def what_the_app_sees(runtime: AwsStub, data: bytes, headers: dict[str, str], read: Callable[[Any], Any]) -> Any:
    runtime.raw(data, headers=headers)
    body = runtime.client.invoke_model(modelId=MODEL, body=REQUEST)["body"]
    assert isinstance(body, StreamingBody)
    try:
        return "read", read(body)
    except Exception as exc:
        return "raised", type(exc).__module__, type(exc).__qualname__, str(exc)


@pytest.mark.parametrize("body", list(BODIES))
@pytest.mark.parametrize("read", list(READS))
def test_the_app_reads_what_it_would_without_us(kit_factory: Any, runtime: AwsStub, body: str, read: str) -> None:
    data, headers = BODIES[body]
    bare = what_the_app_sees(runtime, data, headers, READS[read])
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    seen = what_the_app_sees(runtime, data, headers, READS[read])
    assert seen == bare
    # a body whose end went unseen ends its span when dropped (refcounting: no collection needed)
    (span,) = kit.finished()
    attributes = dict(span.attributes)
    assert attributes["gen_ai.usage.input_tokens"] == 10  # Bedrock's usage headers, whatever the body did
    if seen[0] == "raised":
        assert attributes["error.type"] == seen[2]
        assert span.events[0].name == "exception"
    elif (body, read) in (("unannounced", "exact_length"), ("unannounced", "with_raw"), ("cut", "with_raw")):
        # No length announced and no empty read to say the body ended; or a raw read that came
        # up short without raising (this stub's raw stream is no socket): the end went unseen.
        assert attributes["error.type"] == "cancelled"
    elif read == "with_raw":
        assert "error.type" not in attributes  # read past us: recorded from the headers
    elif body == "malformed":
        assert attributes["error.type"] == "malformed_response"
    else:
        assert "error.type" not in attributes
        if body != "empty":
            assert attributes["gen_ai.response.id"] == "msg_01"  # parsed from the bytes the app read


def test_the_span_ends_when_the_app_has_read_the_body(kit_factory: Any, runtime: AwsStub) -> None:
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    runtime.raw(ANSWER, headers={"content-length": str(len(ANSWER)), **USAGE})
    response = runtime.client.invoke_model(modelId=MODEL, body=REQUEST)
    # botocore's internals as expected: the body is observed, not left unread
    assert type(response["body"]) is _observed_body_class(StreamingBody)
    assert kit.finished() == []
    response["body"].read(5)
    assert kit.finished() == []
    assert response["body"].read() == ANSWER[5:]
    (span,) = kit.finished()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert [p.count for p in kit.points("gen_ai.client.operation.duration")] == [1]


@pytest.mark.parametrize("how", ["close", "drop"])
def test_a_body_closed_or_dropped_early_is_cancelled_once(kit_factory: Any, runtime: AwsStub, how: str) -> None:
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    runtime.raw(ANSWER, headers={"content-length": str(len(ANSWER)), **USAGE})
    response = runtime.client.invoke_model(modelId=MODEL, body=REQUEST)
    response["body"].read(5)
    if how == "close":
        response["body"].close()
        response["body"].close()
    del response  # dropped: refcounting finalizes the body at once
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "cancelled"
    assert span.attributes["gen_ai.usage.output_tokens"] == 12
    assert [dict(p.attributes)["error.type"] for p in kit.points("gen_ai.client.operation.duration")] == ["cancelled"]


def test_a_body_of_a_class_we_do_not_know_is_left_to_the_app() -> None:
    """Only botocore's and aiobotocore's own body classes are re-issued; the call is then recorded from headers."""
    from otel_chatbot.instrumentation.bedrock.body import observe

    assert observe(io.BytesIO(ANSWER), None) is None  # type: ignore[arg-type]
    assert _observed_body_class(StreamingBody) is not None
    assert _observed_body_class(io.BytesIO) is None

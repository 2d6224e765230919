"""Rows of an operation table: exactly one way to get the answer, and streams say they end later."""

from __future__ import annotations

from typing import Any

import pytest

from otel_chatbot.genai.operations import Operation, StreamSpec
from otel_chatbot.genai.streams import ConverseStreamAccumulator
from otel_chatbot.genai.types import GenAIRequest, GenAIResponse


def request(params: Any) -> GenAIRequest:
    return GenAIRequest(operation_name="chat", provider_name="openai", model=params.get("model"))


def response(params: Any, result: Any) -> GenAIResponse:
    return GenAIResponse(response_id=result.get("id"))


STREAM = StreamSpec("stream", lambda params, capture: ConverseStreamAccumulator(capture_content=capture))


def test_a_row_with_a_response_ends_its_span_with_the_call() -> None:
    row = Operation(request=request, response=response)
    assert row.ends_span_later is False
    assert row.request({"model": "gpt-4o"}).model == "gpt-4o"
    assert row.response is not None and row.response({}, {"id": "r1"}).response_id == "r1"


def test_a_streamed_row_declares_that_its_span_ends_later() -> None:
    row = Operation(request=request, stream=STREAM)
    assert row.ends_span_later is True
    assert row.stream is not None and row.stream.accumulator({}, True).chunks == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"response": response, "stream": STREAM},
        {"stream": STREAM, "output_messages": lambda params, result: []},
        {"stream": STREAM, "buffered_body": "body"},
    ],
    ids=["neither", "both", "stream-with-output-extractor", "stream-with-buffered-body"],
)
def test_a_misdeclared_row_is_refused_where_it_is_written(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Operation"):
        Operation(request=request, **kwargs)

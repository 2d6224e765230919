"""The AWS SDK patch, fast: real boto3 clients answered in-process (see ``aws_stub``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from opentelemetry.instrumentation.utils import (
    is_http_instrumentation_enabled,
    suppress_http_instrumentation,
    suppress_instrumentation,
)

from otel_chatbot.instrumentation.botocore import BotocoreInstrumentation, BotocoreTelemetry, error_type_of
from tests.unit.instrumentation.aws_stub import REQUEST_ID, AwsStub

CONVERSE = {"modelId": "amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": [{"text": "hi"}]}]}
ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "hello"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
    "metrics": {"latencyMs": 5},
}


@pytest.fixture
def generic(kit_factory: Any) -> Iterator[Any]:
    """The patch with no service extensions."""
    kit = kit_factory()
    patch = BotocoreInstrumentation(BotocoreTelemetry(kit.instrumentations.pipelines.tracer_provider, {}))
    patch.apply_sync()
    yield kit
    patch.revert()


def test_a_call_is_one_client_span_with_the_aws_attributes(generic: Any, control: AwsStub) -> None:
    control.json({"modelSummaries": [{"modelArn": "arn:m", "modelId": "m"}]})
    assert control.client.list_foundation_models()["modelSummaries"][0]["modelId"] == "m"
    (span,) = generic.finished()
    assert span.name == "Bedrock.ListFoundationModels"
    assert span.kind.name == "CLIENT"
    assert dict(span.attributes) == {
        "rpc.system": "aws-api",
        "rpc.service": "Bedrock",
        "rpc.method": "ListFoundationModels",
        "cloud.region": "us-east-1",
        "aws.request_id": REQUEST_ID,
        "http.response.status_code": 200,
        "aws.retry_count": 0,
    }


def test_the_sdk_sends_with_http_instrumentation_suppressed_upstreams_way(generic: Any, control: AwsStub) -> None:
    control.error("AccessDeniedException", status=403)
    with pytest.raises(ClientError):
        control.client.list_foundation_models()
    assert control.http_enabled_at_send == [False], "an HTTP client instrumentation would add no span under ours"
    assert is_http_instrumentation_enabled(), "only for the call's duration"


def test_the_apps_error_passes_through_unchanged_and_marks_the_span(generic: Any, control: AwsStub) -> None:
    control.error("AccessDeniedException", status=403, message="denied")
    with pytest.raises(ClientError) as info:
        control.client.list_foundation_models()
    assert info.value.response["Error"] == {"Code": "AccessDeniedException", "Message": "denied"}
    (span,) = generic.finished()
    assert span.attributes["error.type"] == "AccessDeniedException" == error_type_of(info.value)
    assert span.attributes["http.response.status_code"] == 403
    assert span.status.status_code.name == "ERROR"
    assert [e.attributes["exception.type"] for e in span.events] == ["botocore.errorfactory.AccessDeniedException"]


def test_suppress_instrumentation_silences_the_aws_span_and_the_genai_metrics(wired: Any, runtime: AwsStub) -> None:
    runtime.json(ANSWER)
    with suppress_instrumentation():
        assert runtime.client.converse(**CONVERSE)["usage"]["outputTokens"] == 1
    assert wired.finished() == []
    assert wired.points("gen_ai.client.operation.duration") == []
    assert wired.points("gen_ai.client.token.usage") == []
    runtime.json(ANSWER)
    runtime.client.converse(**CONVERSE)
    assert len(wired.finished()) == 1, "only the block was suppressed"


def test_suppress_http_instrumentation_keeps_the_aws_span(wired: Any, runtime: AwsStub) -> None:
    """As upstream's botocore instrumentation: the AWS span is not an HTTP span."""
    runtime.json(ANSWER)
    with suppress_http_instrumentation():
        runtime.client.converse(**CONVERSE)
    (span,) = wired.finished()
    assert span.name == "chat amazon.nova-micro-v1:0"

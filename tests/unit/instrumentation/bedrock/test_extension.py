"""Every row of the Bedrock operation table, fast: real boto3 calls answered in-process.

Each test makes one real SDK call (botocore serializes, signs, parses the canned HTTP
answer; see ``aws_stub``) through the patch as the distro wires it, and checks the whole
span and the GenAI metrics. The e2e tests do the same against the local Bedrock server.
"""

from __future__ import annotations

import base64
import gc
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError, EventStreamError
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider, _Span
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_chatbot.genai.agents import time_ns
from otel_chatbot.genai.bedrock_operations import BEDROCK_OPERATIONS
from otel_chatbot.genai.operations import Operation
from otel_chatbot.genai.pricing import PriceTable
from otel_chatbot.genai.types import GenAIRequest, GenAIResponse, TokenUsage
from otel_chatbot.instrumentation.bedrock.extension import BedrockExtension
from otel_chatbot.instrumentation.botocore import BotocoreInstrumentation, BotocoreTelemetry
from otel_chatbot.instrumentation.genai.call import GenAITelemetry
from otel_chatbot.instrumentation.genai.capture import ContentCapture
from otel_chatbot.instrumentation.genai.metrics import GenAIMetrics
from tests.unit.fallbacks import FAST, TakesTheSpan
from tests.unit.instrumentation.aws_stub import REQUEST_ID, AwsStub

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "hi, mail me at jane@example.com"}]}]
AWS = {
    "rpc.system": "aws-api",
    "cloud.region": "us-east-1",
    "server.address": "bedrock-runtime.us-east-1.amazonaws.test",
    "aws.request_id": REQUEST_ID,
    "http.response.status_code": 200,
    "aws.retry_count": 0,
}
AGENT_AWS = {**AWS, "server.address": "bedrock-agent-runtime.us-east-1.amazonaws.test"}
CONVERSE_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "hello"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
    "metrics": {"latencyMs": 42},
}


def sums(kit: Any, metric: str) -> dict[tuple[tuple[str, Any], ...], float]:
    """Each point of ``metric`` as its sorted attributes → its sum (histograms) or value (counters)."""
    return {tuple(sorted(p.attributes.items())): getattr(p, "sum", None) or p.value for p in kit.points(metric)}


GENAI_CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "aws.bedrock",
    "gen_ai.request.model": MODEL,
}


def test_converse(wired: Any, runtime: AwsStub) -> None:
    runtime.json(CONVERSE_ANSWER)
    params = {"modelId": MODEL, "messages": MESSAGES, "inferenceConfig": {"maxTokens": 50, "temperature": 0.2}}
    assert runtime.client.converse(**params)["output"] == CONVERSE_ANSWER["output"]
    (span,) = wired.finished()
    assert span.name == f"chat {MODEL}"
    cost = span.attributes["gen_ai.usage.cost"]
    assert cost == pytest.approx((12 * 0.25 + 3 * 1.25) / 1e6)
    assert dict(span.attributes) == {
        **AWS,
        **GENAI_CHAT,
        "rpc.service": "Bedrock Runtime",
        "rpc.method": "Converse",
        "gen_ai.request.stream": False,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.response.finish_reasons": ("end_turn",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "aws.bedrock.server.latency_ms": 42,
        "gen_ai.usage.cost": cost,
    }
    metric = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "aws.bedrock", "gen_ai.request.model": MODEL}
    assert sums(wired, "gen_ai.client.token.usage") == {
        tuple(sorted({**metric, "gen_ai.token.type": "input"}.items())): 12,
        tuple(sorted({**metric, "gen_ai.token.type": "output"}.items())): 3,
    }
    assert sum(sums(wired, "gen_ai.client.cost").values()) == pytest.approx(cost)
    (duration,) = wired.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes) == metric


def stream_events(texts: list[str]) -> list[tuple[str, dict[str, Any]]]:
    deltas = [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}}) for text in texts]
    return [
        ("messageStart", {"role": "assistant"}),
        *deltas,
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": "max_tokens"}),
        ("metadata", {"usage": {"inputTokens": 7, "outputTokens": 9, "totalTokens": 16}, "metrics": {"latencyMs": 8}}),
    ]


def test_converse_stream_ends_its_span_when_the_stream_ends(wired: Any, runtime: AwsStub) -> None:
    runtime.events(stream_events(["Once", " upon", " a time"]))
    response = runtime.client.converse_stream(modelId=MODEL, messages=MESSAGES)
    assert wired.finished() == [], "the span stays open while the app reads the stream"
    events = list(response["stream"])
    assert [next(iter(e)) for e in events][:3] == ["messageStart", "contentBlockDelta", "contentBlockDelta"]
    (span,) = wired.finished()
    ttfc = span.attributes["gen_ai.response.time_to_first_chunk"]
    assert ttfc > 0
    assert dict(span.attributes) == {
        **AWS,
        **GENAI_CHAT,
        "rpc.service": "Bedrock Runtime",
        "rpc.method": "ConverseStream",
        "gen_ai.request.stream": True,
        "gen_ai.response.finish_reasons": ("max_tokens",),
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 9,
        "aws.bedrock.server.latency_ms": 8,
        "gen_ai.response.time_to_first_chunk": ttfc,
        "gen_ai.usage.cost": span.attributes["gen_ai.usage.cost"],
    }
    (first,) = wired.points("gen_ai.client.operation.time_to_first_chunk")
    assert first.sum == ttfc
    (per_chunk,) = wired.points("gen_ai.client.operation.time_per_output_chunk")
    assert per_chunk.count == 2, "the gaps after the first of three content chunks"


def test_converse_stream_in_stream_exception_and_early_close(wired: Any, runtime: AwsStub) -> None:
    runtime.events(stream_events(["a", "b"])[:2], exception="throttlingException")
    with pytest.raises(EventStreamError):
        list(runtime.client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
    runtime.events(stream_events(["a", "b"]))
    stream = runtime.client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"]
    next(iter(stream))
    stream.close()
    runtime.events(stream_events(["a"]))
    abandoned = runtime.client.converse_stream(modelId=MODEL, messages=MESSAGES)
    del abandoned
    gc.collect()
    failed, closed, dropped = wired.finished()
    assert failed.attributes["error.type"] == "ThrottlingException"
    assert failed.status.status_code.name == "ERROR"
    assert closed.attributes["error.type"] == dropped.attributes["error.type"] == "cancelled"
    assert sums(wired, "gen_ai.client.throttles") == {tuple(sorted(GENAI_CHAT.items())): 1}


ANTHROPIC_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 40,
    "messages": [{"role": "user", "content": "hi"}],
}
ANTHROPIC_ANSWER = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-3-haiku-20240307",
    "content": [{"type": "text", "text": "Hello!"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 10, "output_tokens": 4},
}
INVOKE_HEADERS = {
    "content-type": "application/json",
    "X-Amzn-Bedrock-Input-Token-Count": "10",
    "X-Amzn-Bedrock-Output-Token-Count": "4",
    "X-Amzn-Bedrock-Invocation-Latency": "321",
}


def test_invoke_model_reads_the_body_and_hands_the_app_an_identical_one(wired: Any, runtime: AwsStub) -> None:
    raw = json.dumps(ANTHROPIC_ANSWER).encode()
    runtime.raw(raw, headers=INVOKE_HEADERS)
    response = runtime.client.invoke_model(modelId=MODEL, body=json.dumps(ANTHROPIC_BODY))
    assert response["body"].read() == raw
    (span,) = wired.finished()
    assert dict(span.attributes) == {
        **AWS,
        **GENAI_CHAT,
        "rpc.service": "Bedrock Runtime",
        "rpc.method": "InvokeModel",
        "gen_ai.request.stream": False,
        "gen_ai.request.max_tokens": 40,
        "gen_ai.response.id": "msg_01",
        "gen_ai.response.model": "claude-3-haiku-20240307",
        "gen_ai.response.finish_reasons": ("end_turn",),
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 4,
        "aws.bedrock.invocation.latency_ms": 321,
        "gen_ai.usage.cost": span.attributes["gen_ai.usage.cost"],
    }


def test_invoke_model_with_response_stream(wired: Any, runtime: AwsStub) -> None:
    chunks = [
        {"type": "message_start", "message": {"id": "msg_02", "model": "claude-3-haiku", "usage": {"input_tokens": 6}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 6,
                "outputTokenCount": 2,
                "invocationLatency": 55,
                "firstByteLatency": 11,
            },
        },
    ]
    runtime.events([("chunk", {"bytes": base64.b64encode(json.dumps(c).encode()).decode()}) for c in chunks])
    response = runtime.client.invoke_model_with_response_stream(modelId=MODEL, body=json.dumps(ANTHROPIC_BODY))
    assert len(list(response["body"])) == 5
    (span,) = wired.finished()
    assert dict(span.attributes) == {
        **AWS,
        **GENAI_CHAT,
        "rpc.service": "Bedrock Runtime",
        "rpc.method": "InvokeModelWithResponseStream",
        "gen_ai.request.max_tokens": 40,
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "msg_02",
        "gen_ai.response.model": "claude-3-haiku",
        "gen_ai.response.finish_reasons": ("end_turn",),
        "gen_ai.usage.input_tokens": 6,
        "gen_ai.usage.output_tokens": 2,
        "aws.bedrock.invocation.latency_ms": 55,
        "aws.bedrock.invocation.first_byte_latency_ms": 11,
        "gen_ai.response.time_to_first_chunk": span.attributes["gen_ai.response.time_to_first_chunk"],
        "gen_ai.usage.cost": span.attributes["gen_ai.usage.cost"],
    }


def test_apply_guardrail(wired: Any, runtime: AwsStub) -> None:
    runtime.json({"usage": {}, "action": "GUARDRAIL_INTERVENED", "outputs": [{"text": "blocked"}], "assessments": []})
    runtime.client.apply_guardrail(
        guardrailIdentifier="gr-1", guardrailVersion="2", source="INPUT", content=[{"text": {"text": "bad"}}]
    )
    (span,) = wired.finished()
    assert span.name == "apply_guardrail gr-1"
    assert dict(span.attributes) == {
        **AWS,
        "rpc.service": "Bedrock Runtime",
        "rpc.method": "ApplyGuardrail",
        "gen_ai.operation.name": "apply_guardrail",
        "gen_ai.provider.name": "aws.bedrock",
        "aws.bedrock.guardrail.id": "gr-1",
        "aws.bedrock.guardrail.version": "2",
        "aws.bedrock.guardrail.intervened": True,
    }


def test_throttled_call_passes_the_error_through_and_counts_it(wired: Any, runtime: AwsStub) -> None:
    runtime.error("ThrottlingException", status=429)
    with pytest.raises(ClientError) as info:
        runtime.client.converse(modelId=MODEL, messages=MESSAGES)
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    (span,) = wired.finished()
    assert span.attributes["error.type"] == "ThrottlingException"
    assert span.attributes["gen_ai.request.model"] == MODEL
    assert sums(wired, "gen_ai.client.throttles") == {tuple(sorted(GENAI_CHAT.items())): 1}
    (duration,) = wired.points("gen_ai.client.operation.duration")
    assert dict(duration.attributes) == {**GENAI_CHAT, "error.type": "ThrottlingException"}


def test_an_operation_not_in_the_table_gets_the_aws_span_only(wired: Any, runtime: AwsStub) -> None:
    runtime.json({"inputTokens": 5})
    runtime.client.count_tokens(modelId=MODEL, input={"converse": {"messages": MESSAGES}})
    (span,) = wired.finished()
    assert span.name == "Bedrock Runtime.CountTokens"
    assert not [key for key in span.attributes if key.startswith("gen_ai.")]
    assert wired.points("gen_ai.client.operation.duration") == []


def test_content_is_captured_redacted_only_when_opted_in(kit_factory: Any, runtime: AwsStub) -> None:
    kit = kit_factory(capture_message_content=True)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    runtime.json(CONVERSE_ANSWER)
    runtime.client.converse(modelId=MODEL, messages=MESSAGES)
    runtime.events(stream_events(["Once", " upon"]))
    list(runtime.client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
    runtime.raw(json.dumps(ANTHROPIC_ANSWER).encode(), headers=INVOKE_HEADERS)
    runtime.client.invoke_model(modelId=MODEL, body=json.dumps(ANTHROPIC_BODY))["body"].read()
    converse, stream, invoke = kit.finished()
    inputs = json.loads(converse.attributes["gen_ai.input.messages"])
    assert inputs == [{"role": "user", "parts": [{"type": "text", "content": "hi, mail me at [REDACTED]"}]}]
    assert json.loads(converse.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "hello"}], "finish_reason": "stop"}
    ]
    assert json.loads(stream.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Once upon"}], "finish_reason": "length"}
    ]
    assert json.loads(invoke.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    ]
    assert json.loads(invoke.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello!"}], "finish_reason": "stop"}
    ]


def test_retrieve_and_retrieve_and_generate(wired: Any, agent: AwsStub) -> None:
    agent.json({"retrievalResults": [{"content": {"text": "a"}}, {"content": {"text": "b"}}]})
    agent.client.retrieve(knowledgeBaseId="KB12345678", retrievalQuery={"text": "q"})
    agent.json(
        {"output": {"text": "answer"}, "sessionId": "sess-7", "citations": [{"retrievedReferences": []}]},
    )
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL}"
    agent.client.retrieve_and_generate(
        input={"text": "q"},
        retrieveAndGenerateConfiguration={
            "type": "KNOWLEDGE_BASE",
            "knowledgeBaseConfiguration": {"knowledgeBaseId": "KB12345678", "modelArn": arn},
        },
    )
    retrieve, rag = wired.finished()
    assert retrieve.name == "retrieval KB12345678"
    assert dict(retrieve.attributes) == {
        **AGENT_AWS,
        "rpc.service": "Bedrock Agent Runtime",
        "rpc.method": "Retrieve",
        "gen_ai.operation.name": "retrieval",
        "gen_ai.provider.name": "aws.bedrock",
        "aws.bedrock.knowledge_base.id": "KB12345678",
        "gen_ai.data_source.id": "KB12345678",
        "aws.bedrock.retrieval.result_count": 2,
    }
    assert rag.name == f"retrieve_and_generate {MODEL}"
    assert dict(rag.attributes) == {
        **AGENT_AWS,
        "rpc.service": "Bedrock Agent Runtime",
        "rpc.method": "RetrieveAndGenerate",
        "gen_ai.operation.name": "retrieve_and_generate",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": MODEL,
        "aws.bedrock.knowledge_base.id": "KB12345678",
        "gen_ai.data_source.id": "KB12345678",
        "gen_ai.conversation.id": "sess-7",
        "aws.bedrock.retrieve_and_generate.citation_count": 1,
    }


def agent_trace(inner: dict[str, Any], at: datetime) -> tuple[str, dict[str, Any]]:
    return (
        "trace",
        {"agentId": "AG1", "agentAliasId": "AL1", "sessionId": "s-1", "eventTime": at.isoformat(), "trace": inner},
    )


def invoke_agent_with_one_model_step(agent: AwsStub, began: datetime, ended: datetime) -> Any:
    """InvokeAgent answered with a model step Bedrock timed ``began``..``ended`` and the answer "The answer."."""
    model_input = {"traceId": "t-0", "type": "ORCHESTRATION", "foundationModel": MODEL}
    model_output = {
        "traceId": "t-0",
        "metadata": {"usage": {"inputTokens": 100, "outputTokens": 20}, "startTime": began.isoformat()},
    }
    agent.events(
        [
            agent_trace({"orchestrationTrace": {"modelInvocationInput": model_input}}, began),
            agent_trace({"orchestrationTrace": {"modelInvocationOutput": model_output}}, ended),
            ("chunk", {"bytes": base64.b64encode(b"The answer.").decode()}),
        ]
    )
    return agent.client.invoke_agent(
        agentId="AG1", agentAliasId="AL1", sessionId="s-1", inputText="q", enableTrace=True
    )


def test_invoke_agent_span_and_its_trace_steps_at_bedrocks_times(wired: Any, agent: AwsStub) -> None:
    # Bedrock's times for the model step fall shortly after the call starts; the app reads the
    # stream later, so they lie inside the InvokeAgent span.
    began = datetime.now(timezone.utc) + timedelta(milliseconds=150)
    ended = began + timedelta(milliseconds=40)
    response = invoke_agent_with_one_model_step(agent, began, ended)
    time.sleep(0.25)
    assert b"".join(e["chunk"]["bytes"] for e in response["completion"] if "chunk" in e) == b"The answer."
    step, parent = wired.finished()
    assert parent.name == "invoke_agent AG1"
    assert dict(parent.attributes) == {
        **AGENT_AWS,
        "rpc.service": "Bedrock Agent Runtime",
        "rpc.method": "InvokeAgent",
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.agent.id": "AG1",
        "aws.bedrock.agent.alias.id": "AL1",
        "gen_ai.conversation.id": "s-1",
        "gen_ai.request.stream": True,
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.response.time_to_first_chunk": parent.attributes["gen_ai.response.time_to_first_chunk"],
    }
    assert step.name == f"chat {MODEL}"
    assert step.parent.span_id == parent.context.span_id
    assert step.kind.name == "INTERNAL"
    assert step.attributes["gen_ai.usage.output_tokens"] == 20
    assert (step.start_time, step.end_time) == (time_ns(began), time_ns(ended))  # metadata start, closing eventTime
    assert parent.start_time < step.start_time < step.end_time < parent.end_time


def count_tokens_request(params: Mapping[str, Any]) -> GenAIRequest:
    return GenAIRequest(operation_name="count_tokens", provider_name="aws.bedrock", model=params.get("modelId"))


def count_tokens_response(params: Mapping[str, Any], result: Mapping[str, Any]) -> GenAIResponse:
    return GenAIResponse(usage=TokenUsage(uncached_input_tokens=result.get("inputTokens")))


def test_adding_an_operation_is_adding_a_row(kit_factory: Any, runtime: AwsStub) -> None:
    kit = kit_factory()
    p = kit.instrumentations.pipelines
    meter = p.meter_provider.get_meter("test")
    telemetry = GenAITelemetry(
        p.tracer_provider.get_tracer("test"), GenAIMetrics(meter, PriceTable.default()), ContentCapture(False, 1024, ())
    )
    row = Operation(request=count_tokens_request, response=count_tokens_response)
    extension = BedrockExtension(telemetry, {**BEDROCK_OPERATIONS, "CountTokens": row})
    patch = BotocoreInstrumentation(BotocoreTelemetry(p.tracer_provider, {"bedrock-runtime": extension}))
    patch.apply_sync()
    try:
        runtime.json({"inputTokens": 5})
        runtime.client.count_tokens(modelId=MODEL, input={"converse": {"messages": MESSAGES}})
    finally:
        patch.revert()
    (span,) = kit.finished()
    assert span.name == f"count_tokens {MODEL}"
    assert span.attributes["gen_ai.usage.input_tokens"] == 5
    assert span.attributes["rpc.method"] == "CountTokens"
    (tokens,) = kit.points("gen_ai.client.token.usage")
    assert (tokens.sum, tokens.attributes["gen_ai.operation.name"]) == (5, "count_tokens")


# --- the GenAI spans' ends: handed over as themselves where every processor takes them ---------


def _invoke_model_read(runtime: AwsStub, agent: AwsStub) -> None:  # ended by the body, once read
    runtime.raw(json.dumps(ANTHROPIC_ANSWER).encode(), headers=INVOKE_HEADERS)
    runtime.client.invoke_model(modelId=MODEL, body=json.dumps(ANTHROPIC_BODY))["body"].read()


def _invoke_model_closed_early(runtime: AwsStub, agent: AwsStub) -> None:  # ended by the body, cancelled
    runtime.raw(json.dumps(ANTHROPIC_ANSWER).encode(), headers=INVOKE_HEADERS)
    body = runtime.client.invoke_model(modelId=MODEL, body=json.dumps(ANTHROPIC_BODY))["body"]
    body.read(5)
    body.close()


def _converse_stream(runtime: AwsStub, agent: AwsStub) -> None:
    runtime.events(stream_events(["Once", " upon"]))
    list(runtime.client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])


def _invoke_agent_with_a_step(runtime: AwsStub, agent: AwsStub) -> int:
    """The step's end is the closing trace event's time, inside the call (the app reads 40 ms later)."""
    began = datetime.now(timezone.utc) + timedelta(milliseconds=20)
    step_end = began + timedelta(milliseconds=5)
    response = invoke_agent_with_one_model_step(agent, began, step_end)
    time.sleep(0.04)
    list(response["completion"])
    return time_ns(step_end)


GENAI_ENDS: dict[str, tuple[Callable[[AwsStub, AwsStub], int | None], list[str]]] = {
    "invoke_model read": (_invoke_model_read, ["InvokeModel"]),
    "invoke_model closed early": (_invoke_model_closed_early, ["InvokeModel"]),
    "converse_stream": (_converse_stream, ["ConverseStream"]),
    "invoke_agent with a step": (_invoke_agent_with_a_step, ["step", "InvokeAgent"]),
}


@pytest.mark.parametrize("another_processor", [False, True], ids=["ours only", "and one that wants the copy"])
@pytest.mark.parametrize("case", list(GENAI_ENDS))
def test_a_genai_span_reaches_a_processor_that_takes_it_as_itself(
    runtime: AwsStub, agent: AwsStub, case: str, another_processor: bool
) -> None:
    taker, copies = TakesTheSpan(), InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(taker)
    if another_processor:
        provider.add_span_processor(SimpleSpanProcessor(copies))
    telemetry = GenAITelemetry(
        provider.get_tracer("otel_chatbot.bedrock"),
        GenAIMetrics(MeterProvider().get_meter("test"), PriceTable.default()),
        ContentCapture(False, 1024, ()),
    )
    extension = BedrockExtension(telemetry, BEDROCK_OPERATIONS)
    services = {"bedrock-runtime": extension, "bedrock-agent-runtime": extension}
    patch = BotocoreInstrumentation(BotocoreTelemetry(provider, services))
    patch.apply_sync()
    run, methods = GENAI_ENDS[case]
    try:
        step_end = run(runtime, agent)
    finally:
        patch.revert()
    ended = taker.ended
    # each span ended once, in order, with what was recorded before its end
    assert [s.attributes.get("rpc.method", "step") for s in ended] == methods
    assert all(s.end_time is not None and s.end_time >= s.start_time for s in ended)
    assert all(s.attributes["gen_ai.operation.name"] for s in ended)
    if case == "invoke_model closed early":
        assert ended[0].attributes["error.type"] == "cancelled"
    as_itself = FAST and not another_processor
    assert [type(s) is _Span for s in ended] == [as_itself] * len(ended)
    if not as_itself:
        assert all(type(s) is ReadableSpan for s in ended)  # the SDK's read-only copy, as before
    if another_processor:
        assert [s.name for s in copies.get_finished_spans()] == [s.name for s in ended]
    if case == "invoke_agent with a step":
        step, parent = ended
        assert step.end_time == step_end  # passed explicitly, as the parent's is
        assert step.parent.span_id == parent.context.span_id
        assert parent.start_time < step.end_time < parent.end_time

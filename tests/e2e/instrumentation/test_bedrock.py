"""Bedrock GenAI spans and metrics from real boto3 calls to the local Bedrock server."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi import Request

from otel_chatbot.testing.bedrock import BedrockServer

pytestmark = pytest.mark.e2e

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def bedrock_client(server: BedrockServer, service: str, config: Config | None = None) -> Any:
    """A real boto3 client of ``service`` pointed at the local server, with test credentials."""
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[BedrockServer]:
    with BedrockServer() as srv:
        yield srv


@pytest.fixture
def runtime(server: BedrockServer, kit_factory: Any) -> Iterator[tuple[Any, Any]]:
    server.reset()
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    client = bedrock_client(server, "bedrock-runtime", NO_RETRY)
    yield kit, client
    client.close()


def converse_params(text: str = "hello there") -> dict[str, Any]:
    return {
        "modelId": MODEL,
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.2},
    }


def test_converse_span_follows_genai_conventions(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    response = client.converse(**converse_params())
    (span,) = kit.finished()
    attrs = dict(span.attributes)
    assert span.name == f"chat {MODEL}"
    assert span.kind.name == "CLIENT"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["gen_ai.request.max_tokens"] == 50
    assert attrs["rpc.system"] == "aws-api"
    assert attrs["rpc.method"] == "Converse"
    assert attrs["cloud.region"] == "us-east-1"
    assert attrs["aws.request_id"] == response["ResponseMetadata"]["RequestId"]
    totals = server.ledger.totals()
    assert attrs["gen_ai.usage.input_tokens"] == totals.input_tokens == response["usage"]["inputTokens"]
    assert attrs["gen_ai.usage.output_tokens"] == totals.output_tokens
    assert attrs["gen_ai.usage.cost"] > 0
    assert "gen_ai.input.messages" not in attrs  # private by default
    usage = {dict(p.attributes)["gen_ai.token.type"]: p.sum for p in kit.points("gen_ai.client.token.usage")}
    assert usage == {"input": totals.input_tokens, "output": totals.output_tokens}


def test_stream_span_ends_once_with_time_to_first_chunk(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    response = client.converse_stream(**converse_params("tell me a story"))
    events = list(response["stream"])
    assert any("contentBlockDelta" in e for e in events)
    (span,) = kit.finished()
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert span.attributes["gen_ai.usage.output_tokens"] == server.ledger.totals().output_tokens
    assert len(kit.points("gen_ai.client.operation.time_to_first_chunk")) == 1
    (per_chunk,) = kit.points("gen_ai.client.operation.time_per_output_chunk")
    deltas = sum(1 for e in events if "contentBlockDelta" in e)
    assert per_chunk.count == deltas - 1  # the gaps between content chunks, after the first


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the broken socket is the caller's
def test_stream_cut_midway_ends_the_span_with_the_error(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    server.inject("stream_cut", after_events=2)
    response = client.converse_stream(**converse_params())
    with pytest.raises(Exception):  # noqa: B017 - whatever botocore raises must pass through unchanged
        list(response["stream"])
    response["stream"].close()
    gc.collect()  # the broken connection's socket is finalised here, under this test's warning filter
    (span,) = kit.finished()
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped socket is the app's
def test_abandoned_stream_still_ends_its_span(runtime: tuple[Any, Any]) -> None:
    kit, client = runtime
    response = client.converse_stream(**converse_params())
    iterator = iter(response["stream"])
    next(iterator)
    del iterator, response
    gc.collect()
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "cancelled"


def test_throttling_is_counted_and_the_error_passes_through(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    server.inject("throttle")
    with pytest.raises(ClientError) as info:
        client.converse(**converse_params())
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "ThrottlingException"
    (throttles,) = kit.points("gen_ai.client.throttles")
    assert throttles.value == 1


def test_invoke_model_body_is_untouched_and_tokens_exact(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 40,
        "messages": [{"role": "user", "content": "what is observability"}],
    }
    response = client.invoke_model(modelId=MODEL, body=json.dumps(body))
    payload = json.loads(response["body"].read())
    (span,) = kit.finished()
    assert span.attributes["gen_ai.usage.output_tokens"] == payload["usage"]["output_tokens"]
    assert span.attributes["gen_ai.usage.input_tokens"] == server.ledger.totals().input_tokens


def test_conversation_content_is_captured_only_when_opted_in(server: BedrockServer, kit_factory: Any) -> None:
    kit = kit_factory(capture_message_content=True)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    client = bedrock_client(server, "bedrock-runtime")
    client.converse(**converse_params("mail me at jane@example.com please"))
    client.close()
    (span,) = kit.finished()
    captured = span.attributes["gen_ai.input.messages"]
    assert "jane@example.com" not in captured
    assert json.loads(captured)[0]["role"] == "user"


def agent_client(server: BedrockServer) -> Any:
    return bedrock_client(server, "bedrock-agent-runtime", NO_RETRY)


def test_invoke_agent_span_with_conversation_and_trace_children(
    runtime: tuple[Any, Any], server: BedrockServer
) -> None:
    kit, _ = runtime
    client = agent_client(server)
    response = client.invoke_agent(
        agentId="AGENT1",
        agentAliasId="ALIAS1",
        sessionId="sess-9",
        inputText="search the knowledge base for pricing",
        enableTrace=True,
    )
    text = "".join(e["chunk"]["bytes"].decode() for e in response["completion"] if "chunk" in e)
    client.close()
    assert text
    spans = kit.finished()
    agent = next(s for s in spans if s.attributes.get("gen_ai.operation.name") == "invoke_agent")
    assert agent.name == "invoke_agent AGENT1"
    assert agent.attributes["gen_ai.agent.id"] == "AGENT1"
    assert agent.attributes["gen_ai.conversation.id"] == "sess-9"
    children = [s for s in spans if s.parent is not None and s.parent.span_id == agent.context.span_id]
    assert children, "trace events became child spans"
    in_order = sorted(children, key=lambda c: c.start_time)  # at the stand-in's eventTimes, in trace order
    assert [c.attributes["gen_ai.operation.name"] for c in in_order] == ["chat", "retrieval", "chat"]
    for child in children:
        assert agent.start_time <= child.start_time <= child.end_time <= agent.end_time


def test_retrieve_span_names_the_knowledge_base(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, _ = runtime
    client = agent_client(server)
    client.retrieve(knowledgeBaseId="KBID123456", retrievalQuery={"text": "pricing"})
    client.close()
    (span,) = kit.finished()
    assert span.attributes["gen_ai.operation.name"] == "retrieval"
    assert span.attributes["aws.bedrock.knowledge_base.id"] == "KBID123456"


def test_aiobotocore_converse_and_stream(server: BedrockServer, kit_factory: Any) -> None:
    import asyncio

    from aiobotocore.session import get_session

    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)

    async def go() -> int:
        session = get_session()
        async with session.create_client(
            "bedrock-runtime",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ) as client:
            await client.converse(**converse_params())
            response = await client.converse_stream(**converse_params("stream please"))
            count = 0
            async for _event in response["stream"]:
                count += 1
            return count

    assert asyncio.run(go()) > 0
    spans = kit.finished()
    assert [s.name for s in spans] == [f"chat {MODEL}", f"chat {MODEL}"]
    assert all(s.attributes["gen_ai.usage.output_tokens"] > 0 for s in spans)
    assert not [s for s in spans if s.attributes.get("http.request.method")], "no HTTP span under the AWS span"


def test_conversation_id_flows_from_the_http_request(server: BedrockServer, kit_factory: Any) -> None:
    import asyncio

    import httpx
    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool

    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    client = bedrock_client(server, "bedrock-runtime")
    app = FastAPI()

    @app.post("/chat/{session_id}")
    async def chat(session_id: str) -> dict[str, str]:
        await run_in_threadpool(client.converse, **converse_params())
        return {"ok": session_id}

    kit.instrumentations.instrument_app(app)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.post("/chat/path-id")
            await http.post("/chat/other", headers={"x-conversation-id": "header-id"})

    asyncio.run(go())
    client.close()
    bedrock = [s for s in kit.finished() if s.kind.name == "CLIENT"]
    assert [s.attributes["gen_ai.conversation.id"] for s in bedrock] == ["path-id", "header-id"]
    for point in kit.points("gen_ai.client.operation.duration"):
        assert "gen_ai.conversation.id" not in point.attributes


FAMILY_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    (
        "anthropic.claude-3-haiku-20240307-v1:0",
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 30,
            "messages": [{"role": "user", "content": "hi there"}],
        },
    ),
    (
        "amazon.nova-lite-v1:0",
        {
            "schemaVersion": "messages-v1",
            "messages": [{"role": "user", "content": [{"text": "hi there"}]}],
            "inferenceConfig": {"maxTokens": 30},
        },
    ),
    ("amazon.titan-text-express-v1", {"inputText": "hi there", "textGenerationConfig": {"maxTokenCount": 30}}),
    ("meta.llama3-8b-instruct-v1:0", {"prompt": "hi there", "max_gen_len": 30}),
    ("cohere.command-r-v1:0", {"message": "hi there", "max_tokens": 30}),
    ("mistral.mistral-7b-instruct-v0:2", {"prompt": "<s>[INST] hi there [/INST]", "max_tokens": 30}),
    ("ai21.jamba-1-5-mini-v1:0", {"messages": [{"role": "user", "content": "hi there"}], "max_tokens": 30}),
]


@pytest.mark.parametrize(
    ("model", "body"), FAMILY_REQUESTS, ids=[m.split(".")[0] + "." + m.split(".")[1][:8] for m, _ in FAMILY_REQUESTS]
)
def test_invoke_model_tokens_equal_what_bedrock_returned(
    runtime: tuple[Any, Any], server: BedrockServer, model: str, body: dict[str, Any]
) -> None:
    kit, client = runtime
    client.invoke_model(modelId=model, body=json.dumps(body))["body"].read()
    streamed = client.invoke_model_with_response_stream(modelId=model, body=json.dumps(body))
    for _event in streamed["body"]:
        pass
    totals = server.ledger.totals()
    spans = kit.finished()
    assert len(spans) == 2
    assert sum(s.attributes["gen_ai.usage.input_tokens"] for s in spans) == totals.input_tokens
    assert sum(s.attributes["gen_ai.usage.output_tokens"] for s in spans) == totals.output_tokens
    usage: dict[str, int] = {}
    for point in kit.points("gen_ai.client.token.usage"):
        token_type = dict(point.attributes)["gen_ai.token.type"]
        usage[token_type] = usage.get(token_type, 0) + point.sum
    assert usage == {"input": totals.input_tokens, "output": totals.output_tokens}


def test_malformed_body_reaches_the_app_unchanged(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    server.inject("malformed")
    model, body = FAMILY_REQUESTS[0]
    raw = client.invoke_model(modelId=model, body=json.dumps(body))["body"].read()
    with pytest.raises(ValueError):
        json.loads(raw)
    (span,) = kit.finished()
    assert span.attributes["gen_ai.request.model"] == model


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("server_error", "InternalServerException"),
        ("unavailable", "ServiceUnavailableException"),
        ("timeout", "ModelTimeoutException"),
    ],
)
def test_service_errors_pass_through_with_error_type(
    runtime: tuple[Any, Any], server: BedrockServer, fault: str, code: str
) -> None:
    kit, client = runtime
    server.inject(fault)
    with pytest.raises(ClientError) as info:
        client.converse(**converse_params())
    assert info.value.response["Error"]["Code"] == code
    (span,) = kit.finished()
    assert span.attributes["error.type"] == code
    (point,) = kit.points("gen_ai.client.operation.duration")
    assert dict(point.attributes)["error.type"] == code


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the broken socket is the caller's
def test_in_stream_exception_ends_the_span_with_its_type(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    server.inject("stream_exception", after_events=2, exception="throttlingException")
    response = client.converse_stream(**converse_params())
    with pytest.raises(Exception):  # noqa: B017 - botocore's own EventStreamError, passed through
        list(response["stream"])
    response["stream"].close()
    gc.collect()  # the broken connection's socket is finalised here, under this test's warning filter
    (span,) = kit.finished()
    assert span.attributes["error.type"] == "ThrottlingException"  # the service's code, as when the call is rejected
    assert span.status.status_code.name == "ERROR"
    (throttles,) = kit.points("gen_ai.client.throttles")
    assert throttles.value == 1


def test_apply_guardrail_records_the_intervention(runtime: tuple[Any, Any]) -> None:
    kit, client = runtime
    response = client.apply_guardrail(
        guardrailIdentifier="gr-123",
        guardrailVersion="1",
        source="INPUT",
        content=[{"text": {"text": "this is forbidden talk"}}],
    )
    (span,) = kit.finished()
    assert span.attributes["gen_ai.operation.name"] == "apply_guardrail"
    assert span.attributes["aws.bedrock.guardrail.id"] == "gr-123"
    assert span.attributes["aws.bedrock.guardrail.intervened"] is (response["action"] == "GUARDRAIL_INTERVENED")
    assert response["action"] == "GUARDRAIL_INTERVENED"


def test_retrieve_and_generate_names_model_and_session(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, _ = runtime
    client = agent_client(server)
    arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    response = client.retrieve_and_generate(
        input={"text": "what does it cost"},
        retrieveAndGenerateConfiguration={
            "type": "KNOWLEDGE_BASE",
            "knowledgeBaseConfiguration": {"knowledgeBaseId": "KBID123456", "modelArn": arn},
        },
    )
    client.close()
    (span,) = kit.finished()
    assert span.attributes["aws.bedrock.knowledge_base.id"] == "KBID123456"
    assert span.attributes["gen_ai.request.model"] == "anthropic.claude-3-haiku-20240307-v1:0"
    assert span.attributes["gen_ai.conversation.id"] == response["sessionId"]


def test_slow_response_is_timed(runtime: tuple[Any, Any], server: BedrockServer) -> None:
    kit, client = runtime
    server.inject("slow", delay_s=0.3)
    client.converse(**converse_params())
    (point,) = kit.points("gen_ai.client.operation.duration")
    assert point.sum >= 0.3


def test_pricing_file_and_redaction_patterns_come_from_settings(
    server: BedrockServer, kit_factory: Any, tmp_path: Any
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"models": {"anthropic.claude-3-5-haiku-20241022-v1:0": {"input": 1000.0, "output": 2000.0}}})
    )
    kit = kit_factory(pricing_file=str(prices), capture_message_content=True, redact_patterns=r"ORDER-\d+")
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    client = bedrock_client(server, "bedrock-runtime")
    response = client.converse(**converse_params("where is ORDER-12345 now"))
    client.close()
    (span,) = kit.finished()
    usage = response["usage"]
    expected = (usage["inputTokens"] * 1000.0 + usage["outputTokens"] * 2000.0) / 1_000_000
    assert span.attributes["gen_ai.usage.cost"] == pytest.approx(expected)
    assert "ORDER-12345" not in span.attributes["gen_ai.input.messages"]


def test_conversation_id_from_a_json_body_field(server: BedrockServer, kit_factory: Any) -> None:
    import asyncio

    import httpx
    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool

    kit = kit_factory(conversation_id_sources="body:session")
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    client = bedrock_client(server, "bedrock-runtime")
    app = FastAPI()

    @app.post("/chat")
    async def chat(request: Request) -> dict[str, str]:
        body = await request.json()
        await run_in_threadpool(client.converse, **converse_params(body["message"]))
        return {"ok": "yes"}

    kit.instrumentations.instrument_app(app)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post("/chat", json={"session": "from-body", "message": "hi"})
            assert response.status_code == 200, response.text

    asyncio.run(go())
    client.close()
    (bedrock,) = [s for s in kit.finished() if s.kind.name == "CLIENT"]
    assert bedrock.attributes["gen_ai.conversation.id"] == "from-body"

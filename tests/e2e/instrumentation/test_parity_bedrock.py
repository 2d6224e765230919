"""Every Bedrock operation, whole and broken, shows the app the same with and without the distro.

Each case is an app's own code against the local Bedrock stand-in with a fault queued: it
calls boto3 (or aiobotocore), reads the body or iterates the stream as apps do, and
:func:`~tests.app_view.seen` records every return value, event and exception (module,
class, message). The case runs uninstrumented, then instrumented as the distro wires it,
and the two records must be equal. Then the telemetry: each span the call opened has
ended, the GenAI span names the outcome in ``error.type``, and nothing of ours logged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from otel_chatbot.testing.bedrock import BedrockServer
from tests.app_view import Seen, failure, seen, with_and_without
from tests.e2e.instrumentation.test_bedrock import FAMILY_REQUESTS

pytestmark = pytest.mark.e2e

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "tell me about observability"}]}]
CLAUDE, CLAUDE_BODY = FAMILY_REQUESTS[0]
NOVA, NOVA_BODY = FAMILY_REQUESTS[1]
KB_ARN = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"


def _kinds(value: Any) -> Any:
    """A call's result as the app can inspect it: plain values as they are, SDK objects by the types they are."""
    if isinstance(value, dict):
        return {k: _kinds(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool | list | bytes):
        return value
    from botocore.eventstream import EventStream
    from botocore.response import StreamingBody

    return {"<is a>": [t.__name__ for t in (StreamingBody, EventStream, *_aio_types()) if isinstance(value, t)]}


def _aio_types() -> tuple[type, ...]:
    from aiobotocore.eventstream import AioEventStream
    from aiobotocore.response import StreamingBody

    return (AioEventStream, StreamingBody)


class Clients:
    """Sync clients, and aiobotocore's on an event loop of their own (a client is made once: it costs a second)."""

    def __init__(self, server: BedrockServer) -> None:
        self.server = server
        kwargs = {**server.client_kwargs(), "config": NO_RETRY}
        self.runtime = boto3.client("bedrock-runtime", **kwargs)
        self.agent = boto3.client("bedrock-agent-runtime", **kwargs)
        self.loop = asyncio.new_event_loop()
        self._aio_context: Any = None
        self.aio: Any = None

    def run(self, coroutine: Any) -> Any:
        if self.aio is None:
            from aiobotocore.config import AioConfig
            from aiobotocore.session import get_session

            config = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"})
            self._aio_context = get_session().create_client(
                "bedrock-runtime", **self.server.client_kwargs(), config=config
            )
            self.aio = self.loop.run_until_complete(self._aio_context.__aenter__())
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.runtime.close()
        self.agent.close()
        if self._aio_context is not None:
            self.loop.run_until_complete(self._aio_context.__aexit__(None, None, None))
        self.loop.close()


# -- the app's code: one function per operation (sync) ---------------------------------------------


def converse(c: Clients, app: Seen) -> Any:
    return _kinds(c.runtime.converse(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 40}))


def converse_stream(c: Clients, app: Seen) -> Any:
    response = c.runtime.converse_stream(modelId=MODEL, messages=MESSAGES)
    app.add(_kinds(response))
    app.each(response["stream"])
    return "done"


def invoke_model(c: Clients, app: Seen) -> Any:
    response = c.runtime.invoke_model(modelId=CLAUDE, body=json.dumps(CLAUDE_BODY))
    app.add(_kinds(response))
    data = app.add(response["body"].read())
    return json.loads(data)  # the app's own parse: a malformed body fails here, the same way


def invoke_model_in_pieces(c: Clients, app: Seen) -> Any:
    response = c.runtime.invoke_model(modelId=NOVA, body=json.dumps(NOVA_BODY))
    app.each(response["body"].iter_chunks(64))
    return "done"


def invoke_model_stream(c: Clients, app: Seen) -> Any:
    response = c.runtime.invoke_model_with_response_stream(modelId=CLAUDE, body=json.dumps(CLAUDE_BODY))
    app.add(_kinds(response))
    app.each(response["body"])
    return "done"


def apply_guardrail(c: Clients, app: Seen) -> Any:
    content = [{"text": {"text": "mail jane@example.com"}}]
    return c.runtime.apply_guardrail(guardrailIdentifier="gr-1", guardrailVersion="1", source="INPUT", content=content)


def invoke_agent(c: Clients, app: Seen) -> Any:
    response = c.agent.invoke_agent(
        agentId="AGENT1", agentAliasId="ALIAS1", sessionId="s-1", inputText="book a table", enableTrace=True
    )
    app.add(_kinds(response))
    app.each(response["completion"])
    return "done"


def retrieve(c: Clients, app: Seen) -> Any:
    return c.agent.retrieve(knowledgeBaseId="KBID123456", retrievalQuery={"text": "pricing"})


def retrieve_and_generate(c: Clients, app: Seen) -> Any:
    return c.agent.retrieve_and_generate(
        input={"text": "what does it cost"},
        retrieveAndGenerateConfiguration={
            "type": "KNOWLEDGE_BASE",
            "knowledgeBaseConfiguration": {"knowledgeBaseId": "KBID123456", "modelArn": KB_ARN},
        },
    )


# -- the same with aiobotocore ----------------------------------------------------------------------


def _async(body: Callable[[Any, Seen], Any]) -> Callable[[Clients, Seen], Any]:
    def run(c: Clients, app: Seen) -> Any:
        async def go() -> Any:
            return await body(c.aio, app)

        return c.run(go())

    return run


async def _aio_converse(client: Any, app: Seen) -> Any:
    return _kinds(await client.converse(modelId=MODEL, messages=MESSAGES))


async def _aio_converse_stream(client: Any, app: Seen) -> Any:
    response = await client.converse_stream(modelId=MODEL, messages=MESSAGES)
    app.add(_kinds(response))
    await app.each_async(response["stream"])
    return "done"


async def _aio_invoke_model(client: Any, app: Seen) -> Any:
    response = await client.invoke_model(modelId=CLAUDE, body=json.dumps(CLAUDE_BODY))
    app.add(_kinds(response))
    data = app.add(await response["body"].read())
    return json.loads(data)


# operation -> (the app's code, the stand-in's operation, the GenAI operation name)
OPERATIONS: dict[str, tuple[Callable[[Clients, Seen], Any], str, str]] = {
    "converse": (converse, "Converse", "chat"),
    "converse_stream": (converse_stream, "ConverseStream", "chat"),
    "invoke_model": (invoke_model, "InvokeModel", "chat"),
    "invoke_model_in_pieces": (invoke_model_in_pieces, "InvokeModel", "chat"),
    "invoke_model_stream": (invoke_model_stream, "InvokeModelWithResponseStream", "chat"),
    "apply_guardrail": (apply_guardrail, "ApplyGuardrail", "apply_guardrail"),
    "invoke_agent": (invoke_agent, "InvokeAgent", "invoke_agent"),
    "retrieve": (retrieve, "Retrieve", "retrieval"),
    "retrieve_and_generate": (retrieve_and_generate, "RetrieveAndGenerate", "retrieve_and_generate"),
    "aio_converse": (_async(_aio_converse), "Converse", "chat"),
    "aio_converse_stream": (_async(_aio_converse_stream), "ConverseStream", "chat"),
    "aio_invoke_model": (_async(_aio_invoke_model), "InvokeModel", "chat"),
}
STREAMED = {"converse_stream", "invoke_model_stream", "invoke_agent", "aio_converse_stream"}
BODY_FAULTS = ("ok", "malformed", "body_cut", "throttle", "server_error")
STREAM_FAULTS = ("ok", "stream_cut", "stream_exception", "bad_crc", "throttle")
FAULT_PARAMS: dict[str, dict[str, Any]] = {
    "stream_cut": {"after_events": 2},
    "stream_exception": {"after_events": 2, "exception": "modelStreamErrorException"},
    "bad_crc": {"after_events": 2},
}
CASES = [(op, fault) for op in OPERATIONS for fault in (STREAM_FAULTS if op in STREAMED else BODY_FAULTS)]


@pytest.fixture(scope="module")
def clients() -> Iterator[Clients]:
    with BedrockServer() as server:
        made = Clients(server)
        yield made
        made.close()


def run_case(c: Clients, operation: str, fault: str) -> list[Any]:
    c.server.reset()
    app, stand_in_operation, _ = OPERATIONS[operation]
    if fault != "ok":
        c.server.inject(fault, operation=stand_in_operation, **FAULT_PARAMS.get(fault, {}))
    return seen(lambda record: app(c, record))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # broken sockets are the app's
@pytest.mark.parametrize(("operation", "fault"), CASES, ids=[f"{op}-{fault}" for op, fault in CASES])
def test_the_app_sees_the_same_with_and_without_the_distro(
    clients: Clients, kit_factory: Any, caplog: pytest.LogCaptureFixture, operation: str, fault: str
) -> None:
    runs = with_and_without(
        kit_factory, caplog, lambda: run_case(clients, operation, fault), capture_message_content=True
    )
    assert runs.instrumented == runs.bare
    assert runs.still_open == []
    assert runs.logged == []
    kit, bare = runs.kit, runs.bare
    genai_name = OPERATIONS[operation][2]
    spans = kit.finished()
    matching = [s for s in spans if s.attributes.get("gen_ai.operation.name") == genai_name and s.parent is None]
    assert len(matching) == 1, [(s.name, dict(s.attributes)) for s in spans]
    span = matching[0]
    error_type = span.attributes.get("error.type")
    the_app_saw = failure(bare)
    if the_app_saw is not None and fault != "malformed":
        assert error_type, f"the app saw {the_app_saw}, the span no error"
    if fault == "ok":
        assert error_type is None
        assert the_app_saw is None
    elif fault == "malformed" and operation.startswith("invoke_model"):
        assert error_type == "malformed_response"  # the app's own json.loads fails on it too
    points = kit.points("gen_ai.client.operation.duration")
    assert sum(p.count for p in points) >= 1


def test_every_operation_and_fault_of_the_stand_in_is_covered() -> None:
    from otel_chatbot.testing.bedrock.faults import CATALOGUE
    from otel_chatbot.testing.bedrock.routes import OPERATIONS as STAND_IN_OPERATIONS

    # GetInferenceProfile is the control plane's, not a GenAI call: the distro asks it itself
    # (tests/e2e/instrumentation/test_inference_profiles.py); an app's own call is a plain AWS span
    control_plane = {"GetInferenceProfile"}
    assert {stand_in for _, stand_in, _ in OPERATIONS.values()} == set(STAND_IN_OPERATIONS) - control_plane
    covered = set(BODY_FAULTS + STREAM_FAULTS) - {"ok"}
    # slowness changes no answer (test_bedrock times it); the other modeled errors are throttle's kind
    assert set(CATALOGUE.names) - covered == {
        "slow",
        "unavailable",
        "timeout",
        "not_found",
        "validation",
        "access_denied",
    }

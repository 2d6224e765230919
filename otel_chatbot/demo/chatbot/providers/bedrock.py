"""Bedrock through plain boto3: Converse, ConverseStream and InvokeAgent.

boto3 blocks: calls run in worker threads (the request's context goes with them, so the
Bedrock spans nest under the request span) and streams are read in a thread of their own
(:func:`~otel_chatbot.demo.chatbot.threads.iterate_in_thread`). Clients are created at
start-up rather than at import, so instrumentation that patches botocore (``configure()`` or
``opentelemetry-instrument``) is in place before any client exists.

Two runtime clients: the usual one retries throttling and 5xx (standard mode, 3 retries with
backoff), the fail-fast one never retries. A failover chain calls its first candidate with
the fail-fast one: retries of a throttled model are what failing over replaces, and with
them a chain takes seconds instead of one round trip.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from starlette.concurrency import run_in_threadpool

from otel_chatbot.demo.chatbot.config import ChatbotConfig
from otel_chatbot.demo.chatbot.handbook import system_blocks
from otel_chatbot.demo.chatbot.providers.base import (
    MAX_TOKENS,
    TEMPERATURE,
    Completion,
    Delta,
    Prompt,
    ProviderError,
)
from otel_chatbot.demo.chatbot.threads import iterate_in_thread

INFERENCE = {"maxTokens": MAX_TOKENS, "temperature": TEMPERATURE}
RETRIES = 3
"""botocore's ``max_attempts`` (retries after the first attempt) of the usual client."""
RUNTIME = "bedrock-runtime"
AGENT_RUNTIME = "bedrock-agent-runtime"

# Bedrock error codes -> the status this API answers with; anything else is a bad gateway.
_STATUS_BY_CODE = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 429,
    "ServiceUnavailableException": 503,
    "ModelNotReadyException": 503,
}


def translate(error: BaseException) -> ProviderError | None:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "BedrockError")
        return ProviderError(code, str(details.get("Message") or error), _STATUS_BY_CODE.get(code, 502))
    if isinstance(error, BotoCoreError):
        return ProviderError(type(error).__name__, str(error), 502)
    return None


def converse_messages(prompt: Prompt) -> list[dict[str, Any]]:
    """Converse ``messages``: every turn as one text block."""
    return [{"role": turn.role, "content": [{"text": turn.text}]} for turn in prompt.turns]


def converse_system(prompt: Prompt) -> list[dict[str, Any]]:
    """Converse ``system`` blocks: with the handbook, a ``cachePoint`` after it."""
    return system_blocks(prompt.context is not None)


class BedrockGateway:
    """Lazily created ``bedrock-runtime`` (usual and fail-fast) and ``bedrock-agent-runtime`` clients."""

    def __init__(self, config: ChatbotConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, bool], Any] = {}

    def _client(self, service: str, fail_fast: bool = False) -> Any:
        with self._lock:
            client = self._clients.get((service, fail_fast))
            if client is None:
                client = self._clients[(service, fail_fast)] = self._create(service, fail_fast)
            return client

    def _create(self, service: str, fail_fast: bool) -> Any:
        retries: dict[str, Any] = {"mode": "standard"}
        retries.update({"total_max_attempts": 1} if fail_fast else {"max_attempts": RETRIES})
        kwargs: dict[str, Any] = {
            "region_name": self.config.region,
            "config": Config(retries=retries, max_pool_connections=50),
        }
        if self.config.endpoint_url:
            kwargs["endpoint_url"] = self.config.endpoint_url
        if self.config.fake_credentials:
            kwargs["aws_access_key_id"] = "AKIAFAKELOCALDEMO000"
            kwargs["aws_secret_access_key"] = "fake-secret-for-the-local-bedrock-server"
        return boto3.session.Session().client(service, **kwargs)

    def warm_up(self) -> None:
        """Create the clients now (at start-up), so no request pays for it."""
        for service, fail_fast in ((RUNTIME, False), (RUNTIME, True), (AGENT_RUNTIME, False)):
            self._client(service, fail_fast)

    def close(self) -> None:
        """Release the clients' connection pools (on app shutdown)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def converse(
        self, model_id: str, messages: list[dict[str, Any]], system: list[dict[str, Any]], fail_fast: bool = False
    ) -> Completion:
        response = self._client(RUNTIME, fail_fast).converse(
            modelId=model_id, messages=messages, system=system, inferenceConfig=INFERENCE
        )
        content = response.get("output", {}).get("message", {}).get("content", [])
        usage = response.get("usage", {})
        return Completion(
            text="".join(block.get("text", "") for block in content),
            stop_reason=response.get("stopReason"),
            input_tokens=int(usage.get("inputTokens", 0)),
            output_tokens=int(usage.get("outputTokens", 0)),
        )

    def converse_stream(
        self, model_id: str, messages: list[dict[str, Any]], system: list[dict[str, Any]]
    ) -> Iterator[Delta]:
        """Blocking generator of deltas; closing it early closes the HTTP stream."""
        response = self._client(RUNTIME).converse_stream(
            modelId=model_id, messages=messages, system=system, inferenceConfig=INFERENCE
        )
        stream = response["stream"]
        try:
            for event in stream:
                delta = _delta(event)
                if delta is not None:
                    yield delta
        finally:
            stream.close()

    def invoke_agent(self, session_id: str, text: str) -> Completion:
        """InvokeAgent, with the streamed completion assembled and the trace's token usage summed."""
        parts: list[str] = []
        input_tokens = output_tokens = 0
        response = self._client(AGENT_RUNTIME).invoke_agent(
            agentId=self.config.agent_id,
            agentAliasId=self.config.agent_alias_id,
            sessionId=session_id,
            inputText=text,
            enableTrace=True,
        )
        for event in response["completion"]:
            if "chunk" in event:
                parts.append(event["chunk"].get("bytes", b"").decode("utf-8", "replace"))
            elif "trace" in event:
                usage = _agent_usage(event["trace"])
                input_tokens += usage[0]
                output_tokens += usage[1]
        return Completion("".join(parts), None, input_tokens, output_tokens)


class BedrockProvider:
    """Chat turns on Bedrock (Converse / ConverseStream); the gateway also serves the agent route."""

    name = "bedrock"
    system = "aws.bedrock"

    def __init__(self, config: ChatbotConfig, gateway: BedrockGateway) -> None:
        self.model = config.model_id
        self.gateway = gateway

    async def start(self) -> None:
        await run_in_threadpool(self.gateway.warm_up)

    async def close(self) -> None:
        self.gateway.close()

    async def complete(self, model: str, prompt: Prompt, *, fail_fast: bool = False) -> Completion:
        return await run_in_threadpool(
            self.gateway.converse, model, converse_messages(prompt), converse_system(prompt), fail_fast
        )

    def stream(self, model: str, prompt: Prompt) -> AsyncGenerator[Delta, None]:
        messages, system = converse_messages(prompt), converse_system(prompt)
        return iterate_in_thread(lambda: self.gateway.converse_stream(model, messages, system), name="converse-stream")

    def translate(self, error: BaseException) -> ProviderError | None:
        return translate(error)


def _delta(event: dict[str, Any]) -> Delta | None:
    if "contentBlockDelta" in event:
        return Delta(text=event["contentBlockDelta"].get("delta", {}).get("text", ""))
    if "messageStop" in event:
        return Delta(stop_reason=event["messageStop"].get("stopReason"))
    if "metadata" in event:
        usage = event["metadata"].get("usage", {})
        return Delta(input_tokens=int(usage.get("inputTokens", 0)), output_tokens=int(usage.get("outputTokens", 0)))
    return None


def _agent_usage(trace_part: dict[str, Any]) -> tuple[int, int]:
    output = trace_part.get("trace", {}).get("orchestrationTrace", {}).get("modelInvocationOutput", {})
    usage = output.get("metadata", {}).get("usage", {})
    return int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0))

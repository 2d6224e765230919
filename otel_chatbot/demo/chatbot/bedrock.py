"""The chatbot's Bedrock calls through plain boto3: Converse, ConverseStream and InvokeAgent.

Everything here blocks (boto3 is synchronous); the routes run it in worker threads. Clients
are created on first use rather than at import, so instrumentation that patches botocore
(``configure()`` or ``opentelemetry-instrument``) is in place before any client exists.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from otel_chatbot.demo.chatbot.config import ChatbotConfig

INFERENCE = {"maxTokens": 512, "temperature": 0.5}

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


class BedrockError(Exception):
    """A Bedrock failure, already translated into what the API should answer."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def translate(error: Exception) -> BedrockError:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "BedrockError")
        return BedrockError(code, str(details.get("Message") or error), _STATUS_BY_CODE.get(code, 502))
    return BedrockError(type(error).__name__, str(error), 502)


@dataclass(frozen=True)
class Completion:
    text: str
    stop_reason: str | None
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Delta:
    """One piece of a streamed answer: text, or the closing stop reason / usage."""

    text: str = ""
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class BedrockGateway:
    """Lazily created ``bedrock-runtime`` and ``bedrock-agent-runtime`` clients, shared by threads."""

    def __init__(self, config: ChatbotConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._clients[service] = self._create(service)
            return client

    def _create(self, service: str) -> Any:
        kwargs: dict[str, Any] = {
            "region_name": self.config.region,
            "config": Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=50),
        }
        if self.config.endpoint_url:
            kwargs["endpoint_url"] = self.config.endpoint_url
        if self.config.fake_credentials:
            kwargs["aws_access_key_id"] = "AKIAFAKELOCALDEMO000"
            kwargs["aws_secret_access_key"] = "fake-secret-for-the-local-bedrock-server"
        return boto3.session.Session().client(service, **kwargs)

    def warm_up(self) -> None:
        """Create both clients now (at start-up), so no request pays for it."""
        for service in ("bedrock-runtime", "bedrock-agent-runtime"):
            self._client(service)

    def close(self) -> None:
        """Release the clients' connection pools (on app shutdown)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def converse(self, model_id: str, messages: list[dict[str, Any]], system: list[dict[str, Any]]) -> Completion:
        try:
            response = self._client("bedrock-runtime").converse(
                modelId=model_id, messages=messages, system=system, inferenceConfig=INFERENCE
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc) from exc
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
        try:
            response = self._client("bedrock-runtime").converse_stream(
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
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc) from exc

    def invoke_agent(self, session_id: str, text: str) -> Completion:
        """InvokeAgent, with the streamed completion assembled and the trace's token usage summed."""
        parts: list[str] = []
        input_tokens = output_tokens = 0
        try:
            response = self._client("bedrock-agent-runtime").invoke_agent(
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
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc) from exc
        return Completion("".join(parts), None, input_tokens, output_tokens)


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

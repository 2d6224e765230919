"""Per model family InvokeModel request parsing, response bodies and stream chunks.

Bedrock's InvokeModel passes each provider's native JSON through, so instrumentation must
understand several shapes; the fake reproduces them as documented (and as recorded from the
real service) so those parsers are exercised. Families are picked from the model id,
including cross-region inference profile ids (``us.``, ``eu.``, ``apac.``, ``global.`` ...)
and ARNs.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_chatbot.testing.anthropic import messages
from otel_chatbot.testing.bedrock.converse import content_blocks, stream_blocks
from otel_chatbot.testing.bedrock.errors import validation
from otel_chatbot.testing.bedrock.prompts import (
    chat_prompt,
    cohere_chat_prompt,
    converse_prompt,
    optional_int,
    required_str,
    text_prompt,
)
from otel_chatbot.testing.standin.api import InvalidRequest
from otel_chatbot.testing.standin.generation import Completion, Prompt, split_chunks
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]

REGION_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"})
KNOWN_PROVIDERS = frozenset(
    {"anthropic", "amazon", "meta", "cohere", "mistral", "ai21", "deepseek", "writer", "openai", "qwen"}
)
_VERSION_SUFFIX = re.compile(r"-v\d+(:\d+)?$")


@dataclass(frozen=True)
class ModelRef:
    """A model id split into provider and name, with ARN and region prefixes removed."""

    provider: str
    name: str

    @property
    def short_name(self) -> str:
        """Name without the Bedrock version suffix, as providers echo it (``claude-3-haiku-20240307``)."""
        return _VERSION_SUFFIX.sub("", self.name)


def parse_model_id(model_id: str) -> ModelRef | None:
    """Resolve ``[arn:...:foundation-model/|inference-profile/][region.]provider.name``."""
    base = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    parts = base.split(".")
    if len(parts) > 2 and parts[0] in REGION_PREFIXES:
        parts = parts[1:]
    if len(parts) < 2 or parts[0] not in KNOWN_PROVIDERS:
        return None
    return ModelRef(parts[0], ".".join(parts[1:]))


@dataclass(frozen=True)
class CallInfo:
    """Per-request facts a body may echo (ids, model name, latency)."""

    request_id: str
    model: ModelRef
    latency_ms: int


def invocation_metrics(usage: Usage, latency_ms: int, first_byte_ms: int, with_cache: bool) -> JsonObject:
    """``amazon-bedrock-invocationMetrics``, added by Bedrock to the last chunk of every stream."""
    metrics: JsonObject = {
        "inputTokenCount": usage.input_tokens,
        "outputTokenCount": usage.output_tokens,
        "invocationLatency": latency_ms,
        "firstByteLatency": first_byte_ms,
    }
    if with_cache:
        metrics["cacheReadInputTokenCount"] = usage.cache_read_input_tokens
        metrics["cacheWriteInputTokenCount"] = usage.cache_write_input_tokens
    return metrics


class Family(ABC):
    """One provider body format; ``stop_reasons`` is (finished, cut by max tokens)."""

    name: str
    stop_reasons: tuple[str, str]
    reports_cache = False

    def stop_reason(self, completion: Completion) -> str:
        if completion.tool_call is not None:
            return "tool_use"  # only families whose parsers accept tools can get here
        return self.stop_reasons[1] if completion.truncated else self.stop_reasons[0]

    @abstractmethod
    def parse(self, body: Mapping[str, Any]) -> Prompt:
        """Validate a request body and extract its prompt."""

    @abstractmethod
    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        """The InvokeModel response body."""

    @abstractmethod
    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        """InvokeModelWithResponseStream chunk payloads (before invocation metrics are added)."""


class Anthropic(Family):
    """Claude's Messages format, as Anthropic's own API speaks it (:mod:`otel_chatbot.testing.anthropic.messages`)."""

    name = "anthropic"
    stop_reasons = ("end_turn", "max_tokens")
    reports_cache = True

    def parse(self, body: Mapping[str, Any]) -> Prompt:
        """Messages API bodies (``anthropic_version: bedrock-2023-05-31``)."""
        try:
            return messages.messages_prompt(body)
        except InvalidRequest as exc:
            raise validation(exc.message) from exc

    def _message_id(self, call: CallInfo) -> str:
        return "msg_bdrk_" + call.request_id.replace("-", "")[:24]

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        return messages.message_body(completion, messages.BEDROCK, self._message_id(call), call.model.short_name)

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        return messages.stream_events(completion, messages.BEDROCK, self._message_id(call), call.model.short_name)


class Nova(Family):
    name = "nova"
    stop_reasons = ("end_turn", "max_tokens")
    reports_cache = True

    def parse(self, body: Mapping[str, Any]) -> Prompt:
        return converse_prompt(body)

    def _usage(self, usage: Usage) -> JsonObject:
        return {
            "inputTokens": usage.input_tokens,
            "outputTokens": usage.output_tokens,
            "totalTokens": usage.total_tokens,
            "cacheReadInputTokenCount": usage.cache_read_input_tokens,
            "cacheWriteInputTokenCount": usage.cache_write_input_tokens,
        }

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        return {
            "output": {"message": {"content": content_blocks(completion), "role": "assistant"}},
            "stopReason": self.stop_reason(completion),
            "usage": self._usage(completion.usage),
        }

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        events: list[JsonObject] = [{"messageStart": {"role": "assistant"}}]
        events += [{name: payload} for name, payload in stream_blocks(completion)]
        events.append({"messageStop": {"stopReason": self.stop_reason(completion)}})
        events.append({"metadata": {"usage": self._usage(completion.usage), "metrics": {}, "trace": {}}})
        return events


class Titan(Family):
    name = "titan"
    stop_reasons = ("FINISH", "LENGTH")

    def parse(self, body: Mapping[str, Any]) -> Prompt:
        config = body.get("textGenerationConfig") or {}
        return text_prompt(required_str(body, "inputText"), optional_int(config, "maxTokenCount"))

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        result = {
            "tokenCount": completion.usage.output_tokens,
            "outputText": completion.text,
            "completionReason": self.stop_reason(completion),
        }
        return {"inputTextTokenCount": completion.usage.input_tokens, "results": [result]}

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        pieces = split_chunks(completion.text)
        events, produced = [], 0
        for index, text in enumerate(pieces):
            produced += len(text.split())
            last = index == len(pieces) - 1
            events.append(
                {
                    "outputText": text,
                    "index": 0,
                    "totalOutputTextTokenCount": produced,
                    "completionReason": self.stop_reason(completion) if last else None,
                    "inputTextTokenCount": completion.usage.input_tokens if index == 0 else None,
                }
            )
        return events


class Llama(Family):
    name = "llama"
    stop_reasons = ("stop", "length")

    def parse(self, body: Mapping[str, Any]) -> Prompt:
        return text_prompt(required_str(body, "prompt"), optional_int(body, "max_gen_len"))

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        return {
            "generation": completion.text,
            "prompt_token_count": completion.usage.input_tokens,
            "generation_token_count": completion.usage.output_tokens,
            "stop_reason": self.stop_reason(completion),
        }

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        pieces = split_chunks(completion.text)
        events, produced = [], 0
        for index, text in enumerate(pieces):
            produced += len(text.split())
            events.append(
                {
                    "generation": text,
                    "prompt_token_count": completion.usage.input_tokens if index == 0 else None,
                    "generation_token_count": produced,
                    "stop_reason": self.stop_reason(completion) if index == len(pieces) - 1 else None,
                }
            )
        return events


class CommandR(Family):
    """Cohere Command R(+): no token counts in the body, only in Bedrock's headers and metrics."""

    name = "cohere"
    stop_reasons = ("COMPLETE", "MAX_TOKENS")

    def parse(self, body: Mapping[str, Any]) -> Prompt:
        return cohere_chat_prompt(body)

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        return {
            "response_id": call.request_id,
            "text": completion.text,
            "generation_id": call.request_id[::-1],
            "chat_history": [
                {"role": "USER", "message": completion.last_user_text},
                {"role": "CHATBOT", "message": completion.text},
            ],
            "finish_reason": self.stop_reason(completion),
        }

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        texts = [
            {"is_finished": False, "event_type": "text-generation", "text": text}
            for text in split_chunks(completion.text)
        ]
        return [
            {"is_finished": False, "event_type": "stream-start", "generation_id": call.request_id[::-1]},
            *texts,
            {
                "is_finished": True,
                "event_type": "stream-end",
                "finish_reason": self.stop_reason(completion),
                "response": self.body(completion, call),
            },
        ]


def _chat_choice(completion: Completion, stop_key: str, stop: str) -> JsonObject:
    message = {"role": "assistant", "content": completion.text, "tool_calls": None}
    return {"index": 0, "message": message, stop_key: stop}


class Mistral(Family):
    """Mistral: ``prompt`` bodies answer ``outputs``; chat (``messages``) bodies answer ``choices``."""

    name = "mistral"
    stop_reasons = ("stop", "length")

    def parse(self, body: Mapping[str, Any]) -> Prompt:
        if "messages" in body:
            return chat_prompt(body, "max_tokens")
        return text_prompt(required_str(body, "prompt"), optional_int(body, "max_tokens"))

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        return {"outputs": [{"text": completion.text, "stop_reason": self.stop_reason(completion)}]}

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        pieces = split_chunks(completion.text)
        return [
            {
                "outputs": [
                    {
                        "text": text,
                        "stop_reason": self.stop_reason(completion) if i == len(pieces) - 1 else None,
                    }
                ]
            }
            for i, text in enumerate(pieces)
        ]


class MistralChat(Mistral):
    """Mistral Large chat bodies; stream chunks repeat the ``choices`` shape with partial text."""

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        return {"choices": [_chat_choice(completion, "stop_reason", self.stop_reason(completion))]}

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        return [
            {
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": out["text"]},
                        "stop_reason": out["stop_reason"],
                    }
                ]
            }
            for event in super().chunks(completion, call)
            for out in event["outputs"]
        ]


class Jamba(Family):
    """AI21 Jamba: OpenAI-like ``choices`` and ``usage``."""

    name = "jamba"
    stop_reasons = ("stop", "length")

    def parse(self, body: Mapping[str, Any]) -> Prompt:
        return chat_prompt(body, "max_tokens")

    def _usage(self, usage: Usage) -> JsonObject:
        return {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        }

    def body(self, completion: Completion, call: CallInfo) -> JsonObject:
        return {
            "id": "chatcmpl-" + call.request_id.replace("-", ""),
            "choices": [_chat_choice(completion, "finish_reason", self.stop_reason(completion))],
            "usage": self._usage(completion.usage),
            "meta": {"requestDurationMillis": call.latency_ms},
            "model": call.model.short_name,
        }

    def chunks(self, completion: Completion, call: CallInfo) -> list[JsonObject]:
        chunk_id = "chatcmpl-" + call.request_id.replace("-", "")

        def choice(delta: JsonObject, finish: str | None) -> JsonObject:
            return {"id": chunk_id, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        events = [choice({"role": "assistant", "content": ""}, None)]
        events += [choice({"content": text}, None) for text in split_chunks(completion.text)]
        events.append({**choice({}, self.stop_reason(completion)), "usage": self._usage(completion.usage)})
        return events


def family_for(model: ModelRef, body: Mapping[str, Any]) -> Family | None:
    """The body format of a model, or None when the fake does not speak it."""
    name = model.name
    if model.provider == "anthropic":
        return Anthropic()
    if model.provider == "amazon" and name.startswith("nova"):
        return Nova()
    if model.provider == "amazon" and name.startswith(("titan-text", "titan-tg1")):
        return Titan()
    if model.provider == "meta":
        return Llama()
    if model.provider == "cohere" and name.startswith("command-r"):
        return CommandR()
    if model.provider == "mistral":
        return MistralChat() if "messages" in body else Mistral()
    if model.provider == "ai21" and name.startswith("jamba"):
        return Jamba()
    return None

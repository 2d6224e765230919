"""Bedrock Agent Runtime: InvokeAgent, Retrieve and RetrieveAndGenerate.

The agent is scripted but deterministic: one orchestration step that either looks up a
knowledge base or calls an action group (when the input mentions one of ``ACTION_WORDS``),
then a second step that answers. With ``enableTrace`` the stream carries the orchestration
trace parts instrumentation reads (model invocation input/output with token usage,
invocation input, observation); the ledger counts the usage those traces report.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from otel_chatbot.testing.bedrock.eventstream import event_frame
from otel_chatbot.testing.bedrock.prompts import optional_int, required_str
from otel_chatbot.testing.standin.generation import INPUT_TOKEN_OVERHEAD, count_tokens, reply_text, split_chunks
from otel_chatbot.testing.standin.responses import StreamEvent
from otel_chatbot.testing.standin.usage import Usage

JsonObject = dict[str, Any]

AGENT_MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
AGENT_INSTRUCTION = "You are a helpful agent. Use your tools to answer the user's question."
DEFAULT_KNOWLEDGE_BASE = "KB00000001"
ACTION_GROUP = "chatbot_actions"
ACTION_WORDS = frozenset({"book", "order", "cancel", "schedule", "weather"})
DEFAULT_RESULTS = 3
MAX_RESULTS = 25


def retrieval_results(query: str, knowledge_base_id: str, count: int) -> list[JsonObject]:
    """Deterministic knowledge base hits; scores decrease with rank."""
    topic = " ".join(query.split()[-6:]) or "nothing"
    results = []
    for rank in range(1, count + 1):
        uri = f"s3://fake-kb-{knowledge_base_id.lower()}/doc-{rank}.txt"
        results.append(
            {
                "content": {"text": f"Passage {rank} about {topic}.", "type": "TEXT"},
                "location": {"type": "S3", "s3Location": {"uri": uri}},
                "score": round(0.95 - 0.05 * rank, 4),
                "metadata": {
                    "x-amz-bedrock-kb-source-uri": uri,
                    "x-amz-bedrock-kb-chunk-id": f"chunk-{rank}",
                    "x-amz-bedrock-kb-data-source-id": "DS00000001",
                },
            }
        )
    return results


def _result_count(body: Mapping[str, Any]) -> int:
    config = (body.get("retrievalConfiguration") or {}).get("vectorSearchConfiguration") or {}
    count = optional_int(config, "numberOfResults")
    return min(max(count if count is not None else DEFAULT_RESULTS, 1), MAX_RESULTS)


def retrieve_body(knowledge_base_id: str, body: Mapping[str, Any]) -> JsonObject:
    """Retrieve: ``retrievalQuery.text`` in, ranked passages out."""
    query = required_str(body.get("retrievalQuery") or {}, "text")
    return {"retrievalResults": retrieval_results(query, knowledge_base_id, _result_count(body))}


def _citation(answer: str, references: list[JsonObject]) -> JsonObject:
    """Cite the whole answer with the retrieved references (shape shared by RAG and agents)."""
    return {
        "generatedResponsePart": {
            "textResponsePart": {"text": answer, "span": {"start": 0, "end": max(len(answer) - 1, 0)}}
        },
        "retrievedReferences": [{key: ref[key] for key in ("content", "location", "metadata")} for ref in references],
    }


def rag_model_and_kb(body: Mapping[str, Any]) -> tuple[str | None, str]:
    """The generating model ARN and knowledge base of a RetrieveAndGenerate request."""
    config = body.get("retrieveAndGenerateConfiguration") or {}
    kb_config = config.get("knowledgeBaseConfiguration") or {}
    external = config.get("externalSourcesConfiguration") or {}
    model = kb_config.get("modelArn") or external.get("modelArn")
    return model, kb_config.get("knowledgeBaseId", DEFAULT_KNOWLEDGE_BASE)


def retrieve_and_generate_body(body: Mapping[str, Any], new_session_id: str) -> JsonObject:
    """RetrieveAndGenerate: the answer, its citations and the (possibly new) session id."""
    question = required_str(body.get("input") or {}, "text")
    _, knowledge_base_id = rag_model_and_kb(body)
    answer = reply_text(question)
    references = retrieval_results(question, knowledge_base_id, 2)
    return {
        "output": {"text": answer},
        "citations": [_citation(answer, references)],
        "sessionId": body.get("sessionId") or new_session_id,
    }


class AgentRun:
    """One InvokeAgent call: computes the scripted steps, then streams them as events."""

    def __init__(self, path: Mapping[str, str], body: Mapping[str, Any], request_id: str) -> None:
        self.agent_id = path["agentId"]
        self.alias_id = path["agentAliasId"]
        self.session_id = path["sessionId"]
        self.request_id = request_id
        self.input_text = required_str(body, "inputText")
        self.trace = body.get("enableTrace") is True
        self.stream_final = (body.get("streamingConfigurations") or {}).get("streamFinalResponse") is True
        kb_configs = (body.get("sessionState") or {}).get("knowledgeBaseConfigurations") or [{}]
        self.knowledge_base_id = str(kb_configs[0].get("knowledgeBaseId", DEFAULT_KNOWLEDGE_BASE))
        self.uses_action = not ACTION_WORDS.isdisjoint(self.input_text.lower().split())
        self.answer = reply_text(self.input_text)

    def _trace_event(self, part: JsonObject, usage: Usage | None) -> StreamEvent:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        payload = {
            "agentAliasId": self.alias_id,
            "agentId": self.agent_id,
            "agentVersion": "1",
            "eventTime": now,
            "sessionId": self.session_id,
            "trace": {"orchestrationTrace": part},
        }
        return StreamEvent(event_frame("trace", payload), usage=usage)

    def _model_step(self, step: int, prompt: str, raw: str) -> tuple[list[JsonObject], Usage]:
        trace_id = f"{self.request_id}-{step}"
        usage = Usage(count_tokens(prompt) + INPUT_TOKEN_OVERHEAD, count_tokens(raw))
        model_input = {
            "traceId": trace_id,
            "text": prompt,
            "type": "ORCHESTRATION",
            "foundationModel": AGENT_MODEL,
            "inferenceConfiguration": {"maximumLength": 2048, "temperature": 0.0, "topK": 250, "topP": 1.0},
        }
        model_output = {
            "traceId": trace_id,
            "rawResponse": {"content": raw},
            "metadata": {"usage": {"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens}},
        }
        return [{"modelInvocationInput": model_input}, {"modelInvocationOutput": model_output}], usage

    def _tool_parts(self, references: list[JsonObject]) -> tuple[JsonObject, JsonObject, str]:
        trace_id = f"{self.request_id}-0"
        if self.uses_action:
            invocation = {
                "traceId": trace_id,
                "invocationType": "ACTION_GROUP",
                "actionGroupInvocationInput": {
                    "actionGroupName": ACTION_GROUP,
                    "function": "handle_request",
                    "executionType": "LAMBDA",
                    "parameters": [{"name": "request", "type": "string", "value": self.input_text}],
                },
            }
            result = f"Action {ACTION_GROUP} completed."
            observation = {
                "traceId": trace_id,
                "type": "ACTION_GROUP",
                "actionGroupInvocationOutput": {"text": result},
            }
            return invocation, observation, result
        invocation = {
            "traceId": trace_id,
            "invocationType": "KNOWLEDGE_BASE",
            "knowledgeBaseLookupInput": {"knowledgeBaseId": self.knowledge_base_id, "text": self.input_text},
        }
        observation = {
            "traceId": trace_id,
            "type": "KNOWLEDGE_BASE",
            "knowledgeBaseLookupOutput": {"retrievedReferences": references},
        }
        return invocation, observation, " ".join(ref["content"]["text"] for ref in references)

    def events(self) -> Iterator[StreamEvent]:
        """Trace parts (when enabled) and then the answer as one or more ``chunk`` events."""
        references = [
            {key: ref[key] for key in ("content", "location", "metadata")}
            for ref in retrieval_results(self.input_text, self.knowledge_base_id, 2)
        ]
        tool = ACTION_GROUP if self.uses_action else "knowledge base"
        rationale = f"I will use the {tool} to answer the question."
        prompt = f"{AGENT_INSTRUCTION} {self.input_text}"
        first, first_usage = self._model_step(0, prompt, rationale)
        invocation, observation, result = self._tool_parts(references)
        second, second_usage = self._model_step(1, f"{prompt} {result}", self.answer)
        finish = {"traceId": f"{self.request_id}-1", "type": "FINISH", "finalResponse": {"text": self.answer}}
        if self.trace:
            parts: list[tuple[JsonObject, Usage | None]] = [
                (first[0], None),
                (first[1], first_usage),
                ({"rationale": {"traceId": f"{self.request_id}-0", "text": rationale}}, None),
                ({"invocationInput": invocation}, None),
                ({"observation": observation}, None),
                (second[0], None),
                (second[1], second_usage),
                ({"observation": finish}, None),
            ]
            for part, usage in parts:
                yield self._trace_event(part, usage)
        pieces = split_chunks(self.answer, 4) if self.stream_final else [self.answer]
        for index, piece in enumerate(pieces):
            # Agent chunks carry raw answer text (not JSON), base64 encoded as a blob.
            chunk: JsonObject = {"bytes": base64.b64encode(piece.encode("utf-8")).decode("ascii")}
            if index == len(pieces) - 1 and not self.uses_action:
                chunk["attribution"] = {"citations": [_citation(self.answer, references)]}
            yield StreamEvent(event_frame("chunk", chunk))

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from otel_chatbot.genai.agents import (
    AgentStep,
    AgentTraceAccumulator,
    invoke_agent_request,
    retrieve_and_generate_request,
    retrieve_and_generate_response,
    retrieve_request,
    retrieve_response,
    step_window,
    time_ns,
)
from otel_chatbot.genai.types import TokenUsage

HAIKU_ARN = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 22, 10, 0, 2, tzinfo=timezone.utc)
T0_NS = int(T0.timestamp()) * 1_000_000_000
MS = 1_000_000
SECOND = 1_000 * MS


def _trace(inner: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace": {
            "agentId": "AGENT12345",
            "agentAliasId": "TSTALIASID",
            "sessionId": "session-1",
            "agentVersion": "DRAFT",
            "eventTime": T0,
            "trace": inner,
        }
    }


AGENT_EVENTS: list[dict[str, Any]] = [
    _trace(
        {
            "preProcessingTrace": {
                "modelInvocationInput": {
                    "traceId": "t-pre-0",
                    "type": "PRE_PROCESSING",
                    "text": "...",
                    "foundationModel": "anthropic.claude-3-haiku-20240307-v1:0",
                    "inferenceConfiguration": {
                        "maximumLength": 2048,
                        "temperature": 0.0,
                        "topP": 1.0,
                        "topK": 250,
                        "stopSequences": ["\n\nHuman:"],
                    },
                }
            }
        }
    ),
    _trace(
        {
            "preProcessingTrace": {
                "modelInvocationOutput": {
                    "traceId": "t-pre-0",
                    "parsedResponse": {"isValid": True},
                    "metadata": {
                        "usage": {"inputTokens": 500, "outputTokens": 40},
                        "startTime": T0,
                        "endTime": T1,
                        "totalTimeMs": 2000,
                    },
                }
            }
        }
    ),
    _trace(
        {
            "orchestrationTrace": {
                "modelInvocationInput": {
                    "traceId": "t-orc-0",
                    "type": "ORCHESTRATION",
                    "foundationModel": "anthropic.claude-3-haiku-20240307-v1:0",
                }
            }
        }
    ),
    _trace(
        {
            "orchestrationTrace": {
                "modelInvocationOutput": {
                    "traceId": "t-orc-0",
                    "rawResponse": {"content": "..."},
                    "metadata": {"usage": {"inputTokens": 900, "outputTokens": 60}},
                }
            }
        }
    ),
    _trace({"orchestrationTrace": {"rationale": {"traceId": "t-orc-0", "text": "I should look up the order."}}}),
    _trace(
        {
            "orchestrationTrace": {
                "invocationInput": {
                    "traceId": "t-orc-0",
                    "invocationType": "ACTION_GROUP",
                    "actionGroupInvocationInput": {
                        "actionGroupName": "OrderLookup",
                        "function": "get_order",
                        "executionType": "LAMBDA",
                        "invocationId": "inv-1",
                        "parameters": [{"name": "id", "type": "string", "value": "42"}],
                    },
                }
            }
        }
    ),
    _trace(
        {
            "orchestrationTrace": {
                "observation": {
                    "traceId": "t-orc-0",
                    "type": "ACTION_GROUP",
                    "actionGroupInvocationOutput": {
                        "text": '{"status": "shipped"}',
                        "metadata": {"startTime": T0, "endTime": T1, "totalTimeMs": 150},
                    },
                }
            }
        }
    ),
    _trace(
        {
            "orchestrationTrace": {
                "invocationInput": {
                    "traceId": "t-orc-1",
                    "invocationType": "KNOWLEDGE_BASE",
                    "knowledgeBaseLookupInput": {"text": "return policy", "knowledgeBaseId": "KB12345678"},
                }
            }
        }
    ),
    _trace(
        {
            "orchestrationTrace": {
                "observation": {
                    "traceId": "t-orc-1",
                    "type": "KNOWLEDGE_BASE",
                    "knowledgeBaseLookupOutput": {
                        "retrievedReferences": [{"content": {"text": "a"}}, {"content": {"text": "b"}}],
                        "metadata": {"totalTimeMs": 80},
                    },
                }
            }
        }
    ),
    {"chunk": {"bytes": b"Your order has shipped.", "attribution": {"citations": []}}},
    _trace({"guardrailTrace": {"action": "NONE", "traceId": "t-g"}}),
]


def test_invoke_agent_request() -> None:
    request = invoke_agent_request(
        {
            "agentId": "AGENT12345",
            "agentAliasId": "TSTALIASID",
            "sessionId": "session-1",
            "inputText": "Where?",
            "enableTrace": True,
        }
    )
    assert request.attributes() == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.stream": True,
        "gen_ai.agent.id": "AGENT12345",
        "aws.bedrock.agent.alias.id": "TSTALIASID",
        "gen_ai.conversation.id": "session-1",
    }
    assert request.span_name == "invoke_agent AGENT12345"


def test_agent_trace_steps() -> None:
    acc = AgentTraceAccumulator()
    for event in AGENT_EVENTS:
        acc.feed(event)
    steps = acc.steps
    assert [(s.name, s.operation) for s in steps] == [
        ("chat anthropic.claude-3-haiku-20240307-v1:0", "chat"),
        ("chat anthropic.claude-3-haiku-20240307-v1:0", "chat"),
        ("execute_tool OrderLookup", "execute_tool"),
        ("retrieval KB12345678", "retrieval"),
    ]
    assert all(s.complete for s in steps)
    pre = steps[0]
    assert pre.attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": "anthropic.claude-3-haiku-20240307-v1:0",
        "gen_ai.request.max_tokens": 2048,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.request.top_p": 1.0,
        "gen_ai.request.top_k": 250.0,
        "gen_ai.request.stop_sequences": ("\n\nHuman:",),
        "aws.bedrock.agent.trace.type": "PRE_PROCESSING",
        "gen_ai.usage.input_tokens": 500,
        "gen_ai.usage.output_tokens": 40,
    }
    assert (pre.start_ns, pre.end_ns) == (T0_NS, T0_NS + 2 * SECOND)  # metadata startTime / endTime
    tool = steps[2]
    assert tool.attributes["gen_ai.tool.name"] == "OrderLookup"
    assert tool.attributes["gen_ai.tool.call.id"] == "inv-1"
    assert tool.attributes["gen_ai.tool.type"] == "extension"
    assert (tool.start_ns, tool.end_ns) == (T0_NS, T0_NS + 2 * SECOND)
    kb = steps[3]
    assert kb.attributes["aws.bedrock.knowledge_base.id"] == "KB12345678"
    assert kb.attributes["aws.bedrock.retrieval.result_count"] == 2
    assert (kb.start_ns, kb.end_ns) == (T0_NS, T0_NS + 80 * MS)  # opened at eventTime, lasted totalTimeMs
    assert acc.usage == TokenUsage(uncached_input_tokens=1400, output_tokens=100)
    assert acc.chunks == 1
    assert acc.guardrail_intervened is False
    response = acc.response()
    assert response.usage.input_tokens == 1400
    assert response.attributes()["aws.bedrock.guardrail.intervened"] is False


def test_agent_open_step_is_reported_incomplete() -> None:
    acc = AgentTraceAccumulator()
    acc.feed(AGENT_EVENTS[5])  # action group input, observation never arrives
    (step,) = acc.steps
    assert step.operation == "execute_tool"
    assert step.complete is False
    assert acc.usage == TokenUsage()


def test_agent_return_control_is_client_side_tool() -> None:
    acc = AgentTraceAccumulator()
    acc.feed(
        _trace(
            {
                "orchestrationTrace": {
                    "invocationInput": {
                        "traceId": "t",
                        "invocationType": "ACTION_GROUP",
                        "actionGroupInvocationInput": {
                            "actionGroupName": "Local",
                            "executionType": "RETURN_CONTROL",
                        },
                    }
                }
            }
        )
    )
    assert acc.steps[0].attributes["gen_ai.tool.type"] == "function"


def test_agent_collaborator_and_failure() -> None:
    acc = AgentTraceAccumulator()
    acc.feed(
        _trace(
            {
                "routingClassifierTrace": {
                    "invocationInput": {
                        "traceId": "r",
                        "invocationType": "AGENT_COLLABORATOR",
                        "agentCollaboratorInvocationInput": {"agentCollaboratorName": "billing"},
                    }
                }
            }
        )
    )
    acc.feed(_trace({"failureTrace": {"traceId": "f", "failureCode": 500, "failureReason": "Lambda crashed"}}))
    assert acc.steps[0].name == "invoke_agent billing"
    assert acc.error_type == "500"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"trace": None},
        {"trace": {"trace": "x"}},
        {"trace": {"trace": {"orchestrationTrace": {"observation": {"type": "ACTION_GROUP"}}}}},
        {"trace": {"trace": {"orchestrationTrace": {"invocationInput": {"invocationType": "FINISH"}}}}},
        {"chunk": {}},
        None,
    ],
)
def test_agent_odd_events(event: Any) -> None:
    acc = AgentTraceAccumulator()
    acc.feed(event)
    assert acc.steps == []
    assert acc.chunks == 0
    assert acc.error_type is None


def test_agent_exception_event() -> None:
    acc = AgentTraceAccumulator()
    acc.feed({"throttlingException": {"message": "slow down"}})
    assert acc.error_type == "ThrottlingException"


def test_retrieve() -> None:
    request = retrieve_request(
        {
            "knowledgeBaseId": "KB12345678",
            "retrievalQuery": {"text": "refunds"},
            "guardrailConfiguration": {"guardrailId": "g1", "guardrailVersion": "2"},
        }
    )
    assert request.attributes() == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.provider.name": "aws.bedrock",
        "aws.bedrock.guardrail.id": "g1",
        "aws.bedrock.guardrail.version": "2",
        "aws.bedrock.knowledge_base.id": "KB12345678",
        "gen_ai.data_source.id": "KB12345678",
    }
    response = retrieve_response(
        {
            "retrievalResults": [
                {"content": {"text": "a"}, "score": 0.9},
                {"content": {"text": "b"}, "score": 0.5},
            ],
            "guardrailAction": "NONE",
        }
    )
    assert response.attributes() == {
        "aws.bedrock.guardrail.intervened": False,
        "aws.bedrock.retrieval.result_count": 2,
    }


def test_retrieve_and_generate() -> None:
    params = {
        "input": {"text": "What is the refund policy?"},
        "sessionId": "s-9",
        "retrieveAndGenerateConfiguration": {
            "type": "KNOWLEDGE_BASE",
            "knowledgeBaseConfiguration": {
                "knowledgeBaseId": "KB12345678",
                "modelArn": HAIKU_ARN,
                "generationConfiguration": {
                    "inferenceConfig": {"textInferenceConfig": {"maxTokens": 300, "temperature": 0.1, "topP": 0.9}},
                    "guardrailConfiguration": {"guardrailId": "g1", "guardrailVersion": "1"},
                },
            },
        },
    }
    request = retrieve_and_generate_request(params)
    assert request.operation_name == "retrieve_and_generate"
    assert request.model == "anthropic.claude-3-haiku-20240307-v1:0"
    assert (request.max_tokens, request.temperature, request.top_p) == (300, 0.1, 0.9)
    assert request.knowledge_base_id == "KB12345678"
    assert request.conversation_id == "s-9"
    assert request.guardrail_id == "g1"
    response = retrieve_and_generate_response(
        {
            "sessionId": "s-9",
            "output": {"text": "30 days."},
            "citations": [{}, {}, {}],
            "guardrailAction": "INTERVENED",
        }
    )
    assert response.attributes() == {
        "gen_ai.conversation.id": "s-9",
        "aws.bedrock.guardrail.intervened": True,
        "aws.bedrock.retrieve_and_generate.citation_count": 3,
    }


def test_retrieve_and_generate_external_sources_and_garbage() -> None:
    request = retrieve_and_generate_request(
        {
            "retrieveAndGenerateConfiguration": {
                "type": "EXTERNAL_SOURCES",
                "externalSourcesConfiguration": {
                    "modelArn": "anthropic.claude-3-haiku-20240307-v1:0",
                    "sources": [],
                },
            }
        }
    )
    assert request.model == "anthropic.claude-3-haiku-20240307-v1:0"
    assert retrieve_and_generate_request({"retrieveAndGenerateConfiguration": "x"}).model is None
    assert retrieve_and_generate_response(None).attributes() == {}  # type: ignore[arg-type]
    assert retrieve_response([]).attributes() == {}  # type: ignore[arg-type]


def _model_step(trace_id: str, at: Any, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The opening and closing trace events of one model invocation, both at ``at`` unless metadata says."""
    opening = _trace({"orchestrationTrace": {"modelInvocationInput": {"traceId": trace_id, "foundationModel": "m"}}})
    closing = _trace(
        {"orchestrationTrace": {"modelInvocationOutput": {"traceId": trace_id, "metadata": metadata or {}}}}
    )
    opening["trace"]["eventTime"] = closing["trace"]["eventTime"] = at
    return [opening, closing]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"startTime": T0, "endTime": T1}, (T0_NS, T0_NS + 2 * SECOND)),
        ({"endTime": T1, "totalTimeMs": 500}, (T0_NS + 1500 * MS, T0_NS + 2 * SECOND)),
        ({"startTime": T1, "totalTimeMs": 500}, (T0_NS + 2 * SECOND, T0_NS + 2500 * MS)),
        ({"operationTotalTimeMs": 300}, (T0_NS, T0_NS + 300 * MS)),
        ({}, (T0_NS, T0_NS)),
    ],
    ids=["start-and-end", "end-and-total", "start-and-total", "total-from-the-event-time", "event-times-only"],
)
def test_agent_step_times_come_from_bedrocks_metadata_first(
    metadata: dict[str, Any], expected: tuple[int, int]
) -> None:
    acc = AgentTraceAccumulator(clock=lambda: pytest.fail("every event has an eventTime"))
    for event in _model_step("t-1", T0, metadata):
        acc.feed(event)
    (step,) = acc.steps
    assert (step.start_ns, step.end_ns) == expected


def test_agent_step_times_fall_back_to_the_event_times_then_to_when_events_were_read() -> None:
    ticks = iter([7 * SECOND, 9 * SECOND])
    acc = AgentTraceAccumulator(clock=lambda: next(ticks))
    opening, closing = _model_step("t-1", T0)
    closing["trace"]["eventTime"] = "2026-11-22T10:00:02Z"  # as text, as a JSON decoder leaves it
    for event in [opening, closing, *_model_step("t-2", None)]:  # t-2's events carry no eventTime
        acc.feed(event)
    timed, read = acc.steps
    assert (timed.start_ns, timed.end_ns) == (T0_NS, T0_NS + 2 * SECOND)
    assert (read.start_ns, read.end_ns) == (7 * SECOND, 9 * SECOND)


def test_an_unclosed_step_has_no_end() -> None:
    acc = AgentTraceAccumulator()
    acc.feed(_model_step("t-1", T0)[0])
    (step,) = acc.steps
    assert (step.start_ns, step.end_ns, step.complete) == (T0_NS, None, False)


PARENT = (100, 200)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (120, 180, (120, 180)),  # inside: Bedrock's own times
        (None, 150, (100, 150)),  # no start: from the parent's start
        (120, None, (120, 200)),  # never closed: to the parent's end
        (50, 250, (100, 200)),  # clock skew: clamped into the parent
        (250, 300, (200, 200)),
        (10, 20, (100, 100)),
        (180, 120, (180, 180)),  # never ends before it starts
    ],
)
def test_step_window_keeps_a_step_inside_its_parent(start: Any, end: Any, expected: tuple[int, int]) -> None:
    step = AgentStep(name="chat m", operation="chat", attributes={}, start_ns=start, end_ns=end)
    assert step_window(step, *PARENT) == expected


def test_time_ns_reads_botocore_datetimes_and_iso_text() -> None:
    assert time_ns(T0) == T0_NS
    assert time_ns(T0.replace(tzinfo=None)) == T0_NS  # naive: UTC
    assert time_ns(datetime(2026, 11, 22, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))) == T0_NS + 123456000
    assert time_ns("2026-11-22T10:00:00Z") == T0_NS
    assert [time_ns(v) for v in (None, "yesterday", 12)] == [None, None, None]

"""The operator helpers in a real app: configure(), uvicorn, boto3 to the Bedrock stand-in, OTLP to a sink.

A FastAPI chat route looks its prompt up in a cache (``cache_lookup``), and on a miss asks
Bedrock through a failover chain (``failover``): Converse on the primary model, InvokeModel
on the fallback. A feedback route passes the ``X-Trace-Id`` the distro returned to
``record_feedback``. Throttling is injected per model. Everything arrives over OTLP/HTTP,
and every count is what the clients did, exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi import FastAPI, HTTPException
from starlette.concurrency import run_in_threadpool

from otel_chatbot import cache_lookup, configure, failover, record_feedback
from otel_chatbot.demo.servers import AppServer
from otel_chatbot.telemetry import Telemetry
from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.otlp_sink import OtlpSink
from otel_chatbot.testing.settings import sink_settings

pytestmark = pytest.mark.e2e

PRIMARY = "us.anthropic.claude-3-5-haiku-20241022-v1:0"  # $0.80 / $4.00 per 1M tokens in / out
FALLBACK = "anthropic.claude-3-haiku-20240307-v1:0"
BEDROCK = "aws.bedrock"


@dataclass
class Cached:
    reply: str
    input_tokens: int
    output_tokens: int


def build_app(bedrock: BedrockServer) -> FastAPI:
    app = FastAPI()
    answers: dict[str, Cached] = {}
    retries = Config(retries={"total_max_attempts": 1, "mode": "standard"})  # a throttle fails the call
    client = boto3.client("bedrock-runtime", config=retries, **bedrock.client_kwargs())

    def converse(prompt: str) -> Cached:
        response = client.converse(modelId=PRIMARY, messages=[{"role": "user", "content": [{"text": prompt}]}])
        usage = response["usage"]
        text = response["output"]["message"]["content"][0]["text"]
        return Cached(text, usage["inputTokens"], usage["outputTokens"])

    def invoke(prompt: str) -> Cached:
        body = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": prompt}],
        }
        response = client.invoke_model(modelId=FALLBACK, body=json.dumps(body))
        answer = json.loads(response["body"].read())
        usage = answer["usage"]
        return Cached(answer["content"][0]["text"], usage["input_tokens"], usage["output_tokens"])

    @app.post("/chat")
    async def chat(body: dict[str, str]) -> dict[str, Any]:
        prompt = body["message"]
        with cache_lookup("semantic", model=PRIMARY) as lookup:
            found = answers.get(prompt)
            if found is not None:
                lookup.hit(similarity=1.0, input_tokens=found.input_tokens, output_tokens=found.output_tokens)
            else:
                lookup.miss(similarity=0.25)
        if found is not None:
            return {"reply": found.reply, "cached": True}
        with failover("chat") as chain:
            for model, call in ((PRIMARY, converse), (FALLBACK, invoke)):
                try:
                    with chain.attempt(provider=BEDROCK, model=model):
                        answer = await run_in_threadpool(call, prompt)
                    break
                except ClientError:
                    continue
            else:
                raise HTTPException(503, "every model is busy")
        answers[prompt] = answer
        return {"reply": answer.reply, "cached": False, "usage": [answer.input_tokens, answer.output_tokens]}

    @app.post("/feedback", status_code=204)
    async def feedback(body: dict[str, Any]) -> None:
        try:
            record_feedback(body["trace_id"], body["score"], label=body.get("label"), comment=body.get("comment"))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    return app


@dataclass
class Run:
    sink: OtlpSink
    telemetry: Telemetry
    trace_ids: dict[str, str]
    usage: list[int]


@pytest.fixture(scope="module")
def run(otlp_sink: OtlpSink, bedrock_server: BedrockServer) -> Iterator[Run]:
    """One scripted session against the app; the tests read what the sink received."""
    bedrock_server.reset()
    app = build_app(bedrock_server)
    telemetry = configure(app, set_global_providers=False, capture_message_content=True, **sink_settings(otlp_sink))
    server = AppServer(app).start()
    trace_ids: dict[str, str] = {}
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:

            def chat(step: str, message: str, status: int = 200) -> dict[str, Any]:
                response = client.post("/chat", json={"message": message})
                assert response.status_code == status, response.text
                trace_ids[step] = response.headers["x-trace-id"]
                return dict(response.json())

            first = chat("primary", "where is my order?")
            bedrock_server.inject("throttle", operation="Converse", model=PRIMARY)
            assert chat("fallback", "do you ship to Canada?")["cached"] is False
            assert chat("hit", "where is my order?")["cached"] is True
            bedrock_server.inject("throttle", operation="Converse", model=PRIMARY)
            bedrock_server.inject("throttle", operation="InvokeModel", model=FALLBACK)
            chat("exhausted", "cancel my order", status=503)
            for trace_id, score, label, comment in (
                (trace_ids["primary"], 0, "thumbs_down", "wrong order, mail bob@example.com"),
                (trace_ids["fallback"], 1, "thumbs_up", None),
                ("0af7651916cd43dd8448eb211c80319c", 0.75, "stars", None),  # another worker's answer
            ):
                response = client.post(
                    "/feedback", json={"trace_id": trace_id, "score": score, "label": label, "comment": comment}
                )
                assert response.status_code == 204, response.text
            bad = client.post("/feedback", json={"trace_id": "not-a-trace", "score": 1})
            assert bad.status_code == 400 and "must be 32 hex digits" in bad.text
        assert telemetry.force_flush()
        yield Run(otlp_sink, telemetry, trace_ids, first["usage"])
    finally:
        server.stop()
        telemetry.shutdown()


def counter(run: Run, metric: str, *keys: str) -> dict[tuple[Any, ...], float]:
    """Latest cumulative value per attribute set, summed by ``keys``."""
    latest: dict[tuple[tuple[str, Any], ...], Any] = {}
    for point in run.sink.metric_points(metric):
        if point.resource.get("service.name") == run.telemetry.settings.service_name:
            latest[tuple(sorted(point.attributes.items()))] = point
    totals: dict[tuple[Any, ...], float] = {}
    for point in latest.values():
        key = tuple(point.attributes.get(k) for k in keys)
        totals[key] = totals.get(key, 0) + (point.value if point.value is not None else point.count)
    return totals


def test_the_cache_counts_every_lookup_and_what_the_hit_saved(run: Run) -> None:
    assert counter(run, "chatbot.cache.lookups", "chatbot.cache.name", "chatbot.cache.result") == {
        ("semantic", "miss"): 3,
        ("semantic", "hit"): 1,
    }
    input_tokens, output_tokens = run.usage
    assert counter(run, "chatbot.cache.saved.tokens", "gen_ai.token.type", "gen_ai.request.model") == {
        ("input", PRIMARY): input_tokens,
        ("output", PRIMARY): output_tokens,
    }
    cost = counter(run, "chatbot.cache.saved.cost", "gen_ai.token.type")
    assert cost == {
        ("input",): pytest.approx(input_tokens * 0.8 / 1e6),
        ("output",): pytest.approx(output_tokens * 4.0 / 1e6),
    }
    assert counter(run, "chatbot.cache.similarity", "chatbot.cache.result") == {("miss",): 3, ("hit",): 1}


def test_the_failover_counts_attempts_switches_chains_and_the_overhead(run: Run) -> None:
    keys = ("gen_ai.request.model", "chatbot.failover.outcome", "error.type")
    assert counter(run, "chatbot.failover.attempts", *keys) == {
        (PRIMARY, "served", None): 1,
        (PRIMARY, "failed", "ThrottlingException"): 2,
        (FALLBACK, "served", None): 1,
        (FALLBACK, "failed", "ThrottlingException"): 1,
    }
    switches = ("chatbot.failover.from", "chatbot.failover.to", "error.type")
    assert counter(run, "chatbot.failover.switches", *switches) == {(BEDROCK, BEDROCK, "ThrottlingException"): 2}
    assert counter(run, "chatbot.failover.chains", "chatbot.failover.outcome") == {("served",): 2, ("exhausted",): 1}
    assert counter(run, "chatbot.failover.overhead", "gen_ai.provider.name") == {(BEDROCK,): 1}


def test_bedrock_spans_nest_under_their_attempt_under_the_chain_under_the_request(run: Run) -> None:
    trace_id = run.trace_ids["fallback"]
    spans = {s.name: s for s in run.sink.spans() if s.trace_id == trace_id}
    chain, server = spans["failover chat"], spans["POST /chat"]
    attempts = sorted((s for s in run.sink.spans() if s.trace_id == trace_id and s.name == "attempt aws.bedrock"),
                      key=lambda s: s.attributes["chatbot.failover.attempt"])  # fmt: skip
    assert [a.attributes["chatbot.failover.outcome"] for a in attempts] == ["failed", "served"]
    assert chain.parent_span_id == server.span_id == spans["cache_lookup semantic"].parent_span_id
    assert all(a.parent_span_id == chain.span_id for a in attempts)
    converse, invoke = spans[f"chat {PRIMARY}"], spans[f"chat {FALLBACK}"]
    assert converse.parent_span_id == attempts[0].span_id and converse.status_code == "ERROR"
    assert invoke.parent_span_id == attempts[1].span_id
    assert (
        chain.attributes["gen_ai.request.model"] == FALLBACK and chain.attributes["chatbot.failover.attempt_count"] == 2
    )
    exhausted = next(s for s in run.sink.spans("failover chat") if s.trace_id == run.trace_ids["exhausted"])
    assert exhausted.status_code == "ERROR" and exhausted.attributes["chatbot.failover.outcome"] == "exhausted"


def test_feedback_events_land_in_the_answers_traces(run: Run) -> None:
    events = [e for e in run.sink.logs() if e.event_name == "gen_ai.evaluation.result"]
    by_trace = {e.trace_id: e for e in events}
    assert len(events) == 3 and set(by_trace) == {
        run.trace_ids["primary"],
        run.trace_ids["fallback"],
        "0af7651916cd43dd8448eb211c80319c",
    }
    primary = by_trace[run.trace_ids["primary"]]
    (converse,) = [s for s in run.sink.spans(f"chat {PRIMARY}") if s.trace_id == run.trace_ids["primary"]]
    assert primary.span_id == converse.span_id, "parented to the GenAI span it evaluates"
    assert primary.attributes["gen_ai.evaluation.name"] == "user_feedback"
    assert primary.attributes["gen_ai.evaluation.score.value"] == 0.0
    assert primary.attributes["gen_ai.evaluation.score.label"] == "thumbs_down"
    explanation = primary.attributes["gen_ai.evaluation.explanation"]
    assert "wrong order" in explanation and "bob@example.com" not in explanation, "captured, redacted"
    fallback = by_trace[run.trace_ids["fallback"]]
    assert str(fallback.attributes["gen_ai.response.id"]).startswith("msg_bdrk_"), "InvokeModel's message id"
    unknown = by_trace["0af7651916cd43dd8448eb211c80319c"]
    assert unknown.span_id is None and "gen_ai.response.id" not in unknown.attributes
    assert counter(run, "chatbot.feedback", "gen_ai.evaluation.score.label", "chatbot.feedback.sentiment") == {
        ("thumbs_down", "negative"): 1,
        ("thumbs_up", "positive"): 1,
        ("stars", "positive"): 1,
    }
    assert counter(run, "chatbot.feedback.score") == {(): 3}

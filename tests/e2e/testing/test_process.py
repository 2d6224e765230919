"""The kit's servers in child processes: started, used through real clients, stopped with exit code 0."""

from __future__ import annotations

import json
import socket
import urllib.request
from typing import Any

import anthropic
import boto3
import httpx
import openai
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otel_chatbot.testing.process import (
    anthropic_process,
    bedrock_process,
    ollama_process,
    openai_process,
    otlp_sink_process,
)

pytestmark = pytest.mark.e2e

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def send_spans(endpoint: str, *names: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "process-test"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    tracer = provider.get_tracer("test")
    for name in names:
        with tracer.start_as_current_span(name):
            pass
    provider.shutdown()


def test_the_bedrock_stand_in_answers_boto3_from_a_child_process() -> None:
    with bedrock_process() as server:
        assert server.url.startswith("http://127.0.0.1:")
        client = boto3.client(
            "bedrock-runtime",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        try:
            reply = client.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": "hello there"}]}])
        finally:
            client.close()  # its pooled socket would otherwise wait for a later test's gc.collect()
        ledger = get_json(f"{server.url}/__control/ledger")
        assert ledger["totals"]["calls"] == 1
        assert ledger["totals"]["output_tokens"] == reply["usage"]["outputTokens"]
        assert server.running
    assert not server.running and server.process.returncode == 0


def test_the_provider_stand_ins_answer_their_sdks_from_child_processes() -> None:
    question = [{"role": "user", "content": "hello there"}]
    with openai_process() as openai_server, anthropic_process() as anthropic_server, ollama_process() as ollama:
        with openai.OpenAI(base_url=f"{openai_server.url}/v1", api_key="k", max_retries=0) as sdk:
            completion = sdk.chat.completions.create(model="gpt-4o-mini", messages=question)
        with anthropic.Anthropic(base_url=anthropic_server.url, api_key="k", max_retries=0) as claude:
            message = claude.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=question)
        body = {"model": "llama3.2", "prompt": "hi", "stream": False}
        generated = httpx.post(f"{ollama.url}/api/generate", json=body)
        counted = [
            get_json(f"{server.url}/__control/ledger")["totals"]["output_tokens"]
            for server in (openai_server, anthropic_server, ollama)
        ]
        assert counted == [
            completion.usage.completion_tokens if completion.usage else None,
            message.usage.output_tokens,
            generated.json()["eval_count"],
        ]
    assert [server.process.returncode for server in (openai_server, anthropic_server, ollama)] == [0, 0, 0]


def test_the_sink_keeps_what_it_receives_and_reads_it_back_over_http() -> None:
    sink = otlp_sink_process()
    try:
        send_spans(sink.url, "first", "second")
        assert sorted(span["name"] for span in get_json(f"{sink.url}/__sink/spans")) == ["first", "second"]
    finally:
        assert sink.stop() == 0


def test_a_count_only_sink_counts_without_keeping() -> None:
    with otlp_sink_process(count_only=True) as sink:
        send_spans(sink.url, "one", "two", "three")
        assert get_json(f"{sink.url}/__sink/stats")["items"]["traces"] == 3
        assert get_json(f"{sink.url}/__sink/spans") == []


def test_a_server_that_cannot_bind_fails_at_start_naming_the_module() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=r"python -m otel_chatbot.testing.bedrock did not start \(exit code 1\)"):
            bedrock_process(port=port)

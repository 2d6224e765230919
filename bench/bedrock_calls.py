"""CPU per Bedrock call that the AWS/GenAI instrumentation adds, in one process, no network.

Run from the repository root (~10 s)::

    .venv/bin/python bench/bedrock_calls.py
    .venv/bin/python bench/bedrock_calls.py --calls 250 --pairs 16

A real boto3 ``bedrock-runtime`` client answers from botocore's ``Stubber`` (the whole client
path runs: parameter validation, events, parsing of the stubbed response; no HTTP), in
batches alternately bare and with the distro's AWS patch applied (the same patch object,
reverted and re-applied between batches). Spans go to a ``SimpleSpanProcessor`` with an
exporter that drops them, metrics to an in-memory reader, so what differs is the
instrumentation's own work on the calling thread: the span, the GenAI attributes, cost and
metrics. To compare two versions, run each in turn on the same machine (this file runs
against the package next to it).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from otel_chatbot.config import load_settings
from otel_chatbot.pipelines import build_pipelines
from otel_chatbot.resource import build_resource
from otel_chatbot.wiring import Instrumentations

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
CONVERSE_PARAMS: dict[str, Any] = {
    "modelId": MODEL,
    "messages": [{"role": "user", "content": [{"text": "hello there"}]}],
    "inferenceConfig": {"maxTokens": 50, "temperature": 0.2},
}
CONVERSE_RESULT: dict[str, Any] = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hello! How can I help?"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19},
    "metrics": {"latencyMs": 120},
}
INVOKE_BODY = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 40, "messages": [{"role": "user", "content": "hi"}]}
)
INVOKE_RESULT = json.dumps(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-haiku",
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 9, "output_tokens": 3},
    }
).encode()


class _Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _client() -> Any:
    return boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def _converse(client: Any, stubber: Stubber, calls: int) -> Callable[[], None]:
    for _ in range(calls):
        stubber.add_response("converse", CONVERSE_RESULT)

    def run() -> None:
        for _ in range(calls):
            client.converse(**CONVERSE_PARAMS)

    return run


def _invoke(client: Any, stubber: Stubber, calls: int) -> Callable[[], None]:
    for _ in range(calls):
        body = StreamingBody(io.BytesIO(INVOKE_RESULT), len(INVOKE_RESULT))
        stubber.add_response("invoke_model", {"body": body, "contentType": "application/json"})

    def run() -> None:
        for _ in range(calls):
            client.invoke_model(modelId=MODEL, body=INVOKE_BODY)["body"].read()

    return run


def _instrumented() -> tuple[Any, Any, Any]:
    """The distro's AWS patch on fresh pipelines (spans dropped, metrics kept in memory), applied."""
    settings = load_settings(
        {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none"}, environ={}
    )
    pipelines = build_pipelines(
        settings,
        build_resource(settings, environ={}),
        extra_span_processors=[SimpleSpanProcessor(_Drop())],
        extra_metric_readers=[InMemoryMetricReader()],
    )
    instrumentations = Instrumentations(settings, pipelines, on_shutdown=pipelines.force_flush)
    instrumentations.apply_libraries(patch_all_apps=False)
    return instrumentations, pipelines, instrumentations._aws()  # the BotocoreInstrumentation, to toggle


def _batch(run: Callable[[], None]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def _compare(
    scenario: Callable[[Any, Stubber, int], Callable[[], None]], calls: int, pairs: int
) -> dict[str, list[float]]:
    """CPU µs per call of ``pairs`` bare and instrumented batches, alternated in one process."""
    instrumentations, pipelines, patch = _instrumented()
    client = _client()
    times: dict[str, list[float]] = {"bare": [], "instrumented": []}
    with Stubber(client) as stubber:
        warm_up = scenario(client, stubber, 50)
        warm_up()
        for _ in range(pairs):
            patch.revert()
            times["bare"].append(_batch(scenario(client, stubber, calls)) / calls * 1e6)
            patch.apply_sync()
            times["instrumented"].append(_batch(scenario(client, stubber, calls)) / calls * 1e6)
    instrumentations.revert()
    pipelines.shutdown()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=250, help="calls per batch")
    parser.add_argument("--pairs", type=int, default=8, help="bare/instrumented batch pairs per scenario")
    args = parser.parse_args(argv)
    print(
        f"CPU µs per call; {args.pairs} pairs of bare/instrumented batches of {args.calls} calls, alternated; "
        "min and median over batches, added = instrumented - bare (min: least disturbed by other load)"
    )
    for name, scenario in (("Converse", _converse), ("InvokeModel (body read)", _invoke)):
        times = _compare(scenario, args.calls, args.pairs)
        bare, ours = times["bare"], times["instrumented"]
        added = [o - b for o, b in zip(ours, bare, strict=True)]
        print(
            f"  {name:<24} bare {min(bare):6.1f} / {statistics.median(bare):6.1f}   "
            f"instrumented {min(ours):6.1f} / {statistics.median(ours):6.1f}   "
            f"added {min(ours) - min(bare):6.1f} (min) / {statistics.median(added):6.1f} (median of pairs)"
        )


if __name__ == "__main__":
    main()

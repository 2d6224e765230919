"""Span facts for the Chat experience section and the cache columns, read from real SDK spans."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from otel_chatbot.demo.spans import SpanCollector
from otel_chatbot.instrumentation.asgi import names as n


def test_stream_websocket_and_cache_attributes_become_facts() -> None:
    provider = TracerProvider()
    collector = SpanCollector()
    provider.add_span_processor(SimpleSpanProcessor(collector))
    tracer = provider.get_tracer("test")
    stream = {"http.route": "/chat/{id}/stream", n.STREAM_OUTCOME: "cancelled", n.STREAM_TIME_TO_FIRST_BYTE: 0.125}
    with tracer.start_as_current_span("POST /chat/{id}/stream", kind=SpanKind.SERVER, attributes=stream):
        pass
    socket = {
        "http.route": "/ws/{id}",
        "http.response.status_code": 101,
        n.WEBSOCKET_MESSAGES_RECEIVED: 2,
        n.WEBSOCKET_MESSAGES_SENT: 17,
    }
    with tracer.start_as_current_span("GET /ws/{id}", kind=SpanKind.SERVER, attributes=socket):
        pass
    cached = {
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.cache_creation.input_tokens": 0,
    }
    with tracer.start_as_current_span("chat m", kind=SpanKind.CLIENT, attributes=cached):
        pass
    with tracer.start_as_current_span("GET /health", kind=SpanKind.SERVER, attributes={n.STREAM_OUTCOME: 3}):
        pass
    provider.shutdown()

    streamed, websocket, call, plain = collector.facts()
    assert (streamed.route, streamed.stream_outcome) == ("/chat/{id}/stream", "cancelled")
    assert streamed.stream_ttfb_s == 0.125
    assert streamed.ws_received is None and streamed.ws_sent is None
    assert (websocket.status_code, websocket.ws_received, websocket.ws_sent) == (101, 2, 17)
    assert websocket.stream_outcome is None and websocket.route == "/ws/{id}"
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (120, 100, 0)
    assert plain.stream_outcome is None and plain.route is None  # not a string: ignored

"""A Tempo stand-in: a real OTLP/gRPC receiver behind Tempo's ``/ready`` and ``/api/traces/{id}``.

Tempo itself cannot run here, so the health command's Tempo check is tested against this:
the collector exports traces to it over OTLP/gRPC exactly as it would to Tempo (its
``otlp_grpc/tempo`` exporter), and the two HTTP endpoints the check uses answer the way
Tempo's query API does: ``/ready`` says ``ready`` (503 while not), ``/api/traces/<hex id>``
is the trace as OTLP JSON ``{"batches": [...]}`` or 404.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from otel_chatbot.testing.otlp_sink import OtlpSink, SpanRecord


def trace_document(spans: list[SpanRecord]) -> dict[str, Any]:
    """Spans of one trace in the shape of Tempo's v1 trace-by-id answer, one batch per service."""
    by_service: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        by_service[str(span.resource.get("service.name", ""))].append(span)
    return {
        "batches": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": s.trace_id,
                                "spanId": s.span_id,
                                "parentSpanId": s.parent_span_id or "",
                                "name": s.name,
                                "kind": f"SPAN_KIND_{s.kind}",
                                "startTimeUnixNano": str(s.start_ns),
                                "endTimeUnixNano": str(s.end_ns),
                            }
                            for s in group
                        ]
                    }
                ],
            }
            for service, group in by_service.items()
        ]
    }


class _Api(BaseHTTPRequestHandler):
    server: TempoStandIn.Server

    def do_GET(self) -> None:
        standin = self.server.standin
        if self.path == "/ready":
            ready = standin.ready.is_set()
            self._reply(200 if ready else 503, "text/plain", b"ready" if ready else b"Ingester not ready")
        elif self.path.startswith("/api/traces/"):
            trace_id = self.path.removeprefix("/api/traces/").split("?")[0].lower()
            spans = [s for s in standin.sink.spans() if s.trace_id == trace_id]
            if spans:
                self._reply(200, "application/json", json.dumps(trace_document(spans)).encode())
            else:
                self._reply(404, "text/plain", b"trace not found")
        else:
            self._reply(404, "text/plain", b"404 page not found")

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class TempoStandIn:
    """``grpc_endpoint`` takes OTLP traces (point the collector's Tempo exporter at it); ``url`` is the API."""

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        standin: TempoStandIn

    def __init__(self) -> None:
        self.sink = OtlpSink()
        self.ready = threading.Event()
        self.ready.set()
        self._api = self.Server(("127.0.0.1", 0), _Api)
        self._api.standin = self
        self._thread = threading.Thread(target=self._api.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._api.server_address[1]}"

    @property
    def grpc_endpoint(self) -> str:
        return self.sink.grpc_endpoint

    def __enter__(self) -> TempoStandIn:
        self.sink.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._api.shutdown()
        self._api.server_close()
        self.sink.stop()

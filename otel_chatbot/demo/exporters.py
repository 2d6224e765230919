"""The demo's span outputs: OTLP/JSON lines in a file, and one readable line per span.

:class:`OtlpJsonFileSpanExporter` writes what an OTLP/HTTP JSON exporter would send, one
``ExportTraceServiceRequest`` per line (the collector's ``file`` exporter format, so the
file can be replayed or read by ``otelcol``'s ``otlpjsonfile`` receiver).
:func:`readable_line_exporter` is the SDK's ``ConsoleSpanExporter`` with our formatter: one
short line per span, with the attributes a person looks at first, for following a demo or a
local run in the terminal.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode

# OTLP/JSON differs from the plain proto3 JSON mapping in one way: ids are hex, not base64.
_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


def _hex_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex() if key in _ID_FIELDS and isinstance(value, str) else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def otlp_json(spans: Sequence[ReadableSpan]) -> str:
    """One OTLP/JSON ``ExportTraceServiceRequest`` (camelCase fields, integer enums, hex ids)."""
    tree = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    return json.dumps(_hex_ids(tree), separators=(",", ":"))


class OtlpJsonFileSpanExporter(SpanExporter):
    """Writes one OTLP/JSON line per export batch to a fresh file, flushed at once so ``tail -f`` follows.

    Ours, not upstream's ``opentelemetry-exporter-otlp-json-file`` (``FileSpanExporter``), because
    no release of it installs beside the OTLP exporters we pin: 0.66b1 (the newest) requires
    ``opentelemetry-exporter-otlp-common==0.66b1``, ``opentelemetry-exporter-otlp-proto-http``
    and ``-grpc`` 1.45.2 require ``==0.66b2`` (pip: ResolutionImpossible). Its output is the same
    format: for the same spans, its lines and ours parse to equal JSON (0.66b1, SDK 1.45.2).
    Switch when a release pins the exporters' ``otlp-common``; it appends to the file (truncate first).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file: TextIO | None = self.path.open("w", encoding="utf-8")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        line = otlp_json(spans) + "\n"
        with self._lock:
            if self._file is None:
                return SpanExportResult.FAILURE
            try:
                self._file.write(line)
                self._file.flush()
            except OSError:
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # every export is flushed before it returns

    def shutdown(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _ms(seconds: Any) -> str:
    return f"{float(seconds) * 1000:.1f}ms"


def _usd(value: Any) -> str:
    return f"${float(value):.6f}"


# (attribute, label, formatter): what a line shows after the span name, in this order.
LINE_ATTRIBUTES: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("http.route", "route", str),
    ("http.response.status_code", "status", str),
    ("error.type", "error", str),
    ("gen_ai.request.model", "model", str),
    ("gen_ai.usage.input_tokens", "in", str),
    ("gen_ai.usage.output_tokens", "out", str),
    ("gen_ai.usage.cost", "cost", _usd),
    ("gen_ai.response.time_to_first_chunk", "ttfc", _ms),
    ("gen_ai.conversation.id", "conv", str),
)

_STATUS = {StatusCode.UNSET: "-", StatusCode.OK: "OK", StatusCode.ERROR: "ERROR"}


def readable_line(span: ReadableSpan) -> str:
    """``time duration KIND name status key=value... trace=xxxxxxxx`` for one finished span."""
    start = span.start_time or 0
    duration_ns = (span.end_time or start) - start
    when = datetime.datetime.fromtimestamp(start / 1e9).strftime("%H:%M:%S.%f")[:-3]
    attributes: Mapping[str, Any] = span.attributes or {}
    details = [f"{label}={fmt(attributes[key])}" for key, label, fmt in LINE_ATTRIBUTES if key in attributes]
    trace_id = f"{span.context.trace_id:032x}"[:8] if span.context is not None else "-"
    return " ".join(
        [
            when,
            f"{duration_ns / 1e6:8.1f}ms",
            f"{span.kind.name:<8}",
            span.name,
            _STATUS[span.status.status_code],
            *details,
            f"trace={trace_id}",
        ]
    )


def readable_line_exporter(stream: TextIO, prefix: str = "") -> ConsoleSpanExporter:
    """The SDK's console exporter printing ``prefix`` + :func:`readable_line` for each span (one write each)."""
    return ConsoleSpanExporter(out=stream, formatter=lambda span: f"{prefix}{readable_line(span)}\n")

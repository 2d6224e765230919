"""The batch log record processor: records kept until sent, and made exportable on the way out.

Upstream's ``BatchLogRecordProcessor`` drops a batch its exporter failed to send; this one
keeps it in the bounded queue and sends it again (:mod:`otel_chatbot.export.retaining_queue`),
counting what the bound forces out (:mod:`otel_chatbot.export.queue_metrics`).

On the export thread each record is passed through the rules of
:mod:`otel_chatbot.export.safe_values` before the exporter sees it: upstream's log encoder
fails the whole batch on a body it cannot encode (an integer beyond int64, a string with
lone surrogates, an object of an unknown type) and logs a traceback for every attribute it
cannot encode. The app's thread pays only what upstream's ``on_emit`` pays (a shallow copy
of the record, so the batch does not keep the app's context alive).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource

from otel_chatbot.export.queue_metrics import observe_queue
from otel_chatbot.export.retaining_queue import Outcome, RetainingQueue, outcome_of
from otel_chatbot.export.safe_values import (
    FINDINGS,
    HUGE,
    MAX_ITEM_BYTES,
    exportable_attributes,
    exportable_body,
    text_size,
    truncated,
    valid_text,
)

# Upstream's defaults (OTEL_BLRP_*), for callers that do not pass the settings.
DEFAULT_MAX_QUEUE_SIZE = 2048
DEFAULT_SCHEDULE_DELAY_MS = 1000
DEFAULT_MAX_EXPORT_BATCH_SIZE = 512
DEFAULT_EXPORT_TIMEOUT_MS = 30_000

_WHERE = "the OTLP log export"


class RetainingBatchLogRecordProcessor(LogRecordProcessor):
    """A batching log record processor that retries failed batches."""

    def __init__(
        self,
        exporter: LogRecordExporter,
        schedule_delay_millis: float = DEFAULT_SCHEDULE_DELAY_MS,
        max_export_batch_size: int = DEFAULT_MAX_EXPORT_BATCH_SIZE,
        export_timeout_millis: float = DEFAULT_EXPORT_TIMEOUT_MS,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        *,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._exporter = exporter
        self._shutdown_timeout_millis = export_timeout_millis
        self._queue: RetainingQueue[ReadableLogRecord] = RetainingQueue(
            self._send,
            name="log record",
            max_queue_size=max_queue_size,
            max_export_batch_size=max_export_batch_size,
            schedule_delay_millis=schedule_delay_millis,
        )
        if meter_provider is not None:
            observe_queue(meter_provider, self._queue, "logs")

    @property
    def exporter(self) -> LogRecordExporter:
        return self._exporter

    @property
    def queue(self) -> RetainingQueue[ReadableLogRecord]:
        return self._queue

    def _send(self, batch: Sequence[ReadableLogRecord]) -> Outcome:
        result = self._exporter.export([exportable_record(record) for record in batch])
        return outcome_of(result is LogRecordExportResult.SUCCESS, self._exporter)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        # As upstream's on_emit: a shallow copy without the context, which may be large.
        resource = log_record.resource if log_record.resource is not None else Resource.create({})
        record = copy.copy(log_record.log_record)
        record.context = Context()
        self._queue.emit(
            ReadableLogRecord(
                log_record=record,
                resource=resource,
                instrumentation_scope=log_record.instrumentation_scope,
                limits=log_record.limits,
            )
        )

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._queue.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._queue.shutdown(self._shutdown_timeout_millis)
        self._exporter.shutdown()  # type: ignore[no-untyped-call]


def exportable_record(readable: ReadableLogRecord) -> ReadableLogRecord:
    """``readable`` itself when upstream's encoder can take all of it; else a converted copy.

    Body: converted (:func:`~otel_chatbot.export.safe_values.exportable_body`); attributes:
    those upstream cannot encode are left out; severity text and event name: U+FFFD for lone
    surrogates; a record over ``MAX_ITEM_BYTES`` of text: its strings truncated.
    """
    record = readable.log_record
    body: Any = record.body
    if not (type(body) is str and body.isascii()):
        body = exportable_body(body, _WHERE)
    attributes = record.attributes
    cleaned = exportable_attributes(attributes, _WHERE)
    severity_text = valid_text(record.severity_text, _WHERE) if record.severity_text else record.severity_text
    event_name = valid_text(record.event_name, _WHERE) if record.event_name else record.event_name
    if text_size(body) + (text_size(cleaned) if cleaned else 0) > MAX_ITEM_BYTES:
        FINDINGS.note(HUGE, _WHERE)
        body = truncated(body)
        cleaned = truncated(cleaned) if cleaned else cleaned
    unchanged = (
        body is record.body
        and cleaned is attributes
        and severity_text is record.severity_text
        and event_name is record.event_name
    )
    if unchanged:
        return readable
    converted = copy.copy(record)
    converted.body = body
    converted.severity_text = severity_text
    converted.event_name = event_name
    if cleaned is not attributes:
        converted.attributes = _keeping_dropped_count(cleaned, attributes)
    return ReadableLogRecord(
        log_record=converted,
        resource=readable.resource,
        instrumentation_scope=readable.instrumentation_scope,
        limits=readable.limits,
    )


def _keeping_dropped_count(cleaned: Any, original: Any) -> Any:
    """The cleaned attributes, still reporting what the SDK's limits dropped from the original."""
    dropped = getattr(original, "dropped", 0)
    bounded = BoundedAttributes(maxlen=None, attributes=dict(cleaned or {}), immutable=False)
    bounded.dropped = dropped
    return bounded

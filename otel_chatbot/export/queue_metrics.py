"""The export queue's counts under the SDK's own self-observability metric names.

OpenTelemetry's semantic conventions name what a batching processor reports:
``otel.sdk.processor.{span,log}.processed`` (``error.type`` = ``queue_full`` for what a
full queue dropped, ``already_shutdown`` for what came after shutdown),
``otel.sdk.processor.{span,log}.queue.size`` and ``.queue.capacity``. Upstream's
``BatchSpanProcessor`` reports them (when ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED``
is set); ours replaces it, so it reports them itself, always: losing telemetry must show.

Two differences, both because a failed batch is kept and sent again: an item counts as
processed when the queue lets go of it (sent, dropped, rejected), not when it is first
handed to the exporter; and two more ``error.type`` values say why it was let go:
``rejected`` (the destination refused it for good) and ``export_failed`` (still failing
at shutdown). Counters are read by callbacks at collection: nothing is added on the hot
path. They are cumulative, so a collector outage delays them but loses none.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, Literal

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.semconv._incubating.attributes.otel_attributes import (
    OTEL_COMPONENT_NAME,
    OTEL_COMPONENT_TYPE,
    OtelComponentTypeValues,
)
from opentelemetry.semconv._incubating.metrics import otel_metrics
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE

from otel_chatbot.export.retaining_queue import QueueCounts, RetainingQueue
from otel_chatbot.version import __version__

_NAMES = {
    "traces": (
        OtelComponentTypeValues.BATCHING_SPAN_PROCESSOR.value,
        "{span}",
        otel_metrics.OTEL_SDK_PROCESSOR_SPAN_PROCESSED,
        otel_metrics.OTEL_SDK_PROCESSOR_SPAN_QUEUE_SIZE,
        otel_metrics.OTEL_SDK_PROCESSOR_SPAN_QUEUE_CAPACITY,
    ),
    "logs": (
        OtelComponentTypeValues.BATCHING_LOG_PROCESSOR.value,
        "{log_record}",
        otel_metrics.OTEL_SDK_PROCESSOR_LOG_PROCESSED,
        otel_metrics.OTEL_SDK_PROCESSOR_LOG_QUEUE_SIZE,
        otel_metrics.OTEL_SDK_PROCESSOR_LOG_QUEUE_CAPACITY,
    ),
}
_instances = {kind: itertools.count() for kind, *_ in _NAMES.values()}


def processed_by_error_type(counts: QueueCounts) -> dict[str | None, int]:
    """``processed`` per ``error.type`` (None: sent); error types that never happened are left out."""
    found: dict[str | None, int] = {None: counts.sent}
    for error_type, value in (
        ("queue_full", counts.dropped_queue_full),
        ("rejected", counts.rejected),
        ("export_failed", counts.abandoned_at_shutdown),
        ("already_shutdown", counts.after_shutdown),
    ):
        if value:
            found[error_type] = value
    return found


def observe_queue(meter_provider: MeterProvider, queue: RetainingQueue[Any], signal: Literal["traces", "logs"]) -> None:
    """Report ``queue``'s counts through ``meter_provider`` for as long as it collects."""
    component_type, unit, processed, size, capacity = _NAMES[signal]
    component = {
        OTEL_COMPONENT_TYPE: component_type,
        OTEL_COMPONENT_NAME: f"{component_type}/{next(_instances[component_type])}",
    }
    meter = meter_provider.get_meter("otel_chatbot.export", __version__)

    def observe_processed(_options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(value, component if error is None else {**component, ERROR_TYPE: error})
            for error, value in processed_by_error_type(queue.counts()).items()
        ]

    def observe_size(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(queue.counts().waiting, component)]

    def observe_capacity(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(queue.max_queue_size, component)]

    what = "spans" if signal == "traces" else "log records"
    meter.create_observable_counter(
        processed,
        [observe_processed],
        unit=unit,
        description=f"The number of {what} for which the processing has finished, either successful or failed.",
    )
    meter.create_observable_up_down_counter(
        size, [observe_size], unit=unit, description=f"The number of {what} in the queue of the processor."
    )
    meter.create_observable_up_down_counter(
        capacity, [observe_capacity], unit=unit, description=f"The maximum number of {what} the queue can hold."
    )

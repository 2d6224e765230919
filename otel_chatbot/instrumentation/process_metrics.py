"""Process metrics (CPU time, memory, threads, file descriptors, context switches, GC) from upstream.

``opentelemetry-instrumentation-system-metrics`` reads them with psutil at each metric
collection, on the exporting thread, nothing per request: the default set measured about
1.1 ms of CPU per collection, i.e. 0.007 % of a core at the default 15 s export interval.
It is installed with otel-chatbot and started by ``configure()`` in both entry paths with
the metrics the ``process_metrics`` setting names. Its instrumentor is a process-wide
singleton (``BaseInstrumentor.__new__``), so once ours has instrumented, the copy another
distro's ``opentelemetry-instrument`` loads finds it instrumented and adds nothing: no
duplicate metrics. Ours skips it itself (:mod:`otel_chatbot.distro`), so the setting, not
the upstream default set, decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from opentelemetry.metrics import MeterProvider

from otel_chatbot.guard import STATE

_log = logging.getLogger("otel_chatbot")

INSTALL_HINT = (
    "otel_chatbot: process metrics (OTEL_CHATBOT_PROCESS_METRICS) need opentelemetry-instrumentation-system-metrics "
    "and psutil, which are not importable here ({why}): pip install 'otel-chatbot[system-metrics]' (or "
    "opentelemetry-instrumentation-system-metrics psutil), or set OTEL_CHATBOT_PROCESS_METRICS=none"
)

# The attribute values each metric is split by, as the upstream instrumentor's configuration
# takes them (its documented defaults); None: a metric without such an attribute.
_BREAKDOWN: dict[str, list[str] | None] = {
    "process.cpu.time": ["user", "system"],
    "process.cpu.utilization": ["user", "system"],
    "process.context_switches": ["involuntary", "voluntary"],
    "process.disk.io": ["read", "write"],
}


def instrumentor_config(names: Sequence[str]) -> dict[str, list[str] | None]:
    """The upstream instrumentor's ``config`` for the metrics ``names`` (``none`` means no metric)."""
    return {name: _BREAKDOWN.get(name) for name in names if name != "none"}


def start_process_metrics(names: Sequence[str], meter_provider: MeterProvider) -> Callable[[], None] | None:
    """Start the upstream instrumentor on ``meter_provider``; the undo, or None if nothing was started."""
    config = instrumentor_config(names)
    if not config:
        return None
    try:
        from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
    except ImportError as exc:  # the package or psutil (a compiled extension) is missing
        if STATE.first_time("process metrics install hint"):
            _log.warning(INSTALL_HINT.format(why=exc))
        return None
    # The singleton as it is, without re-running __init__ (which would reset its configuration).
    existing = SystemMetricsInstrumentor.__new__(SystemMetricsInstrumentor)
    if existing.is_instrumented_by_opentelemetry:
        _log.info("otel_chatbot: process metrics were already started in this process; not starting them again")
        return None
    instrumentor = SystemMetricsInstrumentor(config=config)
    instrumentor.instrument(meter_provider=meter_provider)
    if not instrumentor.is_instrumented_by_opentelemetry:
        return None  # a dependency conflict, which the instrumentor logged
    undo: Callable[[], None] = instrumentor.uninstrument
    return undo

"""``execute_tool``: the app's own tool executions as ``execute_tool {name}`` spans and a duration metric.

When a model asks for a tool (finish reason ``tool_call``), the app runs it; this helper
traces that run the way the GenAI convention describes tool execution: an INTERNAL span
named ``execute_tool {gen_ai.tool.name}`` with ``gen_ai.operation.name=execute_tool``,
``gen_ai.tool.name``, ``gen_ai.tool.call.id`` and ``gen_ai.tool.type``, a child of the
current span (the request, or the model call that asked). Its duration goes to
``gen_ai.execute_tool.duration`` (ours: the convention's ``gen_ai.client.operation.duration``
measures calls to a provider and requires ``gen_ai.provider.name``, which a local tool does
not have; mixing both would skew every model latency panel).

Usable as a context manager or a decorator, sync or async. The tool's exception passes
through unchanged and marks the span (``error.type`` = its class). With no active
``configure()`` it does nothing; with one, it records into that configuration, like the
other helpers (:mod:`otel_chatbot.helpers.scope`), looked up at each run (so decorating at
import time, before ``configure()``, is fine). The tool name is a metric attribute: past
the first 50 distinct names, new ones are recorded as ``_OTHER`` (the span keeps the name).
Telemetry errors are contained (:mod:`otel_chatbot.guard`); only misuse raises, at the call site.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, get_args, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from otel_chatbot.cardinality import FirstSeen
from otel_chatbot.genai import names
from otel_chatbot.guard import report
from otel_chatbot.helpers.scope import HelperScope, current_scope
from otel_chatbot.instrumentation.request_context import current_conversation_id

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram

ToolType = Literal["function", "extension", "datastore"]
"""The convention's ``gen_ai.tool.type`` values: app code, an agent-side extension, a data store."""

P = ParamSpec("P")
R = TypeVar("R")

TOOL_NAMES_LIMIT = 50


class _ToolInstruments:
    """One configuration's duration histogram of tool runs, and the bound on tool names."""

    __slots__ = ("end_span", "histogram", "names", "tracer")

    def __init__(self, scope: HelperScope) -> None:
        self.tracer = scope.tracer
        self.end_span = scope.end_span
        self.histogram: Histogram = scope.meter.create_histogram(
            names.METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
            unit="s",
            description="Duration of the app's tool executions (execute_tool spans).",
            explicit_bucket_boundaries_advisory=list(names.OPERATION_DURATION_BUCKETS),
        )
        self.names = FirstSeen("execute_tool name", TOOL_NAMES_LIMIT)


class _Run:
    """One execution in flight: its span, when it started, and its metric attributes."""

    __slots__ = ("instruments", "span", "start", "token")

    def __init__(self, span: Span, instruments: _ToolInstruments | None, token: Any) -> None:
        self.span = span
        self.instruments = instruments
        self.token = token
        self.start = time.perf_counter()


class ToolExecution:
    """What :func:`execute_tool` returns: a context manager (``with`` / ``async with``) and a decorator."""

    def __init__(self, name: str, call_id: str | None, tool_type: ToolType) -> None:
        self.name = name
        self.call_id = call_id
        self.tool_type = tool_type
        self._runs: list[_Run] = []

    # -- context manager ------------------------------------------------------------------

    def __enter__(self) -> Span:
        run = self._begin()
        self._runs.append(run)
        return run.span

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._runs:
            self._end(self._runs.pop(), error)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.__exit__(kind, error, traceback)

    # -- decorator ------------------------------------------------------------------------

    @overload
    def __call__(self, func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...

    @overload
    def __call__(self, func: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, func: Callable[P, Any]) -> Callable[P, Any]:
        if not callable(func):
            raise TypeError(f"execute_tool({self.name!r}) decorates a function, got {type(func).__name__}")
        name, call_id, tool_type = self.name, self.call_id, self.tool_type
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                async with ToolExecution(name, call_id, tool_type):
                    return await func(*args, **kwargs)

            return run_async

        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> Any:
            with ToolExecution(name, call_id, tool_type):
                return func(*args, **kwargs)

        return run

    # -- the span ---------------------------------------------------------------------------

    def _begin(self) -> _Run:
        try:
            scope = current_scope()
            if scope is None:
                return _Run(trace.INVALID_SPAN, None, None)
            instruments = scope.part(_ToolInstruments)
            attributes: dict[str, str] = {
                gen_ai.GEN_AI_OPERATION_NAME: names.OPERATION_EXECUTE_TOOL,
                gen_ai.GEN_AI_TOOL_NAME: self.name,
                gen_ai.GEN_AI_TOOL_TYPE: self.tool_type,
            }
            if self.call_id:
                attributes[gen_ai.GEN_AI_TOOL_CALL_ID] = self.call_id
            conversation = current_conversation_id()
            if conversation:
                attributes[gen_ai.GEN_AI_CONVERSATION_ID] = conversation
            span = instruments.tracer.start_span(
                f"execute_tool {self.name}", kind=SpanKind.INTERNAL, attributes=attributes
            )
            return _Run(span, instruments, otel_context.attach(trace.set_span_in_context(span)))
        except Exception as exc:
            report("execute_tool start", exc)
            return _Run(trace.INVALID_SPAN, None, None)

    def _end(self, run: _Run, error: BaseException | None) -> None:
        instruments = run.instruments
        if instruments is None:
            return
        try:
            otel_context.detach(run.token)
            attributes = {
                gen_ai.GEN_AI_OPERATION_NAME: names.OPERATION_EXECUTE_TOOL,
                gen_ai.GEN_AI_TOOL_NAME: instruments.names(self.name),
                gen_ai.GEN_AI_TOOL_TYPE: self.tool_type,
            }
            if error is not None:
                error_type = type(error).__qualname__
                attributes[error_attributes.ERROR_TYPE] = error_type
                run.span.set_attribute(error_attributes.ERROR_TYPE, error_type)
                run.span.record_exception(error)
                run.span.set_status(Status(StatusCode.ERROR, error_type))
            instruments.end_span(run.span)
            instruments.histogram.record(time.perf_counter() - run.start, attributes)
        except Exception as exc:
            report("execute_tool end", exc)


_TOOL_TYPES = frozenset(get_args(ToolType))


def execute_tool(name: str, call_id: str | None = None, tool_type: ToolType = "function") -> ToolExecution:
    """Trace one tool execution: ``with execute_tool("get_weather", call.id): ...`` or ``@execute_tool("get_weather")``.

    ``name`` is the tool's name (a low-cardinality label: it is a metric attribute);
    ``call_id`` the id the model gave the call (``tool_calls[].id``, ``tool_use.id``,
    Converse ``toolUseId``), on the span only; ``tool_type`` one of ``function``
    (default), ``extension``, ``datastore``. Raises TypeError / ValueError for misuse.
    """
    if not isinstance(name, str):
        raise TypeError(f"execute_tool(name=...) expects a str, got {type(name).__name__}")
    if not name.strip():
        raise ValueError("execute_tool(name=...) must not be empty")
    if call_id is not None and not isinstance(call_id, str):
        raise TypeError(f"execute_tool(call_id=...) expects a str or None, got {type(call_id).__name__}")
    if not isinstance(tool_type, str):
        raise TypeError(f"execute_tool(tool_type=...) expects a str, got {type(tool_type).__name__}")
    if tool_type not in _TOOL_TYPES:
        raise ValueError(f"execute_tool(tool_type=...) must be one of {sorted(_TOOL_TYPES)}, got {tool_type!r}")
    return ToolExecution(name, call_id, tool_type)

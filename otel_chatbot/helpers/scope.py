"""What the helpers record into: the active configuration's providers, settings and prices.

The helpers are called from app code that holds no handle, so they find the configuration
``configure()`` made (:func:`otel_chatbot.telemetry.active`); without one, or with the SDK
disabled, they do nothing. Instruments are created once per configuration, on first use
of each helper, and the lookup is a single comparison on the hot path: a configuration
made after a fork or a reconfiguration gets fresh ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from typing_extensions import Self

from otel_chatbot.compat import SpanEnder, span_ender
from otel_chatbot.guard import guarded
from otel_chatbot.helpers.names import SCOPE
from otel_chatbot.telemetry import active
from otel_chatbot.version import __version__

if TYPE_CHECKING:
    from opentelemetry._logs import Logger
    from opentelemetry.metrics import Meter
    from opentelemetry.trace import Tracer

    from otel_chatbot.cardinality import FirstSeen
    from otel_chatbot.config import Settings
    from otel_chatbot.genai import PriceTable
    from otel_chatbot.instrumentation.genai.answers import Answer
    from otel_chatbot.telemetry import Telemetry

T = TypeVar("T")


class HelperScope:
    """One configuration's tracer, meter and logger under the helpers' scope, and its parts."""

    def __init__(self, telemetry: Telemetry) -> None:
        tracer_provider, meter_provider, logger_provider = (
            telemetry.tracer_provider,
            telemetry.meter_provider,
            telemetry.logger_provider,
        )
        assert tracer_provider is not None and meter_provider is not None and logger_provider is not None
        self.telemetry = telemetry
        self.tracer_provider = tracer_provider
        self.settings: Settings = telemetry.settings
        self.tracer: Tracer = tracer_provider.get_tracer(SCOPE, __version__)
        self.end_span: SpanEnder = span_ender(self.tracer)  # the helpers' spans end through it
        self.meter: Meter = meter_provider.get_meter(SCOPE, __version__)
        self.logger: Logger = logger_provider.get_logger(SCOPE, __version__)
        self._parts: dict[object, Any] = {}
        self._prices: PriceTable | None = None
        self._lock = threading.Lock()

    def part(self, build: Callable[[HelperScope], T]) -> T:
        """The object ``build(self)`` made the first time it was asked for (a helper's instruments)."""
        found = self._parts.get(build)
        if found is None:
            with self._lock:
                found = self._parts.get(build)
                if found is None:
                    found = self._parts[build] = build(self)
        return found

    def prices(self) -> PriceTable:
        """The configuration's price table: the one its GenAI calls are priced with."""
        if self._prices is None:
            # The instrumentation owns it when configure() made this configuration.
            instrumentations = self.telemetry._instrumentations
            if instrumentations is not None:
                self._prices = instrumentations.prices()
            else:
                from otel_chatbot.wiring import load_price_table

                self._prices = load_price_table(self.settings)
        assert self._prices is not None
        return self._prices

    def models(self) -> FirstSeen:
        """The configuration's budget of model ids (``OTEL_CHATBOT_MAX_MODELS``), shared with its GenAI metrics."""
        instrumentations = self.telemetry._instrumentations
        if instrumentations is not None:
            return instrumentations.models
        from otel_chatbot.instrumentation.genai.metrics import model_budget

        return model_budget(self.settings.max_models)

    def last_answer(self, trace_id: int) -> Answer | None:
        """Where the last GenAI answer of a recent trace is (its span, its response id), if remembered."""
        instrumentations = self.telemetry._instrumentations
        return instrumentations.answers.get(trace_id) if instrumentations is not None else None


_current: HelperScope | None = None
_lock = threading.Lock()


def current_scope() -> HelperScope | None:
    """The helpers' scope of the configuration in force, or None (not configured, SDK disabled)."""
    global _current
    telemetry = active()
    if telemetry is None:
        _current = None  # let a configuration that was shut down go
        return None
    scope = _current
    if scope is not None and scope.telemetry is telemetry and scope.tracer_provider is telemetry.tracer_provider:
        return scope
    if telemetry.tracer_provider is None:
        return None
    with _lock:
        scope = _current
        if scope is None or scope.telemetry is not telemetry or scope.tracer_provider is not telemetry.tracer_provider:
            scope = _current = HelperScope(telemetry)
    return scope


def start_current_span(tracer: Tracer, name: str, attributes: dict[str, Any]) -> tuple[Span, object]:
    """An INTERNAL span, current until :func:`end_current_span` (so calls inside nest under it)."""
    span = tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
    token = otel_context.attach(trace.set_span_in_context(span))
    return span, token


def end_current_span(span: Span, token: object, end_span: SpanEnder) -> None:
    """Make the span's parent current again and end the span (``end_span``: the scope's)."""
    try:
        otel_context.detach(token)  # type: ignore[arg-type]
    finally:
        end_span(span)


def finish_current_span(where: str, span: Span, token: object, record: Callable[[], None], end_span: SpanEnder) -> None:
    """``record()`` the outcome on ``span``, end it (``end_span``), restore the context, whatever fails in ours."""
    try:
        with guarded(where):
            record()
    finally:
        with guarded(where):
            end_current_span(span, token, end_span)


class Block:
    """A helper used as ``with`` or as ``async with``: the same, since the helper itself never awaits."""

    __slots__ = ()

    def __enter__(self) -> Self:
        raise NotImplementedError

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

"""``failover()``: a chain of provider attempts, each failure a switch to the next, as spans and metrics.

::

    from otel_chatbot import failover

    with failover("chat") as chain:
        for provider, model in candidates:
            try:
                with chain.attempt(provider=provider, model=model):
                    reply = await call(provider, model)
                break
            except ProviderError:
                continue

gives an INTERNAL span ``failover chat`` with an INTERNAL span ``attempt <provider>`` per
attempt under it (each current inside its block, so the provider's own client span nests
under its attempt), and the metrics:

* ``chatbot.failover.attempts`` by ``gen_ai.provider.name``, ``gen_ai.request.model``,
  ``chatbot.failover.outcome`` (``served`` | ``failed``) and, for failures, ``error.type``
  (the AWS error code of a botocore ClientError, or of the ClientError the exception was
  raised from, else the exception's class);
* ``chatbot.failover.switches``: an attempt after a failed one, by
  ``chatbot.failover.from`` / ``chatbot.failover.to`` (providers) and the failure's ``error.type``;
* ``chatbot.failover.overhead`` (s): chain start to the start of the attempt that served,
  for chains that switched (the time failing over cost the user);
* ``chatbot.failover.chains`` by ``chatbot.failover.outcome``: ``served`` when an attempt's
  block ended normally, ``exhausted`` when the chain ended without one (however it ended).

Every metric also carries ``chatbot.failover.name``. The convention's ``gen_ai.provider.name``
and ``gen_ai.request.model`` name the candidate, as they do on the provider's own spans.

Rules: an attempt's block that ends normally served the chain; one that raises failed, and
its exception passes through unchanged (as does any exception of the chain's block).
Attempts run one at a time inside the chain's block; an attempt after the chain was
served, an attempt inside an attempt, or one outside the chain raises ValueError. ``async
with`` works like ``with``. Without ``configure()`` nothing is recorded; the checks stay.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import Span, Status, StatusCode
from typing_extensions import Self

from otel_chatbot.cardinality import FirstSeen
from otel_chatbot.guard import guarded
from otel_chatbot.helpers import names
from otel_chatbot.helpers.checks import check_name, check_optional_name
from otel_chatbot.helpers.errors import error_type_of
from otel_chatbot.helpers.scope import (
    Block,
    HelperScope,
    current_scope,
    finish_current_span,
    start_current_span,
)
from otel_chatbot.instrumentation.prebound import Bindings

PROVIDER = gen_ai.GEN_AI_PROVIDER_NAME
REQUEST_MODEL = gen_ai.GEN_AI_REQUEST_MODEL
ERROR_TYPE = error_attributes.ERROR_TYPE
NAME_LIMIT = 20
PROVIDER_LIMIT = 20


def _attempt_attributes(
    name: str, provider: str, model: str | None, outcome: str, error_type: str | None
) -> dict[str, Any]:
    attrs: dict[str, Any] = {names.FAILOVER_NAME: name, PROVIDER: provider, names.FAILOVER_OUTCOME: outcome}
    if model:
        attrs[REQUEST_MODEL] = model
    if error_type:
        attrs[ERROR_TYPE] = error_type
    return attrs


def _switch_attributes(name: str, from_provider: str, to_provider: str, error_type: str) -> dict[str, Any]:
    return {
        names.FAILOVER_NAME: name,
        names.FAILOVER_FROM: from_provider,
        names.FAILOVER_TO: to_provider,
        ERROR_TYPE: error_type,
    }


def _overhead_attributes(name: str, provider: str) -> dict[str, Any]:
    return {names.FAILOVER_NAME: name, PROVIDER: provider}


def _chain_attributes(name: str, outcome: str) -> dict[str, Any]:
    return {names.FAILOVER_NAME: name, names.FAILOVER_OUTCOME: outcome}


class FailoverInstruments:
    """The failover metrics of one configuration."""

    def __init__(self, scope: HelperScope) -> None:
        meter = scope.meter
        self.tracer = scope.tracer
        self.end_span = scope.end_span
        self.names = FirstSeen(names.FAILOVER_NAME, NAME_LIMIT)
        self.providers = FirstSeen(f"{PROVIDER} (failover)", PROVIDER_LIMIT)
        self.models = scope.models()
        self.attempts = Bindings(
            meter.create_counter(
                names.FAILOVER_ATTEMPTS, unit="{attempt}", description="Provider attempts of failover chains."
            ),
            _attempt_attributes,
        )
        self.switches = Bindings(
            meter.create_counter(
                names.FAILOVER_SWITCHES,
                unit="{switch}",
                description="Moves of failover chains to their next candidate after a failed attempt.",
            ),
            _switch_attributes,
        )
        self.overhead = Bindings(
            meter.create_histogram(
                names.FAILOVER_OVERHEAD,
                unit="s",
                description="Time from a failover chain's start to the attempt that served it, for chains that "
                "switched.",
                explicit_bucket_boundaries_advisory=list(names.FAILOVER_OVERHEAD_BUCKETS),
            ),
            _overhead_attributes,
        )
        self.chains = Bindings(
            meter.create_counter(
                names.FAILOVER_CHAINS, unit="{chain}", description="Failover chains, served or exhausted."
            ),
            _chain_attributes,
        )


_NEW, _OPEN, _CLOSED = 0, 1, 2


class FailoverAttempt(Block):
    """One candidate's attempt: a context manager; a block that ends normally served the chain."""

    __slots__ = ("_span", "_state", "_token", "chain", "error_type", "index", "model", "offset", "provider")

    def __init__(self, chain: FailoverChain, provider: str, model: str | None) -> None:
        self.chain = chain
        self.provider = provider
        self.model = model
        self.index = 0
        """Position in the chain (1-based), once entered."""
        self.offset = 0.0
        """Seconds from the chain's start to this attempt's start."""
        self.error_type: str | None = None
        self._state = _NEW
        self._span: Span | None = None
        self._token: object = None

    def __enter__(self) -> Self:
        if self._state != _NEW:
            raise ValueError(f"failover {self.chain.name}: an attempt is used for one block only")
        self.chain._begin(self)
        self._state = _OPEN
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._state = _CLOSED
        if exc is not None:
            self.error_type = error_type_of(exc)
        self.chain._end(self)


class FailoverChain(Block):
    """The candidates tried for one request: a context manager; :meth:`attempt` makes each try."""

    __slots__ = (
        "_current",
        "_instruments",
        "_last",
        "_span",
        "_start",
        "_state",
        "_token",
        "attempts",
        "name",
        "served_by",
    )

    def __init__(self, name: str, instruments: FailoverInstruments | None) -> None:
        self.name = name
        self.attempts = 0
        """Attempts made so far."""
        self.served_by: FailoverAttempt | None = None
        """The attempt that served the chain, once one did."""
        self._instruments = instruments
        self._state = _NEW
        self._current: FailoverAttempt | None = None
        self._last: FailoverAttempt | None = None
        self._span: Span | None = None
        self._token: object = None
        self._start = 0.0

    @property
    def outcome(self) -> str | None:
        """``served`` or ``exhausted`` once the chain's block ended."""
        if self._state != _CLOSED:
            return None
        return names.OUTCOME_SERVED if self.served_by is not None else names.OUTCOME_EXHAUSTED

    def attempt(self, *, provider: str, model: str | None = None) -> FailoverAttempt:
        """The next candidate's try: ``provider`` (a ``gen_ai.provider.name`` value) and ``model``."""
        where = f"failover {self.name}: attempt()"
        provider = check_name(where, "provider", provider)
        model = check_optional_name(where, "model", model)
        return FailoverAttempt(self, provider, model)

    def __enter__(self) -> Self:
        if self._state != _NEW:
            raise ValueError(f"failover {self.name}: a chain is used for one block only; call failover again")
        self._state = _OPEN
        instruments = self._instruments
        if instruments is not None:
            with guarded("failover"):
                self._span, self._token = start_current_span(
                    instruments.tracer, f"failover {self.name}", {names.FAILOVER_NAME: self.name}
                )
        self._start = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._state = _CLOSED
        span, instruments = self._span, self._instruments
        if span is None or instruments is None:
            return
        self._span = None
        finish_current_span(
            "failover", span, self._token, lambda: self._record(instruments, span, exc), instruments.end_span
        )

    def _begin(self, attempt: FailoverAttempt) -> None:
        """An attempt starts: check the order, count a switch, open its span under the chain's."""
        if self._state != _OPEN:
            where = "before" if self._state == _NEW else "after"
            raise ValueError(f"failover {self.name}: attempt entered {where} the chain's block; enter it inside")
        if self._current is not None:
            raise ValueError(f"failover {self.name}: attempts run one at a time; one is already running")
        if self.served_by is not None:
            raise ValueError(f"failover {self.name}: an attempt already served the chain; leave the loop after it")
        self.attempts += 1
        attempt.index = self.attempts
        attempt.offset = time.perf_counter() - self._start
        previous, self._current = self._last, attempt
        instruments = self._instruments
        if instruments is None or self._span is None:
            return
        with guarded("failover"):
            if previous is not None and previous.error_type is not None:
                instruments.switches.get(
                    self.name,
                    instruments.providers(previous.provider),
                    instruments.providers(attempt.provider),
                    previous.error_type,
                ).add(1)
            attributes: dict[str, Any] = {
                names.FAILOVER_NAME: self.name,
                PROVIDER: attempt.provider,
                names.FAILOVER_ATTEMPT: attempt.index,
            }
            if attempt.model:
                attributes[REQUEST_MODEL] = attempt.model
            attempt._span, attempt._token = start_current_span(
                instruments.tracer, f"attempt {attempt.provider}", attributes
            )

    def _end(self, attempt: FailoverAttempt) -> None:
        """An attempt ended: served (its block returned) or failed (it raised)."""
        self._current, self._last = None, attempt
        if attempt.error_type is None:
            self.served_by = attempt
        instruments, span = self._instruments, attempt._span
        if instruments is None or span is None:
            return
        attempt._span = None
        finish_current_span(
            "failover",
            span,
            attempt._token,
            lambda: self._record_attempt(instruments, span, attempt),
            instruments.end_span,
        )

    def _record_attempt(self, instruments: FailoverInstruments, span: Span, attempt: FailoverAttempt) -> None:
        outcome = names.OUTCOME_FAILED if attempt.error_type is not None else names.OUTCOME_SERVED
        provider = instruments.providers(attempt.provider)
        model = instruments.models(attempt.model) if attempt.model else None
        instruments.attempts.get(self.name, provider, model, outcome, attempt.error_type).add(1)
        span.set_attribute(names.FAILOVER_OUTCOME, outcome)
        if attempt.error_type is not None:
            span.set_attribute(ERROR_TYPE, attempt.error_type)
            span.set_status(Status(StatusCode.ERROR, attempt.error_type))
        elif attempt.index > 1:
            instruments.overhead.get(self.name, provider).record(attempt.offset)

    def _record(self, instruments: FailoverInstruments, span: Span, exc: BaseException | None) -> None:
        outcome = names.OUTCOME_SERVED if self.served_by is not None else names.OUTCOME_EXHAUSTED
        instruments.chains.get(self.name, outcome).add(1)
        span.set_attribute(names.FAILOVER_OUTCOME, outcome)
        span.set_attribute(names.FAILOVER_ATTEMPT_COUNT, self.attempts)
        last = self.served_by or self._last
        if last is not None:
            span.set_attribute(PROVIDER, last.provider)
            if last.model:
                span.set_attribute(REQUEST_MODEL, last.model)
        served = self.served_by
        if served is not None and served.index > 1:
            span.set_attribute(names.FAILOVER_OVERHEAD_ATTRIBUTE, served.offset)
        error_type = error_type_of(exc) if exc is not None else None
        if served is None:
            error_type = error_type or (last.error_type if last is not None else None) or names.OUTCOME_EXHAUSTED
        if error_type is not None:
            span.set_attribute(ERROR_TYPE, error_type)
            span.set_status(Status(StatusCode.ERROR, error_type))


def failover(name: str) -> FailoverChain:
    """A failover chain for the operation ``name`` (``"chat"``): use it as ``with``, attempts inside."""
    name = check_name("failover", "name", name)
    scope = current_scope()
    if scope is None:
        return FailoverChain(name, None)
    instruments = scope.part(FailoverInstruments)
    return FailoverChain(instruments.names(name), instruments)

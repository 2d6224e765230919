"""Queued fault injection for every stand-in: each fault is consumed by the next ``count`` matching requests.

Resilience tests of a chatbot need its providers to misbehave on cue, in every way clients see
in production: error responses, broken bodies, streams that stop, error events inside a stream
and slowness. Each stand-in declares its faults as a table (:class:`FaultSpec` rows in a
:class:`FaultCatalogue`) and what a fault may be aimed at (its selectors: Bedrock's
``operation`` and ``model``, the HTTP providers' ``model`` and ``path``). Parameters are
validated and bounded (delays are capped) so a typo fails loudly and no fault can hang a test run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Applies = Literal["any", "stream", "body"]

# Numeric parameters every stand-in understands: name -> (lowest, highest, whole number).
NUMBER_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "after_events": (0, 10_000, True),
    "delay_s": (0, 5.0, False),
    "chunk_delay_s": (0, 2.0, False),
    "retry_after_s": (0, 3_600, False),
}


@dataclass(frozen=True)
class FaultSpec:
    """One fault a stand-in offers: its parameters with their defaults, and which requests it fits.

    ``applies`` is ``"stream"`` for faults that only make sense in a streamed answer (a cut, an
    error event), ``"body"`` for those that break a complete JSON body, ``"any"`` otherwise; a
    fault waits in the queue until a request it fits comes. ``choices`` restricts string
    parameters to a set of values.
    """

    name: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    applies: Applies = "any"
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` over the defaults, validated; raises ValueError naming the bad parameter."""
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown parameters for {self.name}: {sorted(unknown)}")
        merged = {**self.defaults, **params}
        for name, value in merged.items():
            if name in NUMBER_BOUNDS:
                merged[name] = _number(name, value, *NUMBER_BOUNDS[name])
            elif name in self.choices:
                if value not in self.choices[name]:
                    raise ValueError(f"{name} must be one of {sorted(self.choices[name])}")
            elif isinstance(self.defaults[name], str) and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        return merged


def _number(name: str, value: Any, low: float, high: float, whole: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}")
    return int(value) if whole else float(value)


@dataclass
class Fault:
    """One queued fault; a selector of None matches anything."""

    name: str
    count: int
    selectors: dict[str, str | None]
    params: dict[str, Any]
    applies: Applies = "any"

    def matches(self, request: Mapping[str, str], streaming: bool) -> bool:
        """True when every selector set equals the request's value and the fault fits the answer kind."""
        for name, wanted in self.selectors.items():
            if wanted is not None and request.get(name) != wanted:
                return False
        if self.applies == "stream":
            return streaming
        if self.applies == "body":
            return not streaming
        return True

    def to_json(self) -> dict[str, Any]:
        return {"fault": self.name, "count": self.count, **self.selectors, **self.params}


class FaultCatalogue:
    """The faults a stand-in offers and the selectors they may be aimed with."""

    def __init__(self, specs: Iterable[FaultSpec], selectors: Mapping[str, frozenset[str] | None]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        # selector name -> the values it may take (None: any string)
        self.selectors = dict(selectors)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.specs)

    def make(self, fault: str, *, count: int = 1, **fields: Any) -> Fault:
        """Validate and build a fault: ``fields`` are selectors (e.g. ``model``) and the fault's parameters."""
        spec = self.specs.get(fault)
        if spec is None:
            raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(self.specs)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        selectors: dict[str, str | None] = {}
        for name, allowed in self.selectors.items():
            value = fields.pop(name, None)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            if value is not None and allowed is not None and value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(allowed)}")
            selectors[name] = value
        return Fault(fault, count, selectors, spec.check(fields), spec.applies)

    def from_json(self, document: Any) -> Fault:
        """Build a fault from the JSON body of ``POST /__control/faults``."""
        if not isinstance(document, dict) or not isinstance(document.get("fault"), str):
            raise ValueError('expected a JSON object with a "fault" name')
        fields = dict(document)
        name = fields.pop("fault")
        return self.make(name, count=fields.pop("count", 1), **fields)


class FaultQueue:
    """FIFO of pending faults; the first one matching a request is consumed once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, request: Mapping[str, str], streaming: bool) -> Fault | None:
        """The fault this request meets (a copy with ``count`` 1), if any."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(request, streaming):
                    fault.count -= 1
                    if fault.count == 0:
                        del self._faults[index]
                    return Fault(fault.name, 1, dict(fault.selectors), dict(fault.params), fault.applies)
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

"""Thread-safe totals of everything a stand-in returned, per model and operation.

Tests and benchmarks compare what their telemetry recorded against this ledger, so it only
counts tokens a client could see: usage is added right before the body or stream event that
reports it is written, and errors are counted under the code the client observes. Each
stand-in documents which of its wire fields feed which ledger field.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from otel_chatbot.testing.standin.usage import Usage


@dataclass
class LedgerEntry:
    """Totals for one (model, operation) pair, or for everything."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def add_usage(self, usage: Usage) -> None:
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_input_tokens += usage.cache_read_input_tokens
        self.cache_write_input_tokens += usage.cache_write_input_tokens

    def merge(self, other: LedgerEntry) -> None:
        self.calls += other.calls
        self.add_usage(other.usage)
        self.errors.update(other.errors)

    @property
    def usage(self) -> Usage:
        return Usage(
            self.input_tokens,
            self.output_tokens,
            self.cache_read_input_tokens,
            self.cache_write_input_tokens,
        )

    def copy(self) -> LedgerEntry:
        clone = LedgerEntry()
        clone.merge(self)
        return clone

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_write_input_tokens": self.cache_write_input_tokens,
            "errors": dict(sorted(self.errors.items())),
        }


class Ledger:
    """Keyed by model id (or agent / knowledge base / guardrail resource) then operation name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], LedgerEntry] = {}

    def _entry(self, model: str, operation: str) -> LedgerEntry:
        key = (model, operation)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = LedgerEntry()
        return entry

    def record_call(self, model: str, operation: str) -> None:
        with self._lock:
            self._entry(model, operation).calls += 1

    def call(self, model: str, operation: str) -> LedgerScope:
        """Count a call and return its scope, for recording what the answer reports."""
        self.record_call(model, operation)
        return LedgerScope(self, model, operation)

    def record_usage(self, model: str, operation: str, usage: Usage) -> None:
        with self._lock:
            self._entry(model, operation).add_usage(usage)

    def record_error(self, model: str, operation: str, kind: str) -> None:
        with self._lock:
            self._entry(model, operation).errors[kind] += 1

    def entry(self, model: str, operation: str) -> LedgerEntry:
        """A copy of one pair's totals (zeros if never called)."""
        with self._lock:
            found = self._entries.get((model, operation))
            return found.copy() if found else LedgerEntry()

    def totals(self) -> LedgerEntry:
        """Everything added up."""
        total = LedgerEntry()
        with self._lock:
            for entry in self._entries.values():
                total.merge(entry)
        return total

    def snapshot(self) -> dict[str, Any]:
        """JSON served at ``GET /__control/ledger``: ``{"totals": {...}, "models": {m: {op: {...}}}}``."""
        models: dict[str, dict[str, Any]] = {}
        with self._lock:
            for (model, operation), entry in sorted(self._entries.items()):
                models.setdefault(model, {})[operation] = entry.to_json()
        return {"totals": self.totals().to_json(), "models": models}

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class LedgerScope:
    """One call's place in the ledger: its model and operation, so writers carry one object."""

    ledger: Ledger
    model: str
    operation: str

    def usage(self, usage: Usage) -> None:
        self.ledger.record_usage(self.model, self.operation, usage)

    def error(self, kind: str) -> None:
        self.ledger.record_error(self.model, self.operation, kind)

"""Queued fault injection: each fault is consumed by the next ``count`` matching requests.

Resilience tests of a chatbot need Bedrock to misbehave on cue, in every way clients see in
production: modeled errors, broken bodies, streams that stop, error events inside a stream,
corrupt frames and slowness. Parameters are validated and bounded (delays are capped) so a
typo fails loudly and no fault can hang a test run.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from otel_chatbot.testing.bedrock.routes import OPERATIONS, STREAMING_OPERATIONS

# fault name -> (error code, default message) for faults answered with an error response.
ERROR_FAULTS: dict[str, tuple[str, str]] = {
    "throttle": ("ThrottlingException", "Too many requests, please wait before trying again."),
    "server_error": ("InternalServerException", "The server encountered an internal error."),
    "unavailable": ("ServiceUnavailableException", "Bedrock is unable to process your request."),
    "timeout": ("ModelTimeoutException", "Model has timed out in processing the request."),
    "not_found": ("ResourceNotFoundException", "The requested resource could not be found."),
    "validation": ("ValidationException", "Injected validation failure."),
}
STREAM_FAULTS = frozenset({"stream_cut", "stream_exception", "bad_crc"})
BODY_FAULTS = frozenset({"malformed"})
ANY_FAULTS = frozenset({"slow", *ERROR_FAULTS})
FAULT_NAMES = frozenset(STREAM_FAULTS | BODY_FAULTS | ANY_FAULTS)

STREAM_EXCEPTIONS = frozenset(
    {
        "internalServerException",
        "modelStreamErrorException",
        "modelTimeoutException",
        "serviceUnavailableException",
        "throttlingException",
        "validationException",
        "dependencyFailedException",
        "badGatewayException",
    }
)
MAX_DELAY_S = 5.0
MAX_CHUNK_DELAY_S = 2.0
MAX_AFTER_EVENTS = 10_000

# fault name -> {param: default}; only these parameters are accepted.
_PARAMS: dict[str, dict[str, Any]] = {
    **{name: {"message": message} for name, (_, message) in ERROR_FAULTS.items()},
    "malformed": {},
    "slow": {"delay_s": 1.0, "chunk_delay_s": 0.0},
    "stream_cut": {"after_events": 1},
    "stream_exception": {
        "after_events": 1,
        "exception": "throttlingException",
        "message": "Too many requests, please wait before trying again.",
    },
    "bad_crc": {"after_events": 1},
}


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number between {low} and {high}")
    return float(value)


def _check_params(fault: str, params: Mapping[str, Any]) -> dict[str, Any]:
    allowed = _PARAMS[fault]
    unknown = set(params) - set(allowed)
    if unknown:
        raise ValueError(f"unknown parameters for {fault}: {sorted(unknown)}")
    merged = {**allowed, **params}
    if "after_events" in merged:
        merged["after_events"] = int(_number("after_events", merged["after_events"], 0, MAX_AFTER_EVENTS))
    if fault == "slow":
        merged["delay_s"] = _number("delay_s", merged["delay_s"], 0, MAX_DELAY_S)
        merged["chunk_delay_s"] = _number("chunk_delay_s", merged["chunk_delay_s"], 0, MAX_CHUNK_DELAY_S)
    if fault == "stream_exception" and merged["exception"] not in STREAM_EXCEPTIONS:
        raise ValueError(f"exception must be one of {sorted(STREAM_EXCEPTIONS)}")
    if "message" in merged and not isinstance(merged["message"], str):
        raise ValueError("message must be a string")
    return merged


@dataclass
class Fault:
    """One queued fault; ``operation`` / ``model`` of None match anything."""

    name: str
    count: int = 1
    operation: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def error_code(self) -> str | None:
        """The modeled error an error fault answers with."""
        found = ERROR_FAULTS.get(self.name)
        return found[0] if found else None

    def matches(self, operation: str, model: str) -> bool:
        if self.operation not in (None, operation) or self.model not in (None, model):
            return False
        streaming = operation in STREAMING_OPERATIONS
        if self.name in STREAM_FAULTS:
            return streaming
        if self.name in BODY_FAULTS:
            return not streaming
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.name,
            "count": self.count,
            "operation": self.operation,
            "model": self.model,
            **self.params,
        }


def make_fault(
    fault: str, *, count: int = 1, operation: str | None = None, model: str | None = None, **params: Any
) -> Fault:
    """Validate and build a fault (the signature of ``BedrockServer.inject``)."""
    if fault not in FAULT_NAMES:
        raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(FAULT_NAMES)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    if operation is not None and operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; expected one of {sorted(OPERATIONS)}")
    if model is not None and not isinstance(model, str):
        raise ValueError("model must be a string")
    return Fault(fault, count, operation, model, _check_params(fault, params))


def fault_from_json(document: Any) -> Fault:
    """Build a fault from the JSON body of ``POST /__control/faults``."""
    if not isinstance(document, dict) or not isinstance(document.get("fault"), str):
        raise ValueError('expected a JSON object with a "fault" name')
    fields = dict(document)
    name = fields.pop("fault")
    return make_fault(
        name,
        count=fields.pop("count", 1),
        operation=fields.pop("operation", None),
        model=fields.pop("model", None),
        **fields,
    )


class FaultQueue:
    """FIFO of pending faults; the first one matching a request is consumed once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, operation: str, model: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(operation, model):
                    fault.count -= 1
                    if fault.count == 0:
                        del self._faults[index]
                    return Fault(fault.name, 1, fault.operation, fault.model, dict(fault.params))
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

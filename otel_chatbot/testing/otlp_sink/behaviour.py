"""How the sink pretends to be a slow or broken backend."""

from __future__ import annotations

from dataclasses import dataclass

# HTTP status -> google.rpc.Code, following the OTLP spec's HTTP/gRPC correspondence.
_RPC_CODES = {
    400: 3,  # INVALID_ARGUMENT
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 12,  # UNIMPLEMENTED
    413: 8,  # RESOURCE_EXHAUSTED
    415: 3,  # INVALID_ARGUMENT
    429: 8,  # RESOURCE_EXHAUSTED
    500: 13,  # INTERNAL
    501: 12,  # UNIMPLEMENTED
    502: 14,  # UNAVAILABLE
    503: 14,  # UNAVAILABLE
    504: 4,  # DEADLINE_EXCEEDED
}
_UNKNOWN = 2


@dataclass(frozen=True)
class Behaviour:
    """What to do with each export request before answering it.

    ``delay_s`` holds the answer back (a slow or hanging backend); ``fail_with``
    answers with that HTTP status (mapped to a gRPC code on the gRPC side)
    instead of accepting the data. Refused data is not counted as received,
    since a well-behaved exporter may send it again.
    """

    delay_s: float = 0.0
    fail_with: int | None = None
    retry_after_s: int | None = None
    message: str = "simulated backend failure"

    def __post_init__(self) -> None:
        if self.delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        if self.fail_with is not None and not 400 <= self.fail_with <= 599:
            raise ValueError("fail_with must be an HTTP error status (400-599)")


def rpc_code(http_status: int) -> int:
    """The google.rpc.Code that corresponds to an HTTP status."""
    return _RPC_CODES.get(http_status, _UNKNOWN)

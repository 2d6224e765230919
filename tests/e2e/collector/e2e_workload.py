"""The known workload of the collector end-to-end test: every request, and what it must produce.

Each request has its own session id, so its path (``url.path`` of its server span) names
its trace. Requests run one after another, so a Bedrock fault injected just before a
request is the one that request meets.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from otel_chatbot.demo.chatbot.config import DEFAULT_MODEL_ID
from otel_chatbot.testing.bedrock import BedrockServer

MODEL = DEFAULT_MODEL_ID
BAD_MODEL = "example.no-such-model-v1:0"
SLOW_DELAY_S = 1.3
"""Bedrock answers this late for a ``slow`` request: over the collector's slow-trace threshold."""


@dataclass(frozen=True)
class Kind:
    name: str
    method: str
    path: str
    """With ``{sid}`` to fill in."""
    route: str | None
    """``http.route`` the app must report; None for an unmatched path."""
    status: int
    body: dict[str, Any] | None = None
    bedrock: str | None = None
    """The Bedrock operation the request calls (``rpc.method`` of its client span)."""
    bedrock_error: str | None = None
    """``error.type`` of that call, when it fails."""
    fault: tuple[str, dict[str, Any]] | None = None
    """A Bedrock fault to inject right before the request."""
    error_trace: bool = False
    """The trace has an ERROR span (tail sampling must keep it)."""
    slow: bool = False

    @property
    def kept_by_tail_sampling(self) -> bool:
        """What config.yaml's policies keep when the baseline rate is 0 %."""
        return self.error_trace or self.slow


_HELLO = {"message": "Where is my order?"}
KINDS = {
    k.name: k
    for k in (
        Kind("chat", "POST", "/chat/{sid}", "/chat/{session_id}", 200, _HELLO, "Converse"),
        Kind("stream", "POST", "/chat/{sid}/stream", "/chat/{session_id}/stream", 200, _HELLO, "ConverseStream"),
        Kind("agent", "POST", "/agents/{sid}", "/agents/{session_id}", 200, {"message": "cancel it"}, "InvokeAgent"),
        Kind("v1_chat", "POST", "/v1/chat/{sid}", "/v1/chat/{session_id}", 200, _HELLO, "Converse"),
        Kind("v1_models", "GET", "/v1/models", "/v1/models", 200),
        Kind("history", "GET", "/sessions/{sid}/history", "/sessions/{session_id}/history", 200),
        Kind("history_missing", "GET", "/sessions/{sid}/history", "/sessions/{session_id}/history", 404),
        Kind("fail", "POST", "/chat/{sid}/fail", "/chat/{session_id}/fail", 500, {"message": "boom"}, error_trace=True),
        Kind("not_found", "GET", "/no-such-route/{sid}", None, 404),
        Kind("invalid", "POST", "/chat/{sid}", "/chat/{session_id}", 422, {"message": ""}),
        Kind(
            "bad_model",
            "POST",
            "/chat/{sid}",
            "/chat/{session_id}",
            400,
            {"message": "hello", "model": BAD_MODEL},
            "Converse",
            "ValidationException",
            error_trace=True,
        ),
        Kind(
            "throttled",
            "POST",
            "/chat/{sid}",
            "/chat/{session_id}",
            429,
            _HELLO,
            "Converse",
            "ThrottlingException",
            # the app's boto3 retries 3 times (retries={"max_attempts": 3} counts retries): 4 attempts
            fault=("throttle", {"count": 4, "operation": "Converse", "model": MODEL}),
            error_trace=True,
        ),
        Kind(
            "slow",
            "POST",
            "/chat/{sid}",
            "/chat/{session_id}",
            200,
            _HELLO,
            "Converse",
            fault=("slow", {"count": 1, "operation": "Converse", "model": MODEL, "delay_s": SLOW_DELAY_S}),
            slow=True,
        ),
    )
}


@dataclass(frozen=True)
class Request:
    kind: Kind
    sid: str

    @property
    def path(self) -> str:
        return self.kind.path.format(sid=self.sid)

    @property
    def series(self) -> tuple[str, str, str, str]:
        """(method, route, status, status class): the labels of its request-duration series."""
        status = self.kind.status
        return (self.kind.method, self.kind.route or "", str(status), f"{status // 100}xx")


@dataclass
class Workload:
    requests: list[Request] = field(default_factory=list)

    def series_counts(self) -> Counter[tuple[str, str, str, str]]:
        return Counter(r.series for r in self.requests)


def plan(phase: str, counts: dict[str, int]) -> Workload:
    """``counts`` requests of each kind; a history request reads the first chat session of the phase."""
    requests: list[Request] = []
    for name, count in counts.items():
        for i in range(count):
            sid = f"{phase}-chat-{i}" if name == "history" else f"{phase}-{name}-{i}"
            requests.append(Request(KINDS[name], sid))
    # chats first (history needs one), history after them; the rest in the given order
    return Workload(sorted(requests, key=lambda r: r.kind.name == "history"))


def run(workload: Workload, base_url: str, bedrock: BedrockServer) -> list[str]:
    """Send every request in order; returns what went differently from the plan (empty: all as expected)."""
    unexpected: list[str] = []
    with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
        for request in workload.requests:
            kind = request.kind
            if kind.fault is not None:
                fault, params = kind.fault
                bedrock.inject(fault, **params)
            # uvicorn drops the connection after an unhandled exception: do not reuse it
            headers = {"Connection": "close"} if kind.status == 500 else None
            response = client.request(kind.method, request.path, json=kind.body, headers=headers)
            if response.status_code != kind.status:
                unexpected.append(f"{kind.method} {request.path}: {response.status_code} (expected {kind.status})")
            elif kind.name == "stream" and "event: done" not in response.text:
                unexpected.append(f"{kind.method} {request.path}: the stream did not end with done")
            if bedrock.faults.pending():
                unexpected.append(f"{kind.method} {request.path}: faults left over: {bedrock.faults.pending()}")
                bedrock.faults.clear()
    return unexpected

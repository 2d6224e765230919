"""The checks of ``otel-chatbot health``, one function each, standard library only.

Every check answers with a :class:`Result`: ``ok``, or what a failure means for the people
using the service. **Unhealthy** is what users feel: the app's health endpoint or the
chat round trip fails. **Degraded** is what operators lose while users are still served:
the collector is not healthy, Prometheus is not ready or has no fresh series of the
service, Tempo is not ready or the round trip's trace is missing, the stats endpoint is
down or stale. A timeout is a failure of the check that timed out.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from otel_chatbot.version import __version__

Status = Literal["ok", "degraded", "unhealthy"]
SEVERITY: dict[Status, int] = {"ok": 0, "degraded": 1, "unhealthy": 2}
USER_AGENT = f"otel-chatbot-health/{__version__}"
"""Sent with every request: a collector's tail sampling can keep the round trip's trace by it."""


@dataclass(frozen=True)
class Result:
    name: str
    status: Status
    message: str
    seconds: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class Unreachable(Exception):
    """No HTTP answer at all (refused, timed out, bad host); the message says which."""


def request(
    url: str, timeout_s: float, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> Reply:
    """One HTTP request; any status is a :class:`Reply`, no answer at all is :class:`Unreachable`."""
    sent = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    sent.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        sent.add_header(name, value)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(sent, timeout=timeout_s) as response:
            return Reply(response.status, _lower(response.headers), response.read(), time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Reply(error.code, _lower(error.headers), error.read(), time.monotonic() - started)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise Unreachable(f"no answer from {url} within {timeout_s:g} s") from None
        raise Unreachable(f"cannot reach {url}: {reason}") from None


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _guarded(name: str, on_failure: Status, check: Callable[[], Result]) -> Result:
    try:
        return check()
    except Unreachable as error:
        return Result(name, on_failure, str(error))


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the app ----------------------------------------------------------------------------


def check_app(base: str, path: str, timeout_s: float) -> Result:
    def run() -> Result:
        url = join(base, path)
        reply = request(url, timeout_s)
        if 200 <= reply.status < 300:
            return Result("app", "ok", f"GET {url} → {reply.status}", reply.seconds)
        return Result("app", "unhealthy", f"GET {url} → {reply.status} {_snippet(reply.body)}", reply.seconds)

    return _guarded("app", "unhealthy", run)


def trace_id_of(headers: Mapping[str, str]) -> str | None:
    """The answer's trace id: the distro's ``X-Trace-Id``, else a ``traceparent`` the app returned."""
    value = headers.get("x-trace-id")
    if value and len(value) == 32:
        return value.lower()
    parent = headers.get("traceparent", "").split("-")
    return parent[1].lower() if len(parent) == 4 and len(parent[1]) == 32 else None


def check_chat(base: str, path: str, body: str, timeout_s: float) -> Result:
    def run() -> Result:
        url = join(base, path)
        reply = request(url, timeout_s, body=body.encode(), headers={"Content-Type": "application/json"})
        trace_id = trace_id_of(reply.headers)
        details = {"trace_id": trace_id} if trace_id else {}
        if 200 <= reply.status < 300:
            trace = f", trace {trace_id}" if trace_id else ", no X-Trace-Id in the answer"
            return Result("chat", "ok", f"POST {url} → {reply.status}{trace}", reply.seconds, details)
        message = f"POST {url} → {reply.status} {_snippet(reply.body)}"
        return Result("chat", "unhealthy", message, reply.seconds, details)

    return _guarded("chat", "unhealthy", run)


# --- the telemetry path -----------------------------------------------------------------


def check_collector(url: str, timeout_s: float) -> Result:
    """The collector's ``health_check`` extension (``collector/config.yaml``: port 13133, path ``/``)."""

    def run() -> Result:
        reply = request(url, timeout_s)
        try:
            said = str(reply.json().get("status", ""))
        except (ValueError, AttributeError):
            said = _snippet(reply.body)
        if reply.status == 200:
            return Result("collector", "ok", f"{url} → 200 {said}".rstrip(), reply.seconds)
        return Result("collector", "degraded", f"{url} → {reply.status} {said}".rstrip(), reply.seconds)

    return _guarded("collector", "degraded", run)


def series_query(service: str) -> str:
    """PromQL: the age in seconds of the newest sample of any series of ``service`` (its ``job``).

    ``timestamp()`` drops the metric name, and two series that differ only by it would then
    collide; ``label_replace`` keeps the name in a label of its own first.
    """
    job = service.replace("\\", "\\\\").replace('"', '\\"')
    series = f'label_replace({{job="{job}"}}, "metric", "$1", "__name__", "(.+)")'
    return f"time() - max(timestamp({series}))"


def check_prometheus(url: str, service: str, max_age_s: float, timeout_s: float, promql: str | None = None) -> Result:
    def run() -> Result:
        ready = request(join(url, "/-/ready"), timeout_s)
        if ready.status != 200:
            return Result("prometheus", "degraded", f"not ready: {ready.status} {_snippet(ready.body)}", ready.seconds)
        query = promql or series_query(service)
        reply = request(join(url, "/api/v1/query?" + urllib.parse.urlencode({"query": query})), timeout_s)
        seconds = ready.seconds + reply.seconds
        if reply.status != 200:
            return Result("prometheus", "degraded", f"query {query!r} → {reply.status} {_snippet(reply.body)}", seconds)
        result = reply.json().get("data", {}).get("result", [])
        if not result:
            return Result(
                "prometheus",
                "degraded",
                f'ready, but no series of job="{service}" in the last 5 minutes (is the collector writing to it?)',
                seconds,
            )
        age = float(result[0]["value"][1])
        details = {"newest_sample_age_s": round(age, 1)}
        if age > max_age_s:
            message = f'ready, but the newest series of job="{service}" is {age:.0f} s old (more than {max_age_s:g} s)'
            return Result("prometheus", "degraded", message, seconds, details)
        return Result(
            "prometheus", "ok", f'ready; job="{service}" has fresh series ({age:.0f} s old)', seconds, details
        )

    return _guarded("prometheus", "degraded", run)


def check_tempo(url: str, trace_id: str | None, trace_wait_s: float, timeout_s: float) -> Result:
    """Tempo's ``/ready``; with the round trip's trace id, ``/api/traces/{id}`` until found or ``trace_wait_s``."""

    def run() -> Result:
        ready = request(join(url, "/ready"), timeout_s)
        if ready.status != 200:
            return Result("tempo", "degraded", f"not ready: {ready.status} {_snippet(ready.body)}", ready.seconds)
        if trace_id is None:
            return Result("tempo", "ok", "ready (no round-trip trace to look for)", ready.seconds)
        started = time.monotonic()
        deadline = started + trace_wait_s
        while True:
            reply = request(join(url, f"/api/traces/{trace_id}"), timeout_s, headers={"Accept": "application/json"})
            if reply.status == 200:
                spans = _span_count(reply.body)
                message = f"ready; trace {trace_id} found ({spans} spans)"
                return Result("tempo", "ok", message, time.monotonic() - started, {"trace_id": trace_id})
            if reply.status != 404 or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        message = (
            f"ready, but trace {trace_id} is not there after {trace_wait_s:g} s ({reply.status}); "
            "a collector's tail sampling may have dropped it"
        )
        return Result("tempo", "degraded", message, time.monotonic() - started, {"trace_id": trace_id})

    return _guarded("tempo", "degraded", run)


def _span_count(body: bytes) -> int:
    try:
        document = json.loads(body)
    except ValueError:
        return 0
    batches = document.get("batches") or document.get("resourceSpans") or document.get("trace", {}).get("resourceSpans")
    return sum(
        len(scope.get("spans", []))
        for batch in batches or []
        for scope in batch.get("scopeSpans", batch.get("instrumentationLibrarySpans", []))
    )


def check_stats(url: str, max_age_s: float, timeout_s: float) -> Result:
    from otel_chatbot.stats.client import StatsUnavailable, fetch_view

    started = time.monotonic()
    try:
        view = fetch_view(url, 60, timeout_s)
    except StatsUnavailable as error:
        return Result("stats", "degraded", str(error), time.monotonic() - started)
    seconds = time.monotonic() - started
    age = view.get("sample_age_s")
    if age is None or age > max_age_s:
        return Result("stats", "degraded", f"the live view is stale (last sample {age} s ago)", seconds)
    window = view.get("window") or view["since_start"]
    overall = window["http"]["overall"]
    rate = overall.get("rate") or 0.0
    errors = overall.get("error_rate")
    summary = f"sample {age:.1f} s old; {rate:.2f} req/s" + (f", {errors * 100:.1f}% errors" if errors else "")
    return Result("stats", "ok", summary, seconds, {"sample_age_s": age})

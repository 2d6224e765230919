"""Each health check against a loopback server speaking that part's HTTP API, healthy and not."""

from __future__ import annotations

import json
import urllib.parse

from otel_chatbot.health import checks
from tests.unit.health.routes_server import Answer, RoutesServer

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def prometheus_answer(age_s: float | None) -> Answer:
    result = [] if age_s is None else [{"metric": {}, "value": [1700000000.0, str(age_s)]}]
    return Answer(body=json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode())


def test_the_app_is_healthy_on_2xx_and_unhealthy_otherwise() -> None:
    with RoutesServer({"GET /health": Answer(200, b'{"status":"ok"}'), "GET /down": Answer(503, b"db down")}) as app:
        ok = checks.check_app(app.url, "/health", 2)
        down = checks.check_app(app.url, "/down", 2)
        assert app.requests[0][3]["user-agent"].startswith("otel-chatbot-health/")
    assert (ok.status, ok.message) == ("ok", f"GET {app.url}/health → 200")
    assert (down.status, down.message) == ("unhealthy", f"GET {app.url}/down → 503 db down")
    gone = checks.check_app(app.url, "/health", 2)
    assert gone.status == "unhealthy" and gone.message.startswith(f"cannot reach {app.url}/health")


def test_a_slow_answer_is_a_timeout_of_that_check() -> None:
    with RoutesServer({"GET /health": Answer(200, delay_s=1.0)}) as app:
        result = checks.check_app(app.url, "/health", 0.2)
    assert (result.status, result.message) == ("unhealthy", f"no answer from {app.url}/health within 0.2 s")


def test_the_chat_round_trip_posts_the_body_and_keeps_the_trace_id() -> None:
    routes = {
        "POST /chat/hc": Answer(200, b"{}", {"X-Trace-Id": TRACE.upper()}),
        "POST /chat/bad": Answer(500, b"boom"),
    }
    with RoutesServer(routes) as app:
        ok = checks.check_chat(app.url, "/chat/hc", '{"message": "ping"}', 2)
        bad = checks.check_chat(app.url, "chat/bad", "{}", 2)
        method, path, body, headers = app.requests[0]
    assert (method, path, json.loads(body), headers["content-type"]) == (
        "POST",
        "/chat/hc",
        {"message": "ping"},
        "application/json",
    )
    assert ok.status == "ok" and ok.details == {"trace_id": TRACE}
    assert (bad.status, bad.message) == ("unhealthy", f"POST {app.url}/chat/bad → 500 boom")


def test_the_trace_id_comes_from_x_trace_id_or_traceparent() -> None:
    assert checks.trace_id_of({"x-trace-id": TRACE}) == TRACE
    assert checks.trace_id_of({"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}) == TRACE
    assert checks.trace_id_of({"x-trace-id": "short"}) is None
    assert checks.trace_id_of({}) is None


def test_the_collector_health_check_extension() -> None:
    up = Answer(200, b'{"status":"Server available","upSince":"2026-01-01T00:00:00Z","uptime":"1m"}')
    down = Answer(503, b'{"status":"Server not available"}')
    with RoutesServer({"GET /": up, "GET /down": down}) as collector:
        ok = checks.check_collector(f"{collector.url}/", 2)
        bad = checks.check_collector(f"{collector.url}/down", 2)
    assert (ok.status, ok.message) == ("ok", f"{collector.url}/ → 200 Server available")
    assert (bad.status, bad.message) == ("degraded", f"{collector.url}/down → 503 Server not available")


def test_prometheus_ready_with_fresh_stale_or_missing_series() -> None:
    query = "/api/v1/query?" + urllib.parse.urlencode({"query": checks.series_query("chatbot")})
    for age, status, words in [
        (3.0, "ok", "fresh series (3 s old)"),
        (600.0, "degraded", "is 600 s old"),
        (None, "degraded", "no series"),
    ]:
        with RoutesServer(
            {"GET /-/ready": Answer(200, b"Prometheus Server is Ready."), f"GET {query}": prometheus_answer(age)}
        ) as prom:
            result = checks.check_prometheus(prom.url, "chatbot", 120, 2)
        assert result.status == status and words in result.message, result
    with RoutesServer({"GET /-/ready": Answer(503, b"Service Unavailable")}) as prom:
        result = checks.check_prometheus(prom.url, "chatbot", 120, 2)
    assert (result.status, result.message) == ("degraded", "not ready: 503 Service Unavailable")


def test_the_series_query_escapes_the_service_name() -> None:
    assert checks.series_query('a"b') == (
        'time() - max(timestamp(label_replace({job="a\\"b"}, "metric", "$1", "__name__", "(.+)")))'
    )


def test_tempo_ready_and_the_trace_found_or_not() -> None:
    trace = json.dumps({"batches": [{"scopeSpans": [{"spans": [{"spanId": "a"}, {"spanId": "b"}]}]}]}).encode()
    routes = {"GET /ready": Answer(200, b"ready"), f"GET /api/traces/{TRACE}": Answer(200, trace)}
    with RoutesServer(routes) as tempo:
        found = checks.check_tempo(tempo.url, TRACE, 1, 2)
        missing = checks.check_tempo(tempo.url, "0" * 31 + "1", 0.6, 2)
        no_trace = checks.check_tempo(tempo.url, None, 1, 2)
        assert tempo.requests[1][3]["accept"] == "application/json"
    assert (found.status, found.message) == ("ok", f"ready; trace {TRACE} found (2 spans)")
    assert missing.status == "degraded" and "is not there after 0.6 s (404)" in missing.message
    assert (no_trace.status, no_trace.message) == ("ok", "ready (no round-trip trace to look for)")

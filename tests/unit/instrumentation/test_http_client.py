"""The library-neutral client side (http_client.py): URL hygiene, attributes, suppression, one end per call."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from opentelemetry.instrumentation.utils import suppress_http_instrumentation

from otel_chatbot.instrumentation.http_client import (
    HOSTS_LIMIT,
    ClientTelemetry,
    client_duration_attributes,
    http_version,
    sanitize_url,
    url_facts,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@api.example.com/v1/chat?x=1#frag", "https://REDACTED:REDACTED@api.example.com/v1/chat?x=1"),
        (
            "http://h/p?AWSAccessKeyId=AKIA&Signature=abc&q=ok",
            "http://h/p?AWSAccessKeyId=REDACTED&Signature=REDACTED&q=ok",
        ),
        ("http://h:8080/", "http://h:8080/"),
    ],
)
def test_sanitize_url_drops_credentials_as_url_full_requires(url: str, expected: str) -> None:
    assert sanitize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port"),
    [
        ("https://user:pw@API.example.com/v1/chat?token=t", "https", "api.example.com", 443),
        ("http://127.0.0.1:8080/v1/chat/completions", "http", "127.0.0.1", 8080),
        ("http://[::1]:9/x", "http", "::1", 9),
        ("//h/p", "http", "h", 80),
        (f"https://h/{'p' * 600}?key=k", "https", "h", 443),  # too long to cache: the same facts
    ],
)
def test_url_facts_are_what_the_url_gives_cached_or_not(url: str, scheme: str, host: str, port: int) -> None:
    for _ in range(2):  # the first call fills the cache, the second reads it
        facts = url_facts(url)
        assert (facts.scheme, facts.host, facts.port, facts.full) == (scheme, host, port, sanitize_url(url))
        assert facts.parts == urllib.parse.urlsplit(url)


def test_a_bad_port_is_never_cached() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match=r"[Pp]ort"):
            url_facts("http://h:99999/")


def test_duration_attributes_name_only_what_is_known() -> None:
    assert client_duration_attributes("GET", "h", 80, "http", None, None, None) == {
        "http.request.method": "GET",
        "server.address": "h",
        "server.port": 80,
        "url.scheme": "http",
    }
    assert client_duration_attributes("POST", "h", 443, "https", 503, "2", "503")["error.type"] == "503"


def test_http_version_is_the_bare_number() -> None:
    assert [http_version(v) for v in ("HTTP/1.1", "2", "", None)] == ["1.1", "2", None, None]


def test_a_call_ends_once_and_records_once(kit_factory: Any) -> None:
    kit = kit_factory()
    p = kit.instrumentations.pipelines
    telemetry = ClientTelemetry("test", p.tracer_provider, p.meter_provider, p.propagator)
    headers: dict[str, str] = {}
    call = telemetry.start("get", "http://127.0.0.1:1/x", headers)
    assert call is not None and "traceparent" in headers
    assert call.respond(200, "1.1", {}) is None  # not a GenAI call: ended at the headers
    call.end(error=RuntimeError("late"))
    (span,) = kit.finished()
    assert span.attributes["http.request.method"] == "GET"
    assert "error.type" not in span.attributes
    (point,) = kit.points("http.client.request.duration")
    assert point.count == 1
    with suppress_http_instrumentation():
        assert telemetry.start("GET", "http://127.0.0.1:1/x", {}) is None


def test_hosts_past_the_budget_are_one_series_spans_keep_them(kit_factory: Any) -> None:
    kit = kit_factory()
    p = kit.instrumentations.pipelines
    telemetry = ClientTelemetry("test", p.tracer_provider, p.meter_provider, p.propagator)
    for n in range(HOSTS_LIMIT + 50):  # an app fetching the URLs its users give
        call = telemetry.start("GET", f"https://site-{n}.example:{8000 + n}/page", {})
        assert call is not None
        call.respond(200, "1.1", {})
    hosts = {
        (pt.attributes["server.address"], pt.attributes.get("server.port"))
        for pt in kit.points("http.client.request.duration")
    }
    assert len(hosts) == HOSTS_LIMIT + 1
    assert ("_OTHER", None) in hosts
    assert kit.finished()[-1].attributes["server.address"] == f"site-{HOSTS_LIMIT + 49}.example"

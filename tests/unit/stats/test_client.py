"""Reading a live view over HTTP: URL forms, the local default, and readable failures."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from otel_chatbot.stats.client import StatsUnavailable, default_stats_url, fetch_view, stats_document_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:9465", "http://127.0.0.1:9465/stats?window=60"),
        ("http://127.0.0.1:9465/", "http://127.0.0.1:9465/stats?window=60"),
        ("http://127.0.0.1:9465/stats", "http://127.0.0.1:9465/stats?window=60"),
        ("127.0.0.1:9465", "http://127.0.0.1:9465/stats?window=60"),
        ("https://chat.internal/ops/", "https://chat.internal/ops/stats?window=60"),
    ],
)
def test_any_form_of_the_endpoint_url_names_the_stats_document(given: str, expected: str) -> None:
    assert stats_document_url(given, 60) == expected


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="expected the stats endpoint's URL"):
        stats_document_url("ftp://host/stats", 60)


def test_the_default_url_comes_from_the_settings_variables() -> None:
    assert default_stats_url({}) is None
    assert default_stats_url({"OTEL_CHATBOT_STATS_PORT": "0"}) is None  # a free port: unknown from outside
    assert default_stats_url({"OTEL_CHATBOT_STATS_PORT": "9465"}) == "http://127.0.0.1:9465/"
    env = {"OTEL_CHATBOT_STATS_PORT": "9465", "OTEL_CHATBOT_STATS_HOST": "10.0.0.5"}
    assert default_stats_url(env) == "http://10.0.0.5:9465/"


class _NotStats(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>a web page</html>" if self.path.startswith("/stats") else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotStats)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_failures_say_what_went_wrong(other_server: str) -> None:
    with pytest.raises(StatsUnavailable, match="did not answer JSON"):
        fetch_view(other_server)
    with pytest.raises(StatsUnavailable, match="answered HTTP 404"):
        fetch_view(f"{other_server}/elsewhere/")
    with pytest.raises(StatsUnavailable, match=r"cannot reach http://127\.0\.0\.1:1/stats"):
        fetch_view("http://127.0.0.1:1", timeout_s=2)

"""Fuzzed provider answers through real HTTP clients on loopback, with and without the distro.

A loopback server answers each request with canned bytes exactly as drawn: a stream of
every HTTP API (OpenAI chat and Responses, Anthropic, Ollama) broken as in
:mod:`tests.fuzz.test_provider_payloads`, or a buffered answer broken, cut or replaced,
sent with a length, chunked in random pieces, or cut short of its announced length. The
app's code is the openai and anthropic SDKs and plain httpx. Each example runs twice:
inside upstream's ``suppress_instrumentation()`` (the distro's wrappers step aside) and
instrumented. What the app sees must be equal item by item and exception by exception;
every span must end; our code must log no traceback.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import httpx
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.instrumentation.utils import suppress_instrumentation

from otel_chatbot.genai.http_apis import HTTP_APIS, HttpApi
from tests.app_view import Seen, seen
from tests.configured import Distro, OurLogs
from tests.fuzz.strategies import body_like
from tests.fuzz.test_provider_payloads import EXAMPLES, broken_wire

pytestmark = pytest.mark.e2e

PATHS = {
    "openai.chat_completions": "/openai/v1/chat/completions",
    "openai.responses": "/openai/v1/responses",
    "openai.embeddings": "/openai/v1/embeddings",
    "anthropic.messages": "/anthropic/v1/messages",
    "ollama.chat": "/ollama/api/chat",
    "ollama.generate": "/ollama/api/generate",
    "ollama.embed": "/ollama/api/embed",
}
CONTENT_TYPES = {"sse": "text/event-stream", "ndjson": "application/x-ndjson"}


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    sending: str
    """``length``: Content-Length and the body; ``chunked``: in ``pieces``; ``cut``: a length 9 bytes past the body."""
    pieces: tuple[int, ...] = ()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answers: queue.Queue[Answer]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        answer = self.answers.get_nowait()
        self.send_response(answer.status)
        self.send_header("content-type", answer.content_type)
        body = answer.body
        if answer.sending == "chunked":
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            start = 0
            for end in sorted({min(p, len(body)) for p in answer.pieces} | {len(body)}):
                if end > start:
                    self.wfile.write(b"%x\r\n%s\r\n" % (end - start, body[start:end]))
                    self.wfile.flush()
                start = end
            self.wfile.write(b"0\r\n\r\n")
            return
        extra = 9 if answer.sending == "cut" else 0
        self.send_header("content-length", str(len(body) + extra))
        if extra:
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client leaving mid-answer is one of the cases, not an error of the test


@dataclass
class Loopback:
    base: str
    answers: queue.Queue[Answer]
    distro: Distro


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    answers: queue.Queue[Answer] = queue.Queue()
    handler = type("Handler", (_Handler,), {"answers": answers})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    endpoints = f"{base}/openai/v1=openai,{base}/anthropic=anthropic,{base}/ollama=ollama"
    distro = Distro(genai_endpoints=endpoints, capture_message_content=True).apply_libraries()
    try:
        yield Loopback(base, answers, distro)
    finally:
        distro.revert()
        server.shutdown()
        server.server_close()


def same_with_and_without(loop: Loopback, answer: Answer, app: Callable[[Seen], Any]) -> None:
    loop.answers.put(answer)
    with suppress_instrumentation():
        bare = seen(app)
    loop.answers.put(answer)
    with OurLogs() as logs:
        instrumented = seen(app)
    assert instrumented == bare
    assert logs.tracebacks() == []
    if loop.distro.open_spans.still_open():
        gc.collect()  # a stream the app dropped when it raised ends its span when collected, as in an app
    assert loop.distro.open_spans.still_open() == []
    assert loop.answers.empty()


SENDING = st.sampled_from(["length", "chunked", "chunked", "cut"])
PIECES = st.lists(st.integers(0, 3000), max_size=10).map(tuple)
API = st.sampled_from(sorted(HTTP_APIS)).map(HTTP_APIS.__getitem__)


def _request(api: HttpApi, *, stream: bool) -> dict[str, Any]:
    body = dict(EXAMPLES[api.name][0])
    body["stream"] = stream
    return body


@given(
    case=API.flatmap(lambda api: st.tuples(st.just(api), broken_wire(api))),
    sending=SENDING,
    pieces=PIECES,
    reading=st.sampled_from(["bytes", "lines", "leave after one"]),
)
def test_streams_read_by_httpx(
    loopback: Loopback, case: tuple[HttpApi, bytes], sending: str, pieces: tuple[int, ...], reading: str
) -> None:
    api, wire = case

    def app(record: Seen) -> Any:
        with (
            httpx.Client() as client,
            client.stream("POST", loopback.base + PATHS[api.name], json=_request(api, stream=True)) as response,
        ):
            record.add(response.status_code)
            if reading == "lines":
                record.each(response.iter_lines())
            else:
                data = []
                for chunk in response.iter_bytes():
                    data.append(chunk)
                    if reading == "leave after one":
                        break
                record.add(b"".join(data) if reading == "bytes" else len(data))
        return "done"

    answer = Answer(200, CONTENT_TYPES[api.framing], wire, sending, pieces)
    same_with_and_without(loopback, answer, app)


@given(
    api=API,
    body=st.sampled_from(sorted(EXAMPLES)).flatmap(lambda name: body_like(EXAMPLES[name][1])),
    status=st.sampled_from([200, 200, 200, 400, 429, 500, 529]),
    sending=SENDING,
    pieces=PIECES,
)
def test_buffered_answers_read_by_httpx(
    loopback: Loopback, api: HttpApi, body: bytes, status: int, sending: str, pieces: tuple[int, ...]
) -> None:
    def app(record: Seen) -> Any:
        with httpx.Client() as client:
            response = client.post(loopback.base + PATHS[api.name], json=_request(api, stream=False))
            record.add(response.status_code)
            return response.content

    same_with_and_without(loopback, Answer(status, "application/json", body, sending, pieces), app)


@given(wire=broken_wire(HTTP_APIS["openai.chat_completions"]), sending=SENDING, pieces=PIECES)
def test_openai_sdk_chat_streams(loopback: Loopback, wire: bytes, sending: str, pieces: tuple[int, ...]) -> None:
    def app(record: Seen) -> Any:
        with openai.OpenAI(base_url=loopback.base + "/openai/v1", api_key="k", max_retries=0) as client:
            stream = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            record.each(stream)
        return "done"

    same_with_and_without(loopback, Answer(200, "text/event-stream", wire, sending, pieces), app)


@given(body=body_like(EXAMPLES["openai.chat_completions"][1]), status=st.sampled_from([200, 200, 400, 429, 500]))
def test_openai_sdk_chat_answers(loopback: Loopback, body: bytes, status: int) -> None:
    def app(record: Seen) -> Any:
        with openai.OpenAI(base_url=loopback.base + "/openai/v1", api_key="k", max_retries=0) as client:
            return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    same_with_and_without(loopback, Answer(status, "application/json", body, "length"), app)


@given(wire=broken_wire(HTTP_APIS["anthropic.messages"]), sending=SENDING, pieces=PIECES)
def test_anthropic_sdk_streams(loopback: Loopback, wire: bytes, sending: str, pieces: tuple[int, ...]) -> None:
    def app(record: Seen) -> Any:
        with anthropic.Anthropic(base_url=loopback.base + "/anthropic", api_key="k", max_retries=0) as client:
            stream = client.messages.create(
                model="claude-sonnet-4-5", max_tokens=20, messages=[{"role": "user", "content": "hi"}], stream=True
            )
            record.each(stream)
        return "done"

    same_with_and_without(loopback, Answer(200, "text/event-stream", wire, sending, pieces), app)

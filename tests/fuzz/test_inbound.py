"""Fuzzed inbound requests: hostile headers, paths, queries and JSON bodies against a real instrumented FastAPI app.

The same FastAPI app is built twice, one instrumented as ``configure(app)`` does it and
one bare, and each generated request goes to both as in-process ASGI calls. The app
echoes what it received (headers, path parameter, query, body), so the responses show
whatever the distro might change. Per example: the responses are identical apart from
the correlation headers the distro adds (``X-Request-ID``, ``X-Trace-Id``,
``X-Response-Time``), the app never saw an exception of ours, every span ended, and our
code logged no traceback. Seeded and bounded by the "ci" profile (``tests/conftest.py``);
``bash scripts/faults.sh fuzz`` runs more.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from hypothesis import given
from hypothesis import strategies as st

from tests.canned_http import Answer, canned_client
from tests.configured import Distro, OurLogs

CORRELATION_HEADERS = {b"x-request-id", b"x-trace-id", b"x-response-time"}
OPENAI = "https://api.openai.com/v1/chat/completions"
ECHOED = ("traceparent", "tracestate", "baggage", "x-request-id", "x-conversation-id", "x-session-id", "user-agent")

HEX = "0123456789abcdef"
TRACEPARENT = st.builds(
    lambda version, trace, span, flags: f"{version}-{trace}-{span}-{flags}".encode(),
    st.sampled_from(["00", "ff", "01", "0", "zz"]),
    st.text(HEX, min_size=0, max_size=34),
    st.text(HEX, min_size=0, max_size=18),
    st.sampled_from(["01", "00", "ff", "1", ""]),
)
KEY_VALUES = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=40).map(
    lambda pairs: ",".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")
)
CONTROL = st.text(st.characters(max_codepoint=31), max_size=20).map(str.encode)
LONG = st.builds(
    lambda unit, n: unit * n, st.sampled_from([b"a", b"0", b"\xc3\xa9", b",", b"=", b"-"]), st.integers(1, 20_000)
)
VALUES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass")),  # non-ASCII, lone surrogates' bytes
    CONTROL,
    LONG,
    TRACEPARENT,
    KEY_VALUES,
)
HEADERS = st.lists(st.tuples(st.sampled_from([*ECHOED, "host", "content-type"]), VALUES), max_size=8)
PATH_PARTS = st.text(max_size=40).filter(lambda s: "/" not in s)
QUERY = st.one_of(
    st.binary(max_size=100),
    st.lists(
        st.tuples(
            st.sampled_from(["q", "password", "api_key", "token", "X-Amz-Signature", "sig", "x"]), st.text(max_size=20)
        ),
        max_size=5,
    ).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    st.builds(
        lambda cid, extra: json.dumps({"conversation_id": cid, **extra}).encode(),
        JSON_VALUES,
        st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3),
    ),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.builds(lambda n: b'{"conversation_id": "' + b"x" * n + b'"}', st.integers(60_000, 70_000)),  # past 64 KiB
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(100, 3000)),  # deep nesting
    st.just(b'{"conversation_id": 1' + b"0" * 5000 + b"}"),  # a huge integer
)


def _completion(request: Any) -> Answer:
    answer = {
        "id": "c1",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    }
    return 200, [(b"content-type", b"application/json")], [json.dumps(answer).encode()]


PROVIDER = canned_client(_completion)


def build_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat/{session_id}")
    async def chat(session_id: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        # The app asks its model, as a chatbot does: the GenAI span reads the conversation id (from the body).
        answer = PROVIDER.post(OPENAI, json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
        return {
            "session": session_id,
            "headers": [[k, v] for k, v in request.headers.items() if k in ECHOED],
            "query": request.url.query,
            "body": body.decode("latin-1"),
            "answer": answer.json()["choices"][0]["message"]["content"],
        }

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    return app


@pytest.fixture(scope="module")
def apps() -> Iterator[tuple[FastAPI, FastAPI, Distro]]:
    distro = Distro(
        keep_spans=True, conversation_id_sources="body:conversation_id,header:x-conversation-id,path:session_id"
    ).apply_libraries()
    instrumented, bare = build_app(), build_app()
    distro.instrumentations.instrument_app(instrumented)
    yield instrumented, bare, distro
    distro.revert()


def call(app: Any, method: str, path: bytes, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    """One request as an ASGI server would hand it over; the response as the client would get it."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path.decode("utf-8", "replace"),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    try:
        asyncio.run(app(scope, receive, send))
    except Exception as exc:  # what escaped to the server
        return ("raised", type(exc).__qualname__, str(exc))
    start = next(m for m in sent if m["type"] == "http.response.start")
    kept = [(k.lower(), v) for k, v in start.get("headers", []) if k.lower() not in CORRELATION_HEADERS]
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (start["status"], sorted(kept), body_out)


def same_with_and_without(apps: tuple[FastAPI, FastAPI, Distro], *request: Any) -> list[Any]:
    """The request to both apps: the same response, every span ended, no traceback of ours; the spans made."""
    instrumented, bare, distro = apps
    distro.spans.clear()
    with OurLogs() as logs:
        seen = call(instrumented, *request)
    spans = list(distro.spans.get_finished_spans())
    assert seen == call(bare, *request)  # (its GenAI call is traced too: the httpx patch is global)
    assert logs.tracebacks() == []
    assert distro.open_spans.still_open() == []
    distro.spans.clear()
    return spans


@given(headers=HEADERS, session=PATH_PARTS, query=QUERY)
def test_hostile_headers_change_no_response(
    apps: Any, headers: list[tuple[str, bytes]], session: str, query: bytes
) -> None:
    raw_headers = [(name.encode(), value) for name, value in headers]
    path = f"/chat/{session}".encode("utf-8", "surrogatepass")
    same_with_and_without(apps, "POST", path, query, raw_headers, b"{}")


@given(
    body=BODIES,
    content_type=st.sampled_from([b"application/json", b"text/plain", b"application/json; charset=latin-1"]),
)
def test_hostile_json_bodies_change_no_response(apps: Any, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    spans = same_with_and_without(apps, "POST", b"/chat/s-1", b"", headers, body)
    (genai,) = [s for s in spans if s.name == "chat gpt-4o"]
    try:
        sent = json.loads(body).get("conversation_id")
    except (ValueError, AttributeError, RecursionError):
        sent = None
    usable = isinstance(sent, str | int) and not isinstance(sent, bool) and str(sent).strip()
    wanted = str(sent)[:256] if usable and len(body) <= 64 * 1024 else "s-1"  # else: the path's
    assert genai.attributes["gen_ai.conversation.id"] == wanted


@given(
    path=st.binary(max_size=60).map(lambda b: b"/" + b),
    method=st.sampled_from(["GET", "POST", "PURGE", "get", "Ünï", ""]),
)
def test_hostile_paths_and_methods_change_no_response(apps: Any, path: bytes, method: str) -> None:
    same_with_and_without(apps, method, path, b"", [], b"")

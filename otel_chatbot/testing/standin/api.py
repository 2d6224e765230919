"""The request flow of the JSON-over-HTTP stand-ins (OpenAI, Anthropic, Ollama): route, check, fault, answer.

A stand-in declares its endpoints as rows (:class:`Endpoint`: method, path template, operation
name, handler, dialect); this module does the rest the same way for all of them:

1. the route is matched (no match: the dialect's 404);
2. the body is decoded (not a JSON object: the dialect's 400) and the endpoint's ``checks``
   run (auth and version headers, required fields), raising :class:`ApiError`; a model whose
   name contains ``notfound`` gets the dialect's 404;
3. the call is counted in the ledger under ``(model, operation)``; if the request passed the
   checks, the first queued fault matching ``model`` and ``path`` is taken;
4. the handler answers (a :class:`JsonResponse` or a :class:`StreamResponse`), or the fault
   does, in the dialect's words.

The faults are the same for every HTTP stand-in (:data:`HTTP_FAULTS`); a :class:`Dialect`
decides how each looks on its wire.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from otel_chatbot.testing.standin.cache import PromptCache
from otel_chatbot.testing.standin.faults import Fault, FaultCatalogue, FaultSpec
from otel_chatbot.testing.standin.http import StandInHandler, StandInServer, StreamStop
from otel_chatbot.testing.standin.ledger import LedgerScope
from otel_chatbot.testing.standin.responses import Clock, JsonResponse, Response, StreamResponse
from otel_chatbot.testing.standin.routes import RouteTable

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

# Any model (or deployment) whose name contains this marker is answered "not found" (a 404 on cue).
NOT_FOUND_MARKER = "notfound"

HTTP_FAULTS = FaultCatalogue(
    [
        FaultSpec("rate_limit", {"message": "", "retry_after_s": 1}),
        FaultSpec("server_error", {"message": ""}),
        FaultSpec("overloaded", {"message": ""}),
        FaultSpec("malformed", applies="body"),
        FaultSpec("body_cut", applies="body"),
        FaultSpec("slow", {"delay_s": 1.0, "chunk_delay_s": 0.0}),
        FaultSpec("stream_cut", {"after_events": 1}, applies="stream"),
        FaultSpec("stream_error", {"after_events": 1, "message": ""}, applies="stream"),
    ],
    selectors={"model": None, "path": None},
)


class ApiError(Exception):
    """An error answer in a provider's own shape; ``kind`` is what the ledger counts it as."""

    def __init__(
        self, status: int, body: Any, kind: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.kind = kind if kind is not None else str(status)
        self.headers = dict(headers or {})


class InvalidRequest(Exception):
    """A request body a provider rejects with 400; pure parsers raise it, the dialect words it."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def retry_after(seconds: float) -> dict[str, str]:
    """``retry-after`` in whole seconds (rounded up, as HTTP wants) and the SDKs' precise ``retry-after-ms``."""
    return {"retry-after": str(math.ceil(seconds)), "retry-after-ms": str(round(seconds * 1000))}


class Dialect:
    """How one provider words errors, faults and stream errors on the wire (subclasses override)."""

    stream_content_type: ClassVar[str] = "text/event-stream; charset=utf-8"

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
        """A plain error answer (validation, auth, not found)."""
        raise NotImplementedError

    def fault_error(self, fault: Fault) -> ApiError | None:
        """The answer of an error fault (``rate_limit``, ``server_error``, ``overloaded``); None for others."""
        raise NotImplementedError

    def stream_error(self, message: str, position: int) -> tuple[bytes, str]:
        """An in-stream error event after ``position`` events (empty message: the provider's wording) and its kind."""
        raise NotImplementedError

    def answer_headers(self, request: Request) -> dict[str, str]:
        """Headers every answer of this dialect carries (rate-limit state, processing time...)."""
        return {}

    def bad_json(self) -> ApiError:
        return self.error(400, "We could not parse the JSON body of your request.")

    def no_route(self, method: str, path: str) -> ApiError:
        return self.error(404, f"Unknown request URL: {method} {path}.")

    def model_not_found(self, model: str) -> ApiError:
        return self.error(404, f"The model {model} does not exist.")


@dataclass(frozen=True)
class Request:
    """Everything a handler may use about one request; ``model`` is its endpoint's ledger model."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: Message
    body: JsonObject
    model: str
    request_id: str
    clock: Clock


def body_model(params: Mapping[str, str], body: JsonObject) -> str:
    """The model of most endpoints: the request body's ``model`` ("" when missing)."""
    model = body.get("model")
    return model if isinstance(model, str) else ""


def require_model(request: Request, dialect: Dialect) -> None:
    """A check: the body names a model."""
    if not request.model:
        raise InvalidRequest("you must provide a model parameter", param="model", code="missing_required_parameter")


def never(body: JsonObject) -> bool:
    return False


def unless_false(body: JsonObject) -> bool:
    """Ollama's rule: a stream unless ``"stream": false``."""
    return body.get("stream") is not False


def when_true(body: JsonObject) -> bool:
    """OpenAI's and Anthropic's rule: a stream only when ``"stream": true``."""
    return body.get("stream") is True


@dataclass(frozen=True)
class Endpoint:
    """One row of a stand-in's route table."""

    operation: str
    handle: Callable[[Request], Response]
    dialect: Dialect
    streams: Callable[[JsonObject], bool] = never
    model: Callable[[Mapping[str, str], JsonObject], str] = body_model
    checks: tuple[Callable[[Request, Dialect], None], ...] = ()
    counted: bool = True  # False: not an inference (model listings); no ledger line, no faults


class ApiHandler(StandInHandler):
    """Runs the flow of this module's docstring for the routes of its :class:`ApiServer`."""

    # Request ids in the provider's style: a prefix and so many random hex digits.
    request_id_prefix: ClassVar[str] = ""
    request_id_digits: ClassVar[int] = 32

    def new_request_id(self) -> str:
        return self.request_id_prefix + uuid.uuid4().hex[: self.request_id_digits]

    @property
    def app(self) -> ApiServer:
        app = self.server.app
        assert isinstance(app, ApiServer)
        return app

    def unreadable_body(self, request_id: str) -> None:
        self._send_error(self.app.fallback_dialect.error(400, "Unreadable request body."), request_id, {})

    def _send_error(self, error: ApiError, request_id: str, headers: Mapping[str, str]) -> None:
        self.send_json(error.status, error.body, request_id, {**headers, **error.headers})

    def handle_request(self, method: str, raw: bytes, request_id: str, clock: Clock) -> None:
        target = urlsplit(self.path)
        app = self.app
        found = app.routes.match(method, self.path)
        if found is None:
            self._send_error(app.fallback_dialect.no_route(method, target.path), request_id, {})
            return
        endpoint, params = found
        dialect = endpoint.dialect
        body, body_error = _decode(raw, dialect)
        query = dict(parse_qsl(target.query))
        model = endpoint.model(params, body)
        request = Request(method, target.path, params, query, self.headers, body, model, request_id, clock)
        headers = dialect.answer_headers(request)
        if not endpoint.counted:
            self._answer_uncounted(endpoint, request, body_error, headers)
            return
        scope = app.ledger.call(model, endpoint.operation)
        streaming = endpoint.streams(body)
        fault: Fault | None = None
        try:
            if body_error is not None:
                raise body_error
            for check in endpoint.checks:
                check(request, dialect)
            if NOT_FOUND_MARKER in scope.model:
                raise dialect.model_not_found(scope.model)
            # A request the provider refuses anyway (auth, validation) leaves the queued faults alone.
            fault = app.faults.take({"model": model, "path": request.path}, streaming)
            if fault is not None and fault.name == "slow" and not streaming:
                time.sleep(fault.params["delay_s"])
            fault_error = dialect.fault_error(fault) if fault is not None else None
            if fault_error is not None:
                raise fault_error
            response = endpoint.handle(request)
        except InvalidRequest as exc:
            error = dialect.error(400, exc.message, code=exc.code, param=exc.param)
            scope.error(error.kind)
            self._send_error(error, request_id, headers)
            return
        except ApiError as exc:
            scope.error(exc.kind)
            self._send_error(exc, request_id, headers)
            return
        except Exception:
            log.exception("handler failed for %s", endpoint.operation)
            error = dialect.error(500, "The server had an error while processing your request.")
            scope.error(error.kind)
            self._send_error(error, request_id, headers)
            return
        if isinstance(response, JsonResponse):
            response.headers = {**headers, **response.headers}
            name = fault.name if fault is not None else None
            self.send_answer(response, scope, request_id, malformed=name == "malformed", cut=name == "body_cut")
        else:
            self._send_stream(response, dialect, fault, scope, request_id, headers)

    def _answer_uncounted(
        self, endpoint: Endpoint, request: Request, body_error: ApiError | None, headers: dict[str, str]
    ) -> None:
        try:
            if body_error is not None and request.method != "GET":
                raise body_error
            for check in endpoint.checks:
                check(request, endpoint.dialect)
            response = endpoint.handle(request)
        except InvalidRequest as exc:
            error = endpoint.dialect.error(400, exc.message, code=exc.code, param=exc.param)
            self._send_error(error, request.request_id, headers)
            return
        except ApiError as exc:
            self._send_error(exc, request.request_id, headers)
            return
        assert isinstance(response, JsonResponse)
        self.send_json(200, response.body, request.request_id, {**headers, **response.headers})

    def _send_stream(
        self,
        response: StreamResponse,
        dialect: Dialect,
        fault: Fault | None,
        scope: LedgerScope,
        request_id: str,
        headers: dict[str, str],
    ) -> None:
        head = {
            "Content-Type": dialect.stream_content_type,
            "Transfer-Encoding": "chunked",
            "Cache-Control": "no-cache",
            **headers,
            **response.headers,
        }
        self.wfile.write(self.head(200, head, request_id))
        name = fault.name if fault is not None else None
        params = fault.params if fault is not None else {}
        stop = None
        if name == "stream_cut":
            stop = StreamStop(params["after_events"], "stream_cut", cut=True)
        elif name == "stream_error":
            frame, kind = dialect.stream_error(params["message"], params["after_events"])
            stop = StreamStop(params["after_events"], kind, frame=frame)

        def failure() -> StreamStop:
            frame, kind = dialect.stream_error("", 0)
            return StreamStop(0, kind, frame=frame)

        self.write_stream(
            response.events,
            scope,
            stop=stop,
            first_delay_s=params["delay_s"] if name == "slow" else 0.0,
            chunk_delay_s=params["chunk_delay_s"] if name == "slow" else 0.0,
            on_failure=failure,
        )


def _decode(raw: bytes, dialect: Dialect) -> tuple[JsonObject, ApiError | None]:
    """The body as a JSON object ({} for an empty body), or the dialect's 400 if it is not one."""
    if not raw.strip():
        return {}, None
    try:
        body = json.loads(raw)
    except ValueError:
        return {}, dialect.bad_json()
    if not isinstance(body, dict):
        return {}, dialect.bad_json()
    return body, None


class ApiServer(StandInServer):
    """A JSON-over-HTTP stand-in: subclasses list their :meth:`endpoints` and the dialect of unknown paths.

    ``cache`` is the prompt cache of the deterministic model (per model, until :meth:`reset`).
    """

    handler = ApiHandler
    catalogue = HTTP_FAULTS
    fallback_dialect: ClassVar[Dialect]

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False, stream_pace_s: float = 0.0
    ) -> None:
        self.cache = PromptCache()
        self.routes = RouteTable(self.endpoints())
        super().__init__(host, port, verbose=verbose, stream_pace_s=stream_pace_s)

    def endpoints(self) -> list[tuple[str, str, Endpoint]]:
        """``(method, path template, endpoint)`` rows, first match wins."""
        raise NotImplementedError

    def inject(
        self, fault: str, *, count: int = 1, model: str | None = None, path: str | None = None, **params: Any
    ) -> None:
        """Queue a fault for the next ``count`` requests for ``model`` (the ledger's) at ``path`` (no query)."""
        self.faults.add(self.catalogue.make(fault, count=count, model=model, path=path, **params))

    def reset(self) -> None:
        """Forget ledger totals, pending faults and cached prompt prefixes."""
        super().reset()
        self.cache.clear()

"""HTTP wiring: Bedrock's rest-json and event-stream protocols on the stand-ins' shared server.

It is the backend of the demo, the end-to-end tests, the benchmarks and the compose stack;
the server itself (keep-alive, ``TCP_NODELAY``, one write per frame, the control API) is
:mod:`otel_chatbot.testing.standin.http`. Here: Bedrock's routes, its modeled errors
(``x-amzn-ErrorType``) and how its faults break an answer.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, TypedDict

from otel_chatbot.testing.bedrock import operations, routes
from otel_chatbot.testing.bedrock.errors import ApiError, validation
from otel_chatbot.testing.bedrock.eventstream import (
    EVENT_STREAM_CONTENT_TYPE,
    corrupt_crc,
    exception_frame,
)
from otel_chatbot.testing.bedrock.faults import CATALOGUE, error_code
from otel_chatbot.testing.bedrock.profiles import DEFAULT_ACCOUNT, DEFAULT_REGION, InferenceProfiles
from otel_chatbot.testing.bedrock.prompts import parse_json_object
from otel_chatbot.testing.standin.cache import PromptCache
from otel_chatbot.testing.standin.faults import Fault
from otel_chatbot.testing.standin.http import StandInHandler, StandInServer, StreamStop
from otel_chatbot.testing.standin.ledger import LedgerScope
from otel_chatbot.testing.standin.responses import Clock, JsonResponse, StreamResponse

log = logging.getLogger(__name__)

# Bedrock appends a namespace to x-amzn-ErrorType; botocore strips it, and so must other clients.
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
GENERATION_FAILURE = "internalServerException"


class _Handler(StandInHandler):
    server_version = "FakeBedrock/1.0"
    request_id_header = "x-amzn-RequestId"

    @property
    def app(self) -> BedrockServer:
        app = self.server.app
        assert isinstance(app, BedrockServer)
        return app

    def _send_error(self, error: ApiError, request_id: str) -> None:
        headers = {"x-amzn-ErrorType": error.code + ERROR_TYPE_SUFFIX}
        self.send_json(error.status, {"message": error.message}, request_id, headers)

    def unreadable_body(self, request_id: str) -> None:
        self._send_error(validation("Unreadable request body."), request_id)

    def handle_request(self, method: str, raw: bytes, request_id: str, clock: Clock) -> None:
        route = routes.match(method, self.path)
        if route is None:
            path = self.path.split("?", 1)[0]
            error = ApiError("UnknownOperationException", f"No operation at {method} {path}.")
            self._send_error(error, request_id)
            return
        if route.control_plane:
            self._control_plane(route, request_id)
            return
        self._operation(route, raw, request_id, clock)

    def control(self, method: str, name: str, raw: bytes, request_id: str) -> bool:
        """``/__control/inference-profiles``: register an application profile (POST), list them (GET)."""
        if name != "inference-profiles":
            return False
        profiles = self.app.profiles
        if method == "GET":
            self.send_json(200, profiles.snapshot(), request_id)
            return True
        if method != "POST":
            return False
        try:
            document = json.loads(raw or b"null")
            if not isinstance(document, dict):
                raise ValueError('expected a JSON object with "name" and "model"')
            regions = document.get("regions")
            profile = profiles.create(
                str(document.get("name")),
                str(document.get("model")),
                region=str(document.get("region") or DEFAULT_REGION),
                account=str(document.get("account") or DEFAULT_ACCOUNT),
                regions=tuple(regions) if isinstance(regions, list) else None,
            )
        except ValueError as exc:
            self.send_json(400, {"message": str(exc)}, request_id)
            return True
        self.send_json(200, {"inferenceProfileArn": profile.arn, "inferenceProfileId": profile.profile_id}, request_id)
        return True

    def _control_plane(self, route: routes.Route, request_id: str) -> None:
        """``GetInferenceProfile``: counted, then a queued fault (``model`` = the identifier) or the answer."""
        app = self.app
        identifier = route.params["inferenceProfileIdentifier"]
        app.profiles.note_lookup(identifier)
        fault = app.faults.take({"operation": route.operation, "model": identifier}, False)
        try:
            _meet(fault)
            answer = app.profiles.get(identifier)
        except ApiError as exc:
            self._send_error(exc, request_id)
            return
        if fault is not None and fault.name == "malformed":
            body = json.dumps(answer).encode()
            self.send_bytes(200, {"Content-Type": "application/json"}, body[: len(body) // 2], request_id)
            return
        self.send_json(200, answer, request_id)

    def _operation(self, route: routes.Route, raw: bytes, request_id: str, clock: Clock) -> None:
        app = self.app
        operation = route.operation
        body_error: ApiError | None = None
        try:
            body = parse_json_object(raw)
            key = operations.ledger_key(route, body)
        except ApiError as exc:
            body, body_error = {}, exc
            key = operations.ledger_key(route, body)
        except (AttributeError, TypeError):
            body, body_error = {}, validation()
            key = operations.ledger_key(route, body)
        scope = app.ledger.call(key, operation)
        fault = app.faults.take({"operation": operation, "model": key}, route.streaming)
        try:
            _meet(fault)
            if body_error is not None:
                raise body_error
            call = operations.Call(route, body, request_id, clock, app.cache, app.profiles)
            response = operations.handle(call)
        except ApiError as exc:
            scope.error(exc.code)
            self._send_error(exc, request_id)
            return
        except Exception:
            log.exception("handler failed for %s", operation)
            scope.error("InternalServerException")
            self._send_error(ApiError("InternalServerException", "Internal server error."), request_id)
            return
        if isinstance(response, JsonResponse):
            name = fault.name if fault is not None else None
            self.send_answer(response, scope, request_id, malformed=name == "malformed", cut=name == "body_cut")
        else:
            self._send_stream(response, fault, scope, request_id)

    def _send_stream(self, response: StreamResponse, fault: Fault | None, scope: LedgerScope, request_id: str) -> None:
        headers = {
            "Content-Type": EVENT_STREAM_CONTENT_TYPE,
            "Transfer-Encoding": "chunked",
            **response.headers,
        }
        self.wfile.write(self.head(200, headers, request_id))
        events: Any = response.events
        stop = None
        if fault is not None and fault.name == "stream_cut":
            stop = StreamStop(fault.params["after_events"], "stream_cut", cut=True)
        elif fault is not None and fault.name == "stream_exception":
            exception = fault.params["exception"]
            frame = exception_frame(exception, fault.params["message"])
            stop = StreamStop(fault.params["after_events"], exception, frame=frame)
        elif fault is not None and fault.name == "bad_crc":
            events = list(events)
            stop = StreamStop(min(fault.params["after_events"], len(events) - 1), "bad_crc", corrupt=corrupt_crc)
        chunk_delay = fault.params["chunk_delay_s"] if fault is not None and fault.name == "slow" else 0.0
        self.write_stream(events, scope, stop=stop, chunk_delay_s=chunk_delay, on_failure=_generation_failure)


def _meet(fault: Fault | None) -> None:
    """What a fault does before any answer: a slow one waits, an error one raises its modeled error."""
    if fault is None:
        return
    if fault.name == "slow":
        time.sleep(fault.params["delay_s"])
    code = error_code(fault)
    if code is not None:
        raise ApiError(code, fault.params["message"])


def _generation_failure() -> StreamStop:
    """A generator that raised reaches the client as Bedrock's internalServerException event."""
    message = CATALOGUE.specs["stream_exception"].defaults["message"]
    return StreamStop(0, GENERATION_FAILURE, frame=exception_frame(GENERATION_FAILURE, message))


class ClientKwargs(TypedDict):
    """Keywords for ``boto3.client(service, **kwargs)`` aimed at a :class:`BedrockServer`."""

    endpoint_url: str
    region_name: str
    aws_access_key_id: str
    aws_secret_access_key: str


class BedrockServer(StandInServer):
    """A local, Bedrock-compatible endpoint for boto3 / aiobotocore clients (``endpoint_url``).

    Bind happens in the constructor (so ``endpoint_url`` is known at once); ``start()`` serves
    from a background thread. Use as a context manager in tests.
    """

    handler = _Handler
    catalogue = CATALOGUE

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False, stream_pace_s: float = 0.0
    ) -> None:
        self.cache = PromptCache()
        self.profiles = InferenceProfiles()
        super().__init__(host, port, verbose=verbose, stream_pace_s=stream_pace_s)

    @property
    def endpoint_url(self) -> str:
        """``http://host:port``, ready for ``boto3.client(..., endpoint_url=...)``."""
        return self.url

    def client_kwargs(self, region_name: str = "us-east-1") -> ClientKwargs:
        """``endpoint_url``, a region and throw-away keys: the server checks no signature.

        Explicit keys also keep botocore from searching for credentials (which, off AWS,
        can stall on the instance metadata service).
        """
        return ClientKwargs(
            endpoint_url=self.endpoint_url,
            region_name=region_name,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def inject(
        self,
        fault: str,
        *,
        count: int = 1,
        operation: str | None = None,
        model: str | None = None,
        **params: Any,
    ) -> None:
        """Queue a fault for the next ``count`` requests matching ``operation`` / ``model``."""
        self.faults.add(self.catalogue.make(fault, count=count, operation=operation, model=model, **params))

    def create_inference_profile(self, name: str, model_id: str, **options: Any) -> str:
        """Register an application inference profile of ``model_id``; its ARN (pass it as ``modelId``).

        ``options``: ``region``, ``account``, ``regions`` (see :meth:`InferenceProfiles.create`).
        """
        return self.profiles.create(name, model_id, **options).arn

    def reset(self) -> None:
        """Forget ledger totals, pending faults, cached prompt prefixes and inference profiles."""
        super().reset()
        self.cache.clear()
        self.profiles.clear()

"""A CLIENT span per AWS SDK call (boto3/botocore, and aiobotocore when installed).

``BaseClient._make_api_call`` is the one place every operation passes through. The
generic part records the AWS SDK conventions (``rpc.system=aws-api``, ``rpc.service``,
``rpc.method``, ``aws.request_id``, ``cloud.region``, retries, ``error.type``). A
per-service extension (Bedrock) may hand back hooks for one call (an
:class:`ExtensionCall`, like contrib's per-call extension objects) that add attributes at
start and on the outcome, and that may declare the span ends later (streams). Upstream's
``suppress_instrumentation()`` silences it all; the SDK's own HTTP requests run inside
``suppress_http_instrumentation()``, as upstream's botocore instrumentation does. The
library's own exceptions are re-raised unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextvars import Token
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, suppress_http_instrumentation
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from otel_chatbot.compat import plain_span_starter, span_ender
from otel_chatbot.guard import report
from otel_chatbot.version import __version__

RPC_SYSTEM = "rpc.system"
RPC_SERVICE = "rpc.service"
RPC_METHOD = "rpc.method"
AWS_REQUEST_ID = "aws.request_id"
CLOUD_REGION = "cloud.region"
RETRY_COUNT = "aws.retry_count"
HTTP_STATUS = "http.response.status_code"
ERROR_TYPE = "error.type"


class ExtensionCall(Protocol):
    """A service extension's hooks for one call; it holds that call's own context."""

    @property
    def span_name(self) -> str: ...

    @property
    def ends_span_later(self) -> bool:
        """True when ``on_success`` hands the span's end to something that outlives the call (a stream).

        ``on_success`` hands it over as its last step, so if it raises, the span is ended here.
        """
        ...

    def start_attributes(self, server_address: str | None, server_port: int | None) -> dict[str, Any]:
        """The span's attributes at start (a fresh dict the generic part adds its own to)."""
        ...

    def on_success(self, span: Span, result: dict[str, Any]) -> None: ...

    def on_error(self, span: Span, error: BaseException, error_type: str) -> None: ...


class ServiceExtension(Protocol):
    def begin(self, call: AwsCall) -> ExtensionCall | None:
        """This call's hooks, or None when the extension has nothing to add to it."""
        ...


class AwsCall:
    """One SDK call in flight: what extensions read, its span, and what ends it."""

    __slots__ = (
        "client",
        "endpoint",
        "hooks",
        "is_async",
        "operation",
        "params",
        "region",
        "service",
        "span",
        "start",
        "token",
    )

    def __init__(
        self,
        service: str,
        operation: str,
        params: dict[str, Any],
        region: str | None,
        endpoint: str | None,
        is_async: bool,
        client: Any = None,
    ) -> None:
        self.client = client  # the botocore client making the call (an extension may need its settings)
        self.service = service
        self.operation = operation
        self.params = params
        self.region = region
        self.endpoint = endpoint
        self.is_async = is_async
        self.start = time.perf_counter()
        self.hooks: ExtensionCall | None = None
        self.span: Span = trace.INVALID_SPAN
        self.token: Token[Context] | None = None


def _metadata(result: Any) -> dict[str, Any]:
    meta = result.get("ResponseMetadata") if isinstance(result, dict) else None
    return meta if isinstance(meta, dict) else {}


def error_type_of(error: BaseException) -> str:
    """The AWS error code of a ClientError (``ThrottlingException``), else the class name."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(error).__qualname__


class BotocoreTelemetry:
    def __init__(self, tracer_provider: TracerProvider, extensions: Mapping[str, ServiceExtension]) -> None:
        self.tracer = tracer_provider.get_tracer("otel_chatbot.botocore", __version__)
        self.start_span = plain_span_starter(self.tracer)
        self.end_span = span_ender(self.tracer)
        self.extensions = extensions
        self._servers: dict[str, tuple[str | None, int | None]] = {}

    def begin(self, client: Any, operation: str, params: Any, is_async: bool) -> AwsCall:
        """Start the call's span (current until :meth:`succeed` or :meth:`fail`)."""
        meta = client.meta
        service_model = meta.service_model
        call = AwsCall(
            str(service_model.service_id),
            operation,
            params if isinstance(params, dict) else {},
            meta.region_name,
            meta.endpoint_url,
            is_async,
            client,
        )
        name = None
        attributes: dict[str, Any] | None = None
        extension = self.extensions.get(service_model.service_name)
        if extension is not None:
            try:
                hooks = extension.begin(call)
                if hooks is not None:
                    attributes = hooks.start_attributes(*self._server(call.endpoint))
                    name = hooks.span_name
                    call.hooks = hooks
            except Exception as exc:
                call.hooks = None
                report(f"{call.service} request attributes", exc)
        if attributes is None:
            attributes = {}
        attributes[RPC_SYSTEM] = "aws-api"
        attributes[RPC_SERVICE] = call.service
        attributes[RPC_METHOD] = operation
        if call.region:
            attributes[CLOUD_REGION] = call.region
        call.span = span = self.start_span(name or f"{call.service}.{operation}", None, SpanKind.CLIENT, attributes)
        call.token = otel_context.attach(trace.set_span_in_context(span))
        return call

    def _server(self, endpoint: str | None) -> tuple[str | None, int | None]:
        """``server.address`` / ``server.port`` of a client's endpoint URL, parsed once per endpoint."""
        if not endpoint:
            return None, None
        server = self._servers.get(endpoint)
        if server is None:
            from urllib.parse import urlsplit

            parts = urlsplit(endpoint)
            server = (parts.hostname, parts.port)
            if len(self._servers) < 64:
                self._servers[endpoint] = server
        return server

    def succeed(self, call: AwsCall, result: Any) -> None:
        span = call.span
        _record_metadata(span, _metadata(result))
        hooks = call.hooks
        if hooks is None:
            self.end_span(span)
            return
        try:
            hooks.on_success(span, result)
        except Exception as exc:
            report(f"{call.service} response attributes", exc)
            if hooks.ends_span_later:
                span.end()  # on_success hands the span over last: it never got there
        if not hooks.ends_span_later:
            self.end_span(span)

    def fail(self, call: AwsCall, error: BaseException) -> None:
        span = call.span
        error_type = error_type_of(error)
        _record_metadata(span, _metadata(getattr(error, "response", None)))
        span.set_attribute(ERROR_TYPE, error_type)
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, error_type))
        if call.hooks is not None:
            try:
                call.hooks.on_error(span, error, error_type)
            except Exception as exc:
                report(f"{call.service} error attributes", exc)
        self.end_span(span)


def _record_metadata(span: Span, meta: dict[str, Any]) -> None:
    if meta.get("RequestId"):
        span.set_attribute(AWS_REQUEST_ID, meta["RequestId"])
    if isinstance(meta.get("HTTPStatusCode"), int):
        span.set_attribute(HTTP_STATUS, meta["HTTPStatusCode"])
    span.set_attribute(RETRY_COUNT, int(meta.get("RetryAttempts") or 0))


class BotocoreInstrumentation:
    """Patches botocore's (and aiobotocore's) ``_make_api_call``; ``revert`` undoes it."""

    def __init__(self, telemetry: BotocoreTelemetry) -> None:
        self.telemetry = telemetry
        self._originals: list[tuple[Any, Any]] = []

    def apply(self) -> None:
        """Patch botocore, and aiobotocore when it is installed."""
        self.apply_sync()
        try:
            self.apply_async()
        except ImportError:
            return

    def apply_sync(self) -> None:
        from botocore.client import BaseClient

        if not any(owner is BaseClient for owner, _ in self._originals):
            self._patch_sync(BaseClient)

    def apply_async(self) -> None:
        from aiobotocore.client import AioBaseClient

        if not any(owner is AioBaseClient for owner, _ in self._originals):
            self._patch_async(AioBaseClient)

    def revert(self) -> None:
        for owner, original in self._originals:
            owner._make_api_call = original
        self._originals = []

    def _start(self, client: Any, operation: str, params: Any, is_async: bool) -> AwsCall | None:
        """The call with its span current; None inside upstream's ``suppress_instrumentation()``."""
        if not is_instrumentation_enabled():
            return None
        try:
            return self.telemetry.begin(client, operation, params, is_async)
        except Exception as exc:
            report("botocore call start", exc)
            return None

    def _patch_sync(self, owner: Any) -> None:
        original = owner._make_api_call
        start = self._start
        succeeded, failed = self._succeeded, self._failed

        def _make_api_call(client: Any, operation_name: str, api_params: Any) -> Any:
            call = start(client, operation_name, api_params, False)
            if call is None:
                return original(client, operation_name, api_params)
            try:
                with suppress_http_instrumentation():  # the AWS span describes the HTTP requests
                    result = original(client, operation_name, api_params)
            except BaseException as exc:
                failed(call, exc)
                raise
            succeeded(call, result)
            return result

        self._originals.append((owner, original))
        owner._make_api_call = _make_api_call

    def _patch_async(self, owner: Any) -> None:
        original = owner._make_api_call
        start = self._start
        succeeded, failed = self._succeeded, self._failed

        async def _make_api_call(client: Any, operation_name: str, api_params: Any) -> Any:
            call = start(client, operation_name, api_params, True)
            if call is None:
                return await original(client, operation_name, api_params)
            try:
                with suppress_http_instrumentation():  # aiobotocore's aiohttp requests
                    result = await original(client, operation_name, api_params)
            except BaseException as exc:
                failed(call, exc)
                raise
            succeeded(call, result)
            return result

        self._originals.append((owner, original))
        owner._make_api_call = _make_api_call

    def _succeeded(self, call: AwsCall, result: Any) -> None:
        self._end(call, "botocore call end", self.telemetry.succeed, result)

    def _failed(self, call: AwsCall, error: BaseException) -> None:
        self._end(call, "botocore call error", self.telemetry.fail, error)

    @staticmethod
    def _end(call: AwsCall, where: str, record: Callable[[AwsCall, Any], None], outcome: Any) -> None:
        """Leave the span's context and record the outcome, never raising."""
        if call.token is not None:
            otel_context.detach(call.token)
        try:
            record(call, outcome)
        except Exception as exc:
            report(where, exc)
            call.span.end()

"""A CLIENT span per AWS SDK call (boto3/botocore, and aiobotocore when installed).

``BaseClient._make_api_call`` is the one place every operation passes through. The
generic part records the AWS SDK conventions (``rpc.system=aws-api``, ``rpc.service``,
``rpc.method``, ``aws.request_id``, ``cloud.region``, retries, ``error.type``);
per-service extensions (Bedrock) add their own attributes and may take over ending
the span (streams). The library's own exceptions are re-raised unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, suppress_http_instrumentation
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

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
SERVER_ADDRESS = "server.address"


@dataclass
class AwsCall:
    """One SDK call as the extensions see it."""

    service: str
    operation: str
    params: dict[str, Any]
    region: str | None
    endpoint: str | None
    start: float = field(default_factory=time.perf_counter)
    state: dict[str, Any] = field(default_factory=dict)


class ServiceExtension(Protocol):
    """Hooks a service adds to the generic span; every hook may be a no-op."""

    def span_name(self, call: AwsCall) -> str | None: ...

    def request_attributes(self, call: AwsCall) -> dict[str, Any]: ...

    def on_success(self, call: AwsCall, span: Span, result: dict[str, Any]) -> bool:
        """Record the result; True means the extension now owns ending the span (streams)."""
        ...

    def on_error(self, call: AwsCall, span: Span, error: BaseException, error_type: str) -> None: ...


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
    def __init__(self, tracer_provider: TracerProvider, extensions: dict[str, ServiceExtension]) -> None:
        self.tracer = tracer_provider.get_tracer("otel_chatbot.botocore", __version__)
        self.extensions = extensions

    def begin(self, client: Any, operation: str, params: Any) -> tuple[AwsCall, Span, ServiceExtension | None]:
        meta = client.meta
        service = meta.service_model.service_id
        call = AwsCall(
            service=str(service),
            operation=operation,
            params=params if isinstance(params, dict) else {},
            region=meta.region_name,
            endpoint=meta.endpoint_url,
        )
        extension = self.extensions.get(meta.service_model.service_name)
        attributes: dict[str, Any] = {
            RPC_SYSTEM: "aws-api",
            RPC_SERVICE: call.service,
            RPC_METHOD: operation,
        }
        if call.region:
            attributes[CLOUD_REGION] = call.region
        name = f"{call.service}.{operation}"
        if extension is not None:
            try:
                attributes.update(extension.request_attributes(call))
                name = extension.span_name(call) or name
            except Exception as exc:
                report(f"{call.service} request attributes", exc)
        span = self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        return call, span, extension

    def succeed(self, call: AwsCall, span: Span, extension: ServiceExtension | None, result: Any) -> None:
        meta = _metadata(result)
        if meta.get("RequestId"):
            span.set_attribute(AWS_REQUEST_ID, meta["RequestId"])
        if isinstance(meta.get("HTTPStatusCode"), int):
            span.set_attribute(HTTP_STATUS, meta["HTTPStatusCode"])
        span.set_attribute(RETRY_COUNT, int(meta.get("RetryAttempts") or 0))
        owned = False
        if extension is not None:
            try:
                owned = bool(extension.on_success(call, span, result))
            except Exception as exc:
                report(f"{call.service} response attributes", exc)
        if not owned:
            span.end()

    def fail(self, call: AwsCall, span: Span, extension: ServiceExtension | None, error: BaseException) -> None:
        error_type = error_type_of(error)
        meta = _metadata(getattr(error, "response", None))
        if meta.get("RequestId"):
            span.set_attribute(AWS_REQUEST_ID, meta["RequestId"])
        if isinstance(meta.get("HTTPStatusCode"), int):
            span.set_attribute(HTTP_STATUS, meta["HTTPStatusCode"])
        span.set_attribute(RETRY_COUNT, int(meta.get("RetryAttempts") or 0))
        span.set_attribute(ERROR_TYPE, error_type)
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, error_type))
        if extension is not None:
            try:
                extension.on_error(call, span, error, error_type)
            except Exception as exc:
                report(f"{call.service} error attributes", exc)
        span.end()


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

    def _start(self, client: Any, operation: str, params: Any, is_async: bool) -> _Started | None:
        """The call's span, current until it returns; None inside upstream's ``suppress_instrumentation()``."""
        if not is_instrumentation_enabled():
            return None
        try:
            call, span, extension = self.telemetry.begin(client, operation, params)
            call.state["async"] = is_async
            token = otel_context.attach(trace.set_span_in_context(span))
            return _Started(self.telemetry, call, span, extension, token)
        except Exception as exc:
            report("botocore call start", exc)
            return None

    def _patch_sync(self, owner: Any) -> None:
        original = owner._make_api_call
        start = self._start

        def _make_api_call(client: Any, operation_name: str, api_params: Any) -> Any:
            started = start(client, operation_name, api_params, False)
            if started is None:
                return original(client, operation_name, api_params)
            try:
                with suppress_http_instrumentation():  # the AWS span describes the HTTP requests
                    result = original(client, operation_name, api_params)
            except BaseException as exc:
                started.failed(exc)
                raise
            started.succeeded(result)
            return result

        self._originals.append((owner, original))
        owner._make_api_call = _make_api_call

    def _patch_async(self, owner: Any) -> None:
        original = owner._make_api_call
        start = self._start

        async def _make_api_call(client: Any, operation_name: str, api_params: Any) -> Any:
            started = start(client, operation_name, api_params, True)
            if started is None:
                return await original(client, operation_name, api_params)
            try:
                with suppress_http_instrumentation():  # aiobotocore's aiohttp requests
                    result = await original(client, operation_name, api_params)
            except BaseException as exc:
                started.failed(exc)
                raise
            started.succeeded(result)
            return result

        self._originals.append((owner, original))
        owner._make_api_call = _make_api_call


class _Started:
    """One call in flight: leaves the span's context and records the outcome, never raising."""

    __slots__ = ("call", "extension", "span", "telemetry", "token")

    def __init__(self, telemetry: BotocoreTelemetry, call: AwsCall, span: Span, extension: Any, token: Any) -> None:
        self.telemetry, self.call, self.span, self.extension, self.token = telemetry, call, span, extension, token

    def succeeded(self, result: Any) -> None:
        otel_context.detach(self.token)
        _guarded_succeed(self.telemetry, self.call, self.span, self.extension, result)

    def failed(self, error: BaseException) -> None:
        otel_context.detach(self.token)
        _guarded_fail(self.telemetry, self.call, self.span, self.extension, error)


def _guarded_succeed(telemetry: BotocoreTelemetry, call: AwsCall, span: Span, ext: Any, result: Any) -> None:
    try:
        telemetry.succeed(call, span, ext, result)
    except Exception as exc:
        report("botocore call end", exc)
        span.end()


def _guarded_fail(telemetry: BotocoreTelemetry, call: AwsCall, span: Span, ext: Any, error: BaseException) -> None:
    try:
        telemetry.fail(call, span, ext, error)
    except Exception as exc:
        report("botocore call error", exc)
        span.end()

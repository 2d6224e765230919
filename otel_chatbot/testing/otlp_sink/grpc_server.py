"""OTLP/gRPC receiver: the generated collector services on a grpcio server."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from otel_chatbot.testing.otlp_sink.behaviour import rpc_code
from otel_chatbot.testing.otlp_sink.receiver import Outcome, Receiver
from otel_chatbot.testing.otlp_sink.signals import LOGS, METRICS, SIGNALS, TRACES, SignalSpec

_CODES = {code.value[0]: code for code in grpc.StatusCode}

_MAX_MESSAGE = 64 * 1024 * 1024
_RETRY_INFO_KEY = "google.rpc.retryinfo-bin"

# The generated registration functions are untyped; this table gives them a type.
_ADD_SERVICER: dict[str, Callable[[object, grpc.Server], None]] = {
    TRACES: trace_service_pb2_grpc.add_TraceServiceServicer_to_server,
    METRICS: metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server,
    LOGS: logs_service_pb2_grpc.add_LogsServiceServicer_to_server,
}


class _ExportServicer:
    """Implements ``Export`` for one signal (the generated servicers are duck-typed)."""

    def __init__(self, spec: SignalSpec[Any], receiver: Receiver) -> None:
        self._spec = spec
        self._receiver = receiver

    def Export(self, request: Message, context: grpc.ServicerContext) -> Message:
        outcome, behaviour = self._receiver.receive(self._spec, request, context.is_active)
        if outcome is Outcome.REFUSED:
            assert behaviour.fail_with is not None
            if behaviour.retry_after_s is not None:
                # gRPC's Retry-After: a RetryInfo in the trailers, which the OTLP exporters honour
                delay = RetryInfo(retry_delay=Duration(seconds=behaviour.retry_after_s))
                context.set_trailing_metadata(((_RETRY_INFO_KEY, delay.SerializeToString()),))
            context.abort(_CODES.get(rpc_code(behaviour.fail_with), grpc.StatusCode.UNKNOWN), behaviour.message)
        return self._spec.empty_response()


class OtlpGrpcServer:
    """A grpcio server exposing TraceService, MetricsService and LogsService."""

    def __init__(self, host: str, port: int, receiver: Receiver, max_workers: int = 16) -> None:
        self._executor = futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="otlp-sink-grpc")
        self._server = grpc.server(
            self._executor,
            options=[("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.so_reuseport", 0)],
        )
        for signal, add_servicer in _ADD_SERVICER.items():
            add_servicer(_ExportServicer(SIGNALS[signal], receiver), self._server)
        self.port: int = self._server.add_insecure_port(f"{host}:{port}")
        if not self.port:
            raise OSError(f"cannot bind gRPC to {host}:{port}")

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None).wait()
        self._executor.shutdown(wait=True)

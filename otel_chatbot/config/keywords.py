"""The Python types ``configure()`` accepts for each setting, so a type checker sees a typo.

Each row of the settings table carries one of these types (``Setting.accepts``);
:class:`SettingsKeywords` lists them again as a ``TypedDict`` for ``configure(**settings)``
(a type checker cannot read a table), and a test keeps the two equal. The choices of
the enum and list settings are ``Literal`` types whose values the parsers also accept,
so each choice is written once.

These are the forms code naturally passes: a bool for a bool, a mapping for headers, one
choice or a sequence of them for a list. ``configure()`` also takes the environment
variable's string form of any setting at run time (it is parsed like the variable).
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping, Sequence
from typing import Literal, TypeAlias, TypedDict, Union, get_args, get_origin

Exporter: TypeAlias = Literal["otlp", "console", "none"]
MetricsExporter: TypeAlias = Literal["otlp", "console", "none", "prometheus"]
AwsDetector: TypeAlias = Literal["auto", "ec2", "ecs", "eks", "lambda", "none"]
OtlpProtocol: TypeAlias = Literal["http/protobuf", "grpc"]
Compression: TypeAlias = Literal["none", "gzip"]
Sampler: TypeAlias = Literal[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
]
Propagator: TypeAlias = Literal["tracecontext", "baggage", "xray", "none"]
LogLevel: TypeAlias = Literal["debug", "info", "warning", "error", "critical"]
Instrumentation: TypeAlias = Literal[
    "fastapi", "httpx", "httpx2", "aiohttp-client", "genai-http", "botocore", "logging", "none"
]
SemconvOptIn: TypeAlias = Literal["http", "http/dup", "gen_ai_latest_experimental", "none"]
ResponseHeader: TypeAlias = Literal["request-id", "trace-id", "response-time", "none"]
IdSourceKind: TypeAlias = Literal["header", "path", "body"]
ProcessMetric: TypeAlias = Literal[
    "process.cpu.time",
    "process.cpu.utilization",
    "process.memory.usage",
    "process.memory.virtual",
    "process.thread.count",
    "process.open_file_descriptor.count",
    "process.context_switches",
    "process.disk.io",
    "cpython.gc.collections",
    "cpython.gc.collected_objects",
    "cpython.gc.uncollectable_objects",
    "none",
]

Exporters: TypeAlias = Exporter | Sequence[Exporter]
MetricsExporters: TypeAlias = MetricsExporter | Sequence[MetricsExporter]
AwsDetectors: TypeAlias = AwsDetector | Sequence[AwsDetector]
Propagators: TypeAlias = Propagator | Sequence[Propagator]
Instrumentations: TypeAlias = Instrumentation | Sequence[Instrumentation]
SemconvOptIns: TypeAlias = SemconvOptIn | Sequence[SemconvOptIn]
ResponseHeaders: TypeAlias = ResponseHeader | Sequence[ResponseHeader]
ProcessMetrics: TypeAlias = ProcessMetric | Sequence[ProcessMetric]
Patterns: TypeAlias = str | Sequence[str]
KeyValues: TypeAlias = Mapping[str, str]
IdSources: TypeAlias = Sequence[tuple[IdSourceKind, str]]
OptionalStr: TypeAlias = str | None
OptionalInt: TypeAlias = int | None
OptionalPath: TypeAlias = str | os.PathLike[str] | None


class SettingsKeywords(TypedDict, total=False):
    """The settings ``configure()`` takes as keywords: one per row of the table, none required."""

    sdk_disabled: bool
    service_name: str
    service_version: OptionalStr
    deployment_environment: OptionalStr
    resource_attributes: KeyValues
    aws_detectors: AwsDetectors
    traces_exporter: Exporters
    metrics_exporter: MetricsExporters
    logs_exporter: Exporters
    otlp_protocol: OtlpProtocol
    otlp_endpoint: OptionalStr
    otlp_traces_endpoint: OptionalStr
    otlp_metrics_endpoint: OptionalStr
    otlp_logs_endpoint: OptionalStr
    otlp_headers: KeyValues
    otlp_timeout_ms: int
    otlp_compression: Compression
    sampler: Sampler
    sampler_arg: float
    propagators: Propagators
    bsp_schedule_delay_ms: int
    bsp_max_queue_size: int
    bsp_max_export_batch_size: int
    blrp_schedule_delay_ms: int
    blrp_max_queue_size: int
    blrp_max_export_batch_size: int
    metric_export_interval_ms: int
    prometheus_host: str
    prometheus_port: int
    stats_host: str
    stats_port: OptionalInt
    log_level: LogLevel
    excluded_urls: Patterns
    disabled_instrumentations: Instrumentations
    semconv_opt_in: SemconvOptIns
    capture_message_content: bool
    content_max_bytes: int
    redact_patterns: Patterns
    request_id_header: str
    response_headers: ResponseHeaders
    conversation_id_sources: IdSources
    genai_endpoints: KeyValues
    pricing_file: OptionalPath
    max_models: int
    resolve_inference_profiles: bool
    gc_freeze: bool
    loop_lag_interval_ms: int
    process_metrics: ProcessMetrics
    raise_internal_errors: bool


def conforms(value: object, form: object) -> bool:
    """Whether ``value`` has the shape of the type ``form``, checked at run time.

    Covers the forms the table uses. A ``Literal`` only asks for a string: which strings
    are valid is the parser's business, and its message lists them.
    """
    if form is type(None):
        return value is None
    origin, args = get_origin(form), get_args(form)
    if origin is Union or origin is types.UnionType:
        return any(conforms(value, arm) for arm in args)
    if origin is Literal:
        return isinstance(value, str)
    if origin is Sequence:
        return (
            isinstance(value, Sequence)
            and not isinstance(value, (str, bytes))
            and all(conforms(item, args[0]) for item in value)
        )
    if origin is Mapping:
        return isinstance(value, Mapping) and all(
            conforms(key, args[0]) and conforms(item, args[1]) for key, item in value.items()
        )
    if origin is tuple:
        return (
            isinstance(value, tuple)
            and len(value) == len(args)
            and all(conforms(item, arm) for item, arm in zip(value, args, strict=True))
        )
    if origin is os.PathLike:
        return isinstance(value, os.PathLike)
    if form is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if form is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(form, type) and isinstance(value, form)


def describe(form: object) -> str:
    """A type as a user reads it: ``'otlp' | 'console' | Sequence['otlp' | 'console']``."""
    if form is type(None):
        return "None"
    origin, args = get_origin(form), get_args(form)
    if origin is Union or origin is types.UnionType:
        return " | ".join(describe(arm) for arm in args)
    if origin is Literal:
        return " | ".join(repr(value) for value in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', origin)}[{', '.join(describe(arm) for arm in args)}]"
    return str(getattr(form, "__name__", form))

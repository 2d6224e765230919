"""The one table of settings: name, environment variable, parser, default, doc and Python type.

Everything the distro can be told lives here. ``OTEL_*`` variables are used wherever
OpenTelemetry defines one; ``OTEL_CHATBOT_*`` names our own. The README's configuration
table is generated from this tuple (``python -m otel_chatbot.config.docs``), and a test
keeps the two in sync; another keeps the types equal to ``configure()``'s keyword types
(:class:`otel_chatbot.config.keywords.SettingsKeywords`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from otel_chatbot.config import keywords as k
from otel_chatbot.config import parsers as p


@dataclass(frozen=True)
class Setting:
    """One configuration parameter; ``default`` is the raw string form, parsed like input.

    ``type_name`` describes the environment variable's form (the README's column);
    ``accepts`` is the Python type ``configure()`` takes for the keyword.
    """

    name: str
    env: str
    parse: p.Parser
    default: str
    doc: str
    type_name: str
    accepts: object

    def parse_default(self) -> Any:
        return self.parse(self.default)


def choices(literal: object) -> tuple[str, ...]:
    """The values of a ``Literal`` type, for the parser that accepts exactly those."""
    return tuple(str(value) for value in get_args(literal))


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "sdk_disabled",
        "OTEL_SDK_DISABLED",
        p.parse_bool,
        "false",
        "Turn all telemetry off; the app runs untouched.",
        "bool",
        bool,
    ),
    Setting("service_name", "OTEL_SERVICE_NAME", p.parse_str, "chatbot", "`service.name` of every signal.", "str", str),
    Setting(
        "service_version",
        "OTEL_CHATBOT_SERVICE_VERSION",
        p.parse_optional_str,
        "",
        "`service.version`; empty leaves it unset.",
        "str",
        k.OptionalStr,
    ),
    Setting(
        "deployment_environment",
        "OTEL_CHATBOT_ENVIRONMENT",
        p.parse_optional_str,
        "",
        "`deployment.environment.name` (e.g. prod, staging).",
        "str",
        k.OptionalStr,
    ),
    Setting(
        "resource_attributes",
        "OTEL_RESOURCE_ATTRIBUTES",
        p.parse_key_values,
        "",
        "Extra resource attributes, `key=value,...` (percent-decoded).",
        "key=value list",
        k.KeyValues,
    ),
    Setting(
        "aws_detectors",
        "OTEL_CHATBOT_AWS_DETECTORS",
        p.list_of(choices(k.AwsDetector)),
        "auto",
        "AWS resource detection. `auto` reads only local signals (environment, DMI, "
        "service-account files) so start-up never waits off AWS; `ec2` also asks the instance "
        "metadata service.",
        "list",
        k.AwsDetectors,
    ),
    Setting(
        "traces_exporter",
        "OTEL_TRACES_EXPORTER",
        p.list_of(choices(k.Exporter)),
        "otlp",
        "Where spans go.",
        "list",
        k.Exporters,
    ),
    Setting(
        "metrics_exporter",
        "OTEL_METRICS_EXPORTER",
        p.list_of(choices(k.MetricsExporter)),
        "otlp",
        "Where metrics go; `prometheus` serves `/metrics` in-process.",
        "list",
        k.MetricsExporters,
    ),
    Setting(
        "logs_exporter",
        "OTEL_LOGS_EXPORTER",
        p.list_of(choices(k.Exporter)),
        "otlp",
        "Where log records go.",
        "list",
        k.Exporters,
    ),
    Setting(
        "otlp_protocol",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        p.one_of(choices(k.OtlpProtocol)),
        "http/protobuf",
        "OTLP transport for all signals.",
        "enum",
        k.OtlpProtocol,
    ),
    Setting(
        "otlp_endpoint",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        p.parse_optional_url,
        "",
        "Collector base URL; empty means http://localhost:4318 (http/protobuf) or http://localhost:4317 (grpc).",
        "url",
        k.OptionalStr,
    ),
    Setting(
        "otlp_traces_endpoint",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        p.parse_optional_url,
        "",
        "Full URL for spans, overriding the base endpoint.",
        "url",
        k.OptionalStr,
    ),
    Setting(
        "otlp_metrics_endpoint",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        p.parse_optional_url,
        "",
        "Full URL for metrics, overriding the base endpoint.",
        "url",
        k.OptionalStr,
    ),
    Setting(
        "otlp_logs_endpoint",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        p.parse_optional_url,
        "",
        "Full URL for logs, overriding the base endpoint.",
        "url",
        k.OptionalStr,
    ),
    Setting(
        "otlp_headers",
        "OTEL_EXPORTER_OTLP_HEADERS",
        p.parse_key_values,
        "",
        "Headers sent with every export, `key=value,...` (never logged).",
        "key=value list",
        k.KeyValues,
    ),
    Setting(
        "otlp_timeout_ms",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        p.int_in(1, 600_000),
        "10000",
        "Export timeout in milliseconds.",
        "int",
        int,
    ),
    Setting(
        "otlp_compression",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        p.one_of(choices(k.Compression)),
        "none",
        "Compression of export requests.",
        "enum",
        k.Compression,
    ),
    Setting(
        "sampler",
        "OTEL_TRACES_SAMPLER",
        p.one_of(choices(k.Sampler)),
        "parentbased_always_on",
        "Head sampler.",
        "enum",
        k.Sampler,
    ),
    Setting(
        "sampler_arg",
        "OTEL_TRACES_SAMPLER_ARG",
        p.float_in(0.0, 1.0),
        "1.0",
        "Ratio for the `traceidratio` samplers.",
        "float",
        float,
    ),
    Setting(
        "propagators",
        "OTEL_PROPAGATORS",
        p.list_of(choices(k.Propagator)),
        "tracecontext,baggage",
        "Context propagation formats (`xray` needs opentelemetry-propagator-aws-xray).",
        "list",
        k.Propagators,
    ),
    Setting(
        "bsp_schedule_delay_ms",
        "OTEL_BSP_SCHEDULE_DELAY",
        p.int_in(1, 600_000),
        "1000",
        "Delay between span export batches.",
        "int",
        int,
    ),
    Setting(
        "bsp_max_queue_size",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        p.int_in(1, 10_000_000),
        "8192",
        "Spans kept while the collector is down or slow, the oldest dropped beyond (bounds memory).",
        "int",
        int,
    ),
    Setting(
        "bsp_max_export_batch_size",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        p.int_in(1, 100_000),
        "2048",
        "Spans per export request (fewer, larger requests: each costs the app a fixed share of CPU).",
        "int",
        int,
    ),
    Setting(
        "blrp_schedule_delay_ms",
        "OTEL_BLRP_SCHEDULE_DELAY",
        p.int_in(1, 600_000),
        "1000",
        "Delay between log record export batches.",
        "int",
        int,
    ),
    Setting(
        "blrp_max_queue_size",
        "OTEL_BLRP_MAX_QUEUE_SIZE",
        p.int_in(1, 10_000_000),
        "8192",
        "Log records kept while the collector is down or slow, the oldest dropped beyond (bounds memory).",
        "int",
        int,
    ),
    Setting(
        "blrp_max_export_batch_size",
        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
        p.int_in(1, 100_000),
        "512",
        "Log records per export request.",
        "int",
        int,
    ),
    Setting(
        "metric_export_interval_ms",
        "OTEL_METRIC_EXPORT_INTERVAL",
        p.int_in(100, 3_600_000),
        "15000",
        "Interval between metric exports.",
        "int",
        int,
    ),
    Setting(
        "prometheus_host",
        "OTEL_EXPORTER_PROMETHEUS_HOST",
        p.parse_str,
        "127.0.0.1",
        "Bind address of the in-process `/metrics` endpoint.",
        "str",
        str,
    ),
    Setting(
        "prometheus_port",
        "OTEL_EXPORTER_PROMETHEUS_PORT",
        p.int_in(0, 65535),
        "9464",
        "Port of the in-process `/metrics` endpoint (0 picks a free one).",
        "int",
        int,
    ),
    Setting(
        "stats_host",
        "OTEL_CHATBOT_STATS_HOST",
        p.parse_str,
        "127.0.0.1",
        "Bind address of the live stats endpoint (`GET /stats` JSON and the live page at `GET /`).",
        "str",
        str,
    ),
    Setting(
        "stats_port",
        "OTEL_CHATBOT_STATS_PORT",
        p.optional_int_in(0, 65535),
        "",
        "Port of the live stats endpoint; empty turns it off, 0 picks a free port (logged, and `Telemetry.stats_url`).",
        "int",
        k.OptionalInt,
    ),
    Setting(
        "log_level",
        "OTEL_PYTHON_LOG_LEVEL",
        p.one_of(choices(k.LogLevel)),
        "info",
        "Lowest level of Python log records exported over OTLP.",
        "enum",
        k.LogLevel,
    ),
    Setting(
        "excluded_urls",
        "OTEL_PYTHON_EXCLUDED_URLS",
        p.parse_regex_list,
        "^/health$,^/healthz$,^/readyz$,^/livez$,^/metrics$",
        "Regexes (searched in the path) of requests that get no telemetry.",
        "regex list",
        k.Patterns,
    ),
    Setting(
        "disabled_instrumentations",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
        p.list_of(choices(k.Instrumentation)),
        "none",
        "Instrumentations to leave off. `genai-http` is the recognition of GenAI calls (OpenAI, Anthropic, "
        "Ollama ...) in the HTTP client spans; without it they stay plain HTTP spans.",
        "list",
        k.Instrumentations,
    ),
    Setting(
        "semconv_opt_in",
        "OTEL_SEMCONV_STABILITY_OPT_IN",
        p.list_of(choices(k.SemconvOptIn)),
        "http",
        "HTTP attributes: `http` emits the stable names; `http/dup` adds the old ones too.",
        "list",
        k.SemconvOptIns,
    ),
    Setting(
        "capture_message_content",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        p.parse_bool,
        "false",
        "Record prompts and completions (redacted, bounded) as `gen_ai.input.messages` / `gen_ai.output.messages`.",
        "bool",
        bool,
    ),
    Setting(
        "content_max_bytes",
        "OTEL_CHATBOT_CONTENT_MAX_BYTES",
        p.int_in(64, 1_048_576),
        "8192",
        "Size bound of each captured message attribute.",
        "int",
        int,
    ),
    Setting(
        "redact_patterns",
        "OTEL_CHATBOT_REDACT_PATTERNS",
        p.parse_regex_list,
        "",
        "Extra regexes redacted from captured content.",
        "regex list",
        k.Patterns,
    ),
    Setting(
        "request_id_header",
        "OTEL_CHATBOT_REQUEST_ID_HEADER",
        p.parse_str,
        "X-Request-ID",
        "Request id header: honoured if sent, generated if not, recorded as `http.request.id`; empty turns it off.",
        "str",
        str,
    ),
    Setting(
        "response_headers",
        "OTEL_CHATBOT_RESPONSE_HEADERS",
        p.list_of(choices(k.ResponseHeader)),
        "request-id,trace-id,response-time",
        "Correlation headers added to responses: `X-Request-ID`, `X-Trace-Id`, `X-Response-Time`.",
        "list",
        k.ResponseHeaders,
    ),
    Setting(
        "conversation_id_sources",
        "OTEL_CHATBOT_CONVERSATION_ID",
        p.parse_id_sources,
        "header:x-conversation-id,header:x-session-id,path:session_id,path:conversation_id",
        "Where the chat session id of a request is read, in order (`header:NAME`, `path:NAME`, "
        "`body:NAME` for a top-level JSON field); it becomes `gen_ai.conversation.id` on spans.",
        "source list",
        k.IdSources,
    ),
    Setting(
        "genai_endpoints",
        "OTEL_CHATBOT_GENAI_ENDPOINTS",
        p.parse_genai_endpoints,
        "",
        "More GenAI servers, `BASE_URL=provider,...` (e.g. `http://gpu1:8000/v1=openai,http://llm:8080=ollama`): "
        "HTTP calls under a base URL are read as that provider's API (`anthropic`: Messages; `ollama`: native and "
        "`/v1/`; any other name: OpenAI-compatible) and get that `gen_ai.provider.name`. Known hosts and paths are "
        "recognised without it (see GenAI providers).",
        "url=provider list",
        k.KeyValues,
    ),
    Setting(
        "pricing_file",
        "OTEL_CHATBOT_PRICING_FILE",
        p.parse_optional_str,
        "",
        "JSON file that overrides or extends the shipped price table (Bedrock, OpenAI, Anthropic).",
        "path",
        k.OptionalPath,
    ),
    Setting(
        "max_models",
        "OTEL_CHATBOT_MAX_MODELS",
        p.int_in(1, 100_000),
        "100",
        "Distinct model ids recorded as metric attributes (`gen_ai.request.model`, `gen_ai.response.model`, the "
        "helpers' models): later new ones are recorded as `_OTHER`, so an app passing arbitrary model strings "
        "cannot open unbounded series; spans keep the real id (see docs/reliability.md).",
        "int",
        int,
    ),
    Setting(
        "resolve_inference_profiles",
        "OTEL_CHATBOT_RESOLVE_INFERENCE_PROFILES",
        p.parse_bool,
        "false",
        "Resolve Bedrock application inference profile ARNs to their base model (`GetInferenceProfile`, needs "
        "`bedrock:GetInferenceProfile`), once per ARN in a background thread: later calls are priced and counted "
        "(metric `gen_ai.request.model`) as the base model, the span keeps the ARN and shows the model as "
        "`gen_ai.response.model`. A failed lookup is logged once and asked again after 5 min (throttled, "
        "unreachable) or 1 h.",
        "bool",
        bool,
    ),
    Setting(
        "gc_freeze",
        "OTEL_CHATBOT_GC_FREEZE",
        p.parse_bool,
        "true",
        "Move the objects alive after start-up out of the garbage collector's reach (`gc.freeze()` when the "
        "ASGI lifespan start-up completes), so full collections stop walking them: p99 at 1 connection "
        "measured 14 ms without, 4 ms with (bench, minimal app).",
        "bool",
        bool,
    ),
    Setting(
        "loop_lag_interval_ms",
        "OTEL_CHATBOT_LOOP_LAG_INTERVAL",
        p.int_in(0, 60_000),
        "500",
        "Interval of the timer on the app's event loop that records `chatbot.asyncio.loop.lag` (how late it "
        "runs), started at the ASGI lifespan start-up; 0 turns it off. One record per interval, none per request.",
        "int",
        int,
    ),
    Setting(
        "process_metrics",
        "OTEL_CHATBOT_PROCESS_METRICS",
        p.list_of(choices(k.ProcessMetric)),
        "process.cpu.time,process.memory.usage,process.memory.virtual,process.thread.count,"
        "process.open_file_descriptor.count,process.context_switches,cpython.gc.collections,"
        "cpython.gc.collected_objects,cpython.gc.uncollectable_objects",
        "Process metrics recorded by opentelemetry-instrumentation-system-metrics (installed with otel-chatbot); "
        "`none` turns them off. CPU utilisation is `rate(process.cpu.time)` on the dashboards; host-wide "
        "`system.*` metrics belong to the collector's hostmetrics receiver.",
        "list",
        k.ProcessMetrics,
    ),
    Setting(
        "raise_internal_errors",
        "OTEL_CHATBOT_RAISE_INTERNAL_ERRORS",
        p.parse_bool,
        "false",
        "Re-raise errors inside the distro instead of logging them (tests only).",
        "bool",
        bool,
    ),
)

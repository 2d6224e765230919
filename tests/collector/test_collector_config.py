"""Static properties of the shipped configs that `validate` cannot see (no binary needed).

The awsemf exporter silently drops metric descriptors with units CloudWatch does not
know, the isolation of the backends is a matter of pipeline shape, and the scrub and
redaction patterns must hit prompt text and credentials but not the GenAI attributes
dashboards need.  (The patterns are checked with Python's `re`; they use only syntax
that Go's RE2 reads the same way.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from otelcol_harness import COLLECTOR_DIR, REQUIRED_ENV, shipped_config_files

ENV_REF = re.compile(r"\$\{env:(\w+)(?::-([^}]*))?\}")

# What the otel_chatbot distro emits (metric name -> data point attribute keys it
# always sets; see otel_chatbot/instrumentation/genai/metrics.py).
APP_METRICS = {
    "http.server.request.duration": {"http.request.method", "http.route", "http.response.status_code"},
    "http.server.active_requests": {"http.request.method", "url.scheme"},
    "http.client.request.duration": {"http.request.method", "server.address", "http.response.status_code"},
    # GenAI points (otel_chatbot/instrumentation/genai/metrics.py): provider on every one
    "gen_ai.client.token.usage": {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                                  "gen_ai.token.type"},
    "gen_ai.client.operation.duration": {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                                         "error.type"},
    "gen_ai.client.operation.time_to_first_chunk": {"gen_ai.operation.name", "gen_ai.provider.name",
                                                    "gen_ai.request.model"},
    "gen_ai.client.cost": {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                           "gen_ai.token.type"},
    "gen_ai.client.throttles": {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model"},
    # otel_chatbot/export/queue_metrics.py (error.type on what was dropped)
    **{
        f"otel.sdk.processor.{signal}.{name}": {"otel.component.type", "otel.component.name"}
        | ({"error.type"} if name == "processed" else set())
        for signal in ("span", "log")
        for name in ("processed", "queue.size", "queue.capacity")
    },
    "chatbot.stream.time_to_first_byte": {"http.request.method", "http.route"},
    "chatbot.stream.duration": {"http.request.method", "http.route", "chatbot.stream.outcome"},
    "chatbot.websocket.active_connections": {"http.request.method", "url.scheme"},
    "chatbot.cache.lookups": {"chatbot.cache.name", "chatbot.cache.result"},
    "chatbot.cache.saved.tokens": {"chatbot.cache.name", "gen_ai.token.type", "gen_ai.request.model"},
    "chatbot.cache.saved.cost": {"chatbot.cache.name", "gen_ai.token.type", "gen_ai.request.model"},
    "chatbot.failover.chains": {"chatbot.failover.name", "chatbot.failover.outcome"},
    "chatbot.failover.switches": {
        "chatbot.failover.name",
        "chatbot.failover.from",
        "chatbot.failover.to",
        "error.type",
    },
    "chatbot.failover.overhead": {"chatbot.failover.name", "gen_ai.provider.name"},
    "chatbot.feedback": {"gen_ai.evaluation.score.label", "chatbot.feedback.sentiment"},
    "chatbot.feedback.score": {"gen_ai.evaluation.name"},
}
# Added on the way: by awsemf's resource_to_telemetry_conversion and transform/status_class.
ADDED_LABELS = {"service.name", "deployment.environment.name", "http.status_class"}
CLOUDWATCH_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COLLECTOR_DIR / name).read_text())
    return loaded


def default(value: Any) -> Any:
    """The value a `${env:VAR:-default}` scalar takes when VAR is unset."""
    if isinstance(value, str):
        match = ENV_REF.fullmatch(value)
        if match:
            return yaml.safe_load(match.group(2) or "")
    return value


CONFIG = load("config.yaml")
LOGS_SWITCH = "${env:OTELCOL_LOGS_EXPORTER:-nop}"
AGENT = load("agent.yaml")
EMF = CONFIG["exporters"]["awsemf"]


def app_facing(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: p for name, p in config["service"]["pipelines"].items() if "otlp" in p["receivers"]}


@pytest.mark.parametrize("config", [CONFIG, AGENT], ids=["config", "agent"])
def test_memory_limiter_comes_first_in_every_app_facing_pipeline(config: dict[str, Any]) -> None:
    pipelines = app_facing(config)
    assert pipelines
    for name, pipeline in pipelines.items():
        assert pipeline["processors"][0] == "memory_limiter", name


@pytest.mark.parametrize("config", [CONFIG, AGENT], ids=["config", "agent"])
def test_app_facing_pipelines_only_write_to_persistent_queues(config: dict[str, Any]) -> None:
    """A backend outage must not fail (or duplicate) the app's export: every exporter the
    app's data reaches synchronously persists it first; awsemf and remote write sit behind
    spools, never in a pipeline the app's receiver feeds."""
    debug_switch = "${env:OTELCOL_DEBUG_EXPORTER:-nop}"
    for name, pipeline in app_facing(config).items():
        for exporter_id in pipeline["exporters"]:
            if exporter_id == debug_switch:
                continue
            if exporter_id == LOGS_SWITCH:
                exporter_id = "otlp_grpc/logs"  # the one choice of the logs switch that leaves the process
            queue = config["exporters"][exporter_id]["sending_queue"]
            assert queue["storage"] == "file_storage", (name, exporter_id)
            assert exporter_id.split("/")[0] not in {"awsemf", "prometheus_remote_write"}


def test_each_backend_drains_its_own_spool() -> None:
    pipelines = CONFIG["service"]["pipelines"]
    receivers = CONFIG["receivers"]
    exporters = CONFIG["exporters"]
    for backend in ("prometheus", "cloudwatch"):
        spool_out = exporters[f"otlp_grpc/spool_{backend}"]
        spool_in = receivers[f"otlp/spool_{backend}"]["protocols"]["grpc"]["endpoint"]
        assert spool_out["endpoint"] == spool_in
        assert spool_in.startswith("127.0.0.1:"), "the spool hop must stay on loopback"
        assert spool_out["sending_queue"]["num_consumers"] == 1, "series must stay in order"
        assert spool_out["retry_on_failure"]["enabled"] is True
        (pipeline,) = [p for p in pipelines.values() if p["receivers"] == [f"otlp/spool_{backend}"]]
        assert len(pipeline["exporters"]) == 1
    assert exporters["prometheus_remote_write"]["remote_write_queue"]["enabled"] is False


def test_awsemf_units_are_units_cloudwatch_accepts() -> None:
    descriptors = {d["metric_name"]: d for d in EMF["metric_descriptors"]}
    assert set(descriptors) == set(APP_METRICS)
    for name, descriptor in descriptors.items():
        assert descriptor["unit"] in CLOUDWATCH_UNITS, name
        assert descriptor["overwrite"] is True
    assert descriptors["gen_ai.client.token.usage"]["unit"] == "Count"
    assert descriptors["http.server.request.duration"]["unit"] == "Seconds"


def test_awsemf_declarations_give_every_app_metric_usable_dimensions() -> None:
    assert default(EMF["dimension_rollup_option"]) == "NoDimensionRollup"
    for metric, labels in APP_METRICS.items():
        matching = [
            d for d in EMF["metric_declarations"] if any(re.search(s, metric) for s in d["metric_name_selectors"])
        ]
        assert len(matching) == 1, metric
        for dimension_set in matching[0]["dimensions"]:
            assert 1 <= len(dimension_set) <= 30
            assert dimension_set[0] == "service.name"
            # a set naming a label the points lack is silently skipped by awsemf
            assert set(dimension_set) <= labels | ADDED_LABELS, (metric, dimension_set)
    http = next(d for d in EMF["metric_declarations"] if "http\\.server\\.request" in d["metric_name_selectors"][0])
    assert ["service.name", "http.route", "http.request.method", "http.status_class"] in http["dimensions"]
    genai = [d for d in EMF["metric_declarations"] if "gen_ai" in d["metric_name_selectors"][0]]
    assert all(any({"gen_ai.request.model"} <= set(s) for s in d["dimensions"]) for d in genai)


def test_genai_metrics_are_published_per_provider_and_no_model_without_its_provider() -> None:
    """Issue 12: the provider dimension on every GenAI metric, a set to compare providers, and a model
    never without its provider (the same model name can come from two)."""
    genai = [d for d in EMF["metric_declarations"] if "gen_ai" in d["metric_name_selectors"][0]]
    assert {s for d in genai for s in d["metric_name_selectors"]} == {
        f"^{re.escape(name)}$" for name in APP_METRICS if name.startswith("gen_ai.")
    }
    for declaration in genai:
        sets = [set(s) for s in declaration["dimensions"]]
        assert {"service.name", "gen_ai.provider.name"} in sets or {
            "service.name",
            "gen_ai.provider.name",
            "gen_ai.token.type",
        } in sets, declaration["metric_name_selectors"]
        for dimension_set in sets:
            if "gen_ai.request.model" in dimension_set:
                assert "gen_ai.provider.name" in dimension_set, dimension_set


def test_cloudwatch_gets_deltas_and_restarts_do_not_recount() -> None:
    """awsemf copies histogram Count/Sum as they come and keeps its delta state in memory:
    cumulative_to_delta turns sums and histograms into deltas before it, and sends a series'
    first point only when the series started after the collector (initial_value auto)."""
    pipelines = CONFIG["service"]["pipelines"]
    assert pipelines["metrics/cloudwatch"] == {
        "receivers": ["otlp/spool_cloudwatch"],
        "processors": [],
        "exporters": ["awsemf"],
    }
    delta = CONFIG["processors"]["cumulative_to_delta"]
    assert delta["initial_value"] == "auto"
    assert "include" not in delta and "exclude" not in delta, "every monotonic sum and histogram"
    assert EMF["retain_initial_value_of_delta_metric"] is False
    # the Prometheus side stays cumulative
    assert pipelines["metrics/prometheus"]["processors"] == []
    assert "cumulative_to_delta" not in pipelines["metrics"]["processors"]


def test_cloudwatch_deltas_are_computed_before_the_spool() -> None:
    """cumulative_to_delta moves its state on with every batch it sees: behind the spool, a batch awsemf failed
    to send came back as zero deltas on every retry.  In front of it, the spool holds deltas."""
    pipelines = CONFIG["service"]["pipelines"]
    deltas = pipelines["metrics/deltas"]
    assert deltas["receivers"] == ["otlp"]
    assert deltas["processors"] == [
        *pipelines["metrics"]["processors"],
        "filter/cloudwatch",
        "cumulative_to_delta",
        "transform/cloudwatch_levels",
    ]
    assert deltas["exporters"] == ["otlp_grpc/spool_cloudwatch"]
    assert "otlp_grpc/spool_cloudwatch" not in pipelines["metrics"]["exporters"]
    users = [name for name, p in pipelines.items() if "cumulative_to_delta" in p["processors"]]
    assert users == ["metrics/deltas"]


def test_cloudwatch_gets_exactly_the_declared_metrics_and_in_flight_counts_as_levels() -> None:
    """Undeclared metrics would be plain EMF log events (paid ingestion, never metrics): the filter keeps
    the declared ones; awsemf would turn a cumulative non-monotonic sum into deltas: they become gauges."""
    (condition,) = CONFIG["processors"]["filter/cloudwatch"]["metrics"]["metric"]
    kept = re.fullmatch(r'not IsMatch\(metric\.name, "\^\((.*)\)\$"\)', condition)
    assert kept, condition
    pattern = kept.group(1).replace("\\\\", "\\")  # an OTTL string literal: \\ is one backslash
    selectors = {selector for d in EMF["metric_declarations"] for selector in d["metric_name_selectors"]}
    assert {f"^{name}$" for name in pattern.split("|")} == selectors
    for metric in APP_METRICS:
        assert re.fullmatch(pattern, metric), f"{metric} is declared but filtered out"
    for dropped in ("process.cpu.time", "chatbot.asyncio.loop.lag", "chatbot.stream.chunks"):
        assert not re.fullmatch(pattern, dropped)
    (statements,) = CONFIG["processors"]["transform/cloudwatch_levels"]["metric_statements"]
    assert statements["statements"] == [
        "convert_sum_to_gauge() where metric.type == METRIC_DATA_TYPE_SUM and metric.is_monotonic == false"
    ]


def test_agent_token_usage_has_a_dimension_set_without_the_model() -> None:
    """InvokeAgent points have gen_ai.operation.name and gen_ai.token.type but no gen_ai.request.model."""
    agent_point = {"gen_ai.operation.name", "gen_ai.token.type"} | ADDED_LABELS
    for metric in ("gen_ai.client.token.usage", "gen_ai.client.cost"):
        (declaration,) = [
            d for d in EMF["metric_declarations"] if any(re.search(s, metric) for s in d["metric_name_selectors"])
        ]
        assert any(set(d) <= agent_point for d in declaration["dimensions"]), metric
        assert ["service.name", "gen_ai.operation.name", "gen_ai.token.type"] in declaration["dimensions"]


def test_logs_pipeline_scrubs_and_redacts_like_traces_and_exports_where_told() -> None:
    logs = CONFIG["service"]["pipelines"]["logs"]
    assert logs["receivers"] == ["otlp"]
    assert logs["processors"] == ["memory_limiter", "transform/scrub", "redaction", "resource"]
    assert logs["exporters"] == [LOGS_SWITCH]
    assert default(LOGS_SWITCH) == "nop", "logs are dropped unless a destination is chosen"
    exporters = CONFIG["exporters"]
    for choice in ("nop", "debug", "otlp_grpc/logs"):
        assert choice in exporters
    assert exporters["otlp_grpc/logs"]["sending_queue"]["storage"] == "file_storage"
    assert exporters["otlp_grpc/logs"]["retry_on_failure"]["enabled"] is True


def scrub_groups(signal: str) -> dict[str, list[str]]:
    """transform/scrub's statement groups for ``trace``/``log``: {context: [statement, ...]}."""
    groups = CONFIG["processors"]["transform/scrub"][f"{signal}_statements"]
    assert all(isinstance(g, dict) for g in groups), "one advanced group per context, never a flat list"
    contexts = [g["context"] for g in groups]
    assert len(contexts) == len(set(contexts)), contexts
    return {g["context"]: g["statements"] for g in groups}


def test_each_scrub_group_names_its_context_and_uses_only_its_paths() -> None:
    """A group's context is inferred from its lowest path and its statements run once per item of it:
    a spanevent statement grouped with the span one made every statement run per span event, so a
    span without events kept its prompt attributes.  Explicit contexts, one per group, rule that out."""
    assert set(scrub_groups("trace")) == {"resource", "span", "spanevent"}
    assert set(scrub_groups("log")) == {"resource", "log"}
    for signal in ("trace", "log"):
        for context, statements in scrub_groups(signal).items():
            for statement in statements:
                paths = set(re.findall(r"\b(resource|scope|span|spanevent|log)\.(?:attributes|body)\b", statement))
                assert paths == {context}, f"{signal} group {context!r}: {statement}"


def log_scrub_patterns() -> dict[str, str]:
    statements = [s for group in scrub_groups("log").values() for s in group]
    pattern = r'delete_matching_keys\(([\w.]+), "(.*)"\)( where IsMap\(log\.body\))?'
    found = [re.fullmatch(pattern, s) for s in statements]
    assert all(found), statements
    return {m.group(1): yaml.safe_load(f'"{m.group(2)}"') for m in found if m}


def keep_conditions() -> list[str]:
    """The span conditions of the `keep` policy (any one holding on any span keeps the trace)."""
    policies = {p["name"]: p for p in CONFIG["processors"]["tail_sampling"]["policies"]}
    keep = policies["keep"]["ottl_condition"]
    # ignore: a span without the attribute is "no match", not a processing error.
    assert keep["error_mode"] == "ignore"
    return [str(c) for c in keep["span"]]


def test_tail_sampling_is_three_policies() -> None:
    """Per-policy self-metrics cost ~3 counter adds per policy per judged trace (bench/README.md): few policies."""
    policies = CONFIG["processors"]["tail_sampling"]["policies"]
    assert [(p["name"], p["type"]) for p in policies] == [
        ("keep", "ottl_condition"),
        ("slow", "latency"),
        ("baseline", "probabilistic"),
    ]


def test_tail_sampling_keeps_errors_throttles_and_slow_traces() -> None:
    policies = {p["type"]: p for p in CONFIG["processors"]["tail_sampling"]["policies"]}
    keep = keep_conditions()
    assert "span.status.code == STATUS_CODE_ERROR" in keep
    (throttled,) = [c for c in keep if c.startswith('IsMatch(span.attributes["error.type"]')]
    pattern = yaml.safe_load(throttled.split(", ", 1)[1].rstrip(")"))
    for error_type in ("ThrottlingException", "TooManyRequestsException", "429"):
        assert re.search(pattern, error_type), error_type
    assert not re.search(pattern, "ValidationException")
    assert default(policies["latency"]["latency"]["threshold_ms"]) > 0
    assert 0 <= default(policies["probabilistic"]["probabilistic"]["sampling_percentage"]) <= 100
    (probe,) = [c for c in keep if c.startswith('IsMatch(span.attributes["user_agent.original"]')]
    from otel_chatbot.health.checks import USER_AGENT

    assert re.search(yaml.safe_load(probe.split(", ", 1)[1].rstrip(")")), USER_AGENT)


def test_tail_sampling_keeps_guardrail_truncated_cancelled_and_costly_traces() -> None:
    keep = keep_conditions()
    assert 'span.attributes["aws.bedrock.guardrail.intervened"] == true' in keep
    (truncated,) = [c for c in keep if "finish_reasons" in c]
    assert truncated.startswith('IsList(span.attributes["gen_ai.response.finish_reasons"]) and (')
    for reason in ("length", "content_filter", "max_tokens", "content_filtered", "guardrail_intervened", "refusal"):
        assert f'"{reason}")' in truncated
    (cancelled,) = [c for c in keep if "chatbot.stream.outcome" in c]
    assert '"error.type"] == "cancelled"' in cancelled and '"chatbot.stream.outcome"] == "cancelled"' in cancelled
    assert '"chatbot.stream.outcome"] == "error"' in cancelled
    (costly,) = [c for c in keep if "gen_ai.usage.cost" in c]
    assert costly.startswith('span.attributes["gen_ai.usage.cost"] >= ${env:OTELCOL_TAIL_COST_USD:-')
    assert float(default(costly.partition(">= ")[2])) > 0


def scrub_patterns() -> dict[str, str]:
    """The key pattern transform/scrub deletes, per trace context."""
    found: dict[str, str] = {}
    for context, statements in scrub_groups("trace").items():
        (statement,) = statements
        match = re.fullmatch(r'delete_matching_keys\((\w+)\.attributes, "(.*)"\)', statement)
        assert match and match.group(1) == context, statement
        found[context] = yaml.safe_load(f'"{match.group(2)}"')
    return found


CONTENT_KEYS = [
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.evaluation.explanation",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.prompt.0.content",
    "http.request.header.authorization",
    "http.request.header.cookie",
]
KEPT_KEYS = [
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.operation.name",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.token.type",
    "gen_ai.provider.name",
    "http.request.header.user-agent",
    "error.type",
]


@pytest.mark.parametrize("key", CONTENT_KEYS)
def test_scrub_drops_prompt_content_and_credential_headers(key: str) -> None:
    assert re.search(scrub_patterns()["span"], key)


@pytest.mark.parametrize("key", CONTENT_KEYS)
def test_scrub_drops_prompt_content_and_credential_headers_from_log_records(key: str) -> None:
    patterns = log_scrub_patterns()
    assert set(patterns) == {"resource.attributes", "log.attributes", "log.body"}
    assert re.search(patterns["log.attributes"], key)
    if key.startswith("gen_ai."):
        assert re.search(patterns["log.body"], key)


@pytest.mark.parametrize("key", ["content", "message", "tool_calls"])
def test_scrub_drops_content_from_structured_log_bodies(key: str) -> None:
    assert re.search(log_scrub_patterns()["log.body"], key)


@pytest.mark.parametrize("key", KEPT_KEYS)
def test_scrub_and_redaction_keep_the_attributes_dashboards_use(key: str) -> None:
    for pattern in [*scrub_patterns().values(), *log_scrub_patterns().values()]:
        assert not re.search(pattern, key)
    for pattern in CONFIG["processors"]["redaction"]["blocked_key_patterns"]:
        assert not re.search(pattern, key)


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "Authorization: Bearer abcdefghijklmnop",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ],
)
def test_redaction_masks_credential_values(value: str) -> None:
    assert any(re.search(p, value) for p in CONFIG["processors"]["redaction"]["blocked_values"])


@pytest.mark.parametrize("key", ["authorization", "http.request.header.x-api-key", "api_key", "aws.secret_access_key"])
def test_redaction_masks_credential_keys(key: str) -> None:
    assert any(re.search(p, key) for p in CONFIG["processors"]["redaction"]["blocked_key_patterns"])


def test_agent_routes_traces_by_trace_id_metrics_by_stream_and_logs_by_resource() -> None:
    exporters = AGENT["exporters"]
    assert exporters["load_balancing/traces"]["routing_key"] == "traceID"
    assert exporters["load_balancing/metrics"]["routing_key"] == "streamID"
    assert exporters["load_balancing/logs"]["routing_key"] == "resource"
    pipelines = AGENT["service"]["pipelines"]
    for signal in ("traces", "metrics", "logs"):
        assert f"load_balancing/{signal}" in pipelines[signal]["exporters"]
    for exporter in ("load_balancing/traces", "load_balancing/metrics", "load_balancing/logs"):
        assert exporters[exporter]["sending_queue"]["storage"] == "file_storage"
        assert exporters[exporter]["protocol"]["otlp"]["sending_queue"]["enabled"] is False
        hostnames = default(exporters[exporter]["resolver"]["static"]["hostnames"])
        assert isinstance(hostnames, list) and len(hostnames) == 2


def test_the_mirror_overlay_sends_every_trace_to_a_second_pool_the_same_way() -> None:
    """agent-mirror.yaml: a second load_balancing exporter, identical but for its gateways, beside the first."""
    mirror = load("agent-mirror.yaml")
    first = AGENT["exporters"]["load_balancing/traces"]
    second = mirror["exporters"]["load_balancing/traces_mirror"]
    assert {k: v for k, v in second.items() if k != "resolver"} == {k: v for k, v in first.items() if k != "resolver"}
    assert second["resolver"]["static"]["hostnames"].startswith("${env:OTELCOL_MIRROR_GATEWAY_ENDPOINTS:-")
    (pipeline,) = mirror["service"]["pipelines"].values()  # traces only: metrics and logs are not held in memory
    assert pipeline["exporters"] == [*AGENT["service"]["pipelines"]["traces"]["exporters"][:1],
                                     "load_balancing/traces_mirror",
                                     *AGENT["service"]["pipelines"]["traces"]["exporters"][1:]]  # fmt: skip
    assert set(mirror["service"]["pipelines"]) == {"traces"}


def test_tail_sampling_decides_each_batch_as_it_arrives() -> None:
    """span-ingest: a kept trace leaves memory at once, so a crash loses only traces no policy has kept yet;
    it refuses stateful policies (a latency policy with an upper bound, rate limits, composites)."""
    tail = CONFIG["processors"]["tail_sampling"]
    assert default(tail["sampling_strategy"]) == "span-ingest"
    stateless = {"status_code", "string_attribute", "boolean_attribute", "ottl_condition", "probabilistic", "latency"}
    assert {p["type"] for p in tail["policies"]} <= stateless
    assert all("upper_threshold_ms" not in p.get("latency", {}) for p in tail["policies"])


def test_only_documented_variables_lack_a_default() -> None:
    readme = (COLLECTOR_DIR / "README.md").read_text()
    for name in shipped_config_files():
        for var, fallback in ENV_REF.findall((COLLECTOR_DIR / name).read_text()):
            assert var in readme, f"{var} ({name}) is not documented in collector/README.md"
            if not fallback:
                assert var in REQUIRED_ENV | {"OTELCOL_TLS_CLIENT_CA_FILE", "OTELCOL_CLOUDWATCH_ENDPOINT"}, var


def test_traces_are_scrubbed_and_redacted_after_sampling_and_before_any_exporter() -> None:
    """Only kept traces pay for the regexes (bench/README.md, "Collector throughput"); none leaves unscrubbed."""
    traces = CONFIG["service"]["pipelines"]["traces"]
    assert traces["processors"] == ["memory_limiter", "resource", "tail_sampling", "transform/scrub", "redaction"]
    policy_text = str(CONFIG["processors"]["tail_sampling"]["policies"])
    assert "gen_ai.prompt" not in policy_text and "messages" not in policy_text, "a policy reading content"

"""Generate the Grafana dashboards in dashboards/grafana/ (the files Grafana provisions).

    .venv/bin/python dashboards/generate.py          # rewrite the JSON files
    .venv/bin/python dashboards/generate.py --check  # exit 1 if a file differs from what this writes

The JSON files are committed (Grafana reads them as they are); this script is their
source, so every panel is built the same way: a fixed datasource uid, a description,
template variables in every selector, exemplars on latency panels.
tests/stack/test_dashboards.py checks the files against this script and Grafana's model.

Metric and label names are what otelcol-chatbot's prometheus_remote_write exporter writes
(units appended, dots -> underscores): ``job`` is the OTel ``service.name``,
``deployment_environment_name`` the environment, ``http_status_class`` the class the
collector derives (collector/config.yaml, transform/status_class).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "grafana"

PROM = {"type": "prometheus", "uid": "prometheus"}
TEMPO = {"type": "tempo", "uid": "tempo"}

SVC = 'job=~"$service", deployment_environment_name=~"$environment"'
ROUTE = f'{SVC}, http_route=~"$route"'
PROVIDER = f'{SVC}, gen_ai_provider_name=~"$provider"'
MODEL = f'{PROVIDER}, gen_ai_request_model=~"$model"'
HTTP_COUNT = "http_server_request_duration_seconds_count"
HTTP_BUCKET = "http_server_request_duration_seconds_bucket"
GENAI_COUNT = "gen_ai_client_operation_duration_seconds_count"
GENAI_BUCKET = "gen_ai_client_operation_duration_seconds_bucket"
TTFT_BUCKET = "gen_ai_client_operation_time_to_first_chunk_seconds_bucket"
CHUNK_BUCKET = "gen_ai_client_operation_time_per_output_chunk_seconds_bucket"
STREAM_COUNT = "chatbot_stream_duration_seconds_count"
STREAM_BUCKET = "chatbot_stream_duration_seconds_bucket"
TTFB_BUCKET = "chatbot_stream_time_to_first_byte_seconds_bucket"
WS_TURN_BUCKET = "chatbot_websocket_turn_time_to_first_message_seconds_bucket"
WS_CLOSES = "chatbot_websocket_connection_duration_seconds_count"
LOOP_LAG_BUCKET = "chatbot_asyncio_loop_lag_seconds_bucket"
CACHE_LOOKUPS = "chatbot_cache_lookups_total"
CACHE_SAVED_COST = "chatbot_cache_saved_cost_USD_total"
FAILOVER_SWITCHES = "chatbot_failover_switches_total"
FAILOVER_CHAINS = "chatbot_failover_chains_total"
FEEDBACK = "chatbot_feedback_total"
RI = "$__rate_interval"
REQUESTS_5M = "job_env_route_method_class:http_server_requests:rate5m"


def variable(name: str, label: str, query: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "description": description,
        "type": "query",
        "datasource": PROM,
        "query": {"query": query, "refId": f"var-{name}"},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "hide": 0,
        "options": [],
        "regex": "",
    }


SERVICE_VAR = variable(
    "service", "Service", "label_values(target_info, job)", "OTel service.name (the `job` label in Prometheus)."
)
ENV_VAR = variable(
    "environment",
    "Environment",
    'label_values(target_info{job=~"$service"}, deployment_environment_name)',
    "deployment.environment.name (set by the app or, failing that, by otelcol-chatbot).",
)
ROUTE_VAR = variable(
    "route",
    "Route",
    f"label_values({HTTP_COUNT}{{{SVC}}}, http_route)",
    "FastAPI route template (http.route).",
)
STREAM_ROUTE_VAR = variable(
    "route",
    "Route",
    f"label_values({STREAM_COUNT}{{{SVC}}}, http_route)",
    "Route template (http.route) of the streaming endpoints.",
)
PROVIDER_VAR = variable(
    "provider",
    "Provider",
    f"label_values({GENAI_COUNT}{{{SVC}}}, gen_ai_provider_name)",
    "GenAI provider (gen_ai.provider.name): aws.bedrock, openai, azure.ai.openai, anthropic, ollama ...",
)
MODEL_VAR = variable(
    "model",
    "Model",
    f"label_values({GENAI_COUNT}{{{PROVIDER}}}, gen_ai_request_model)",
    "Model as requested (gen_ai.request.model) of the selected providers; Bedrock agent calls have none.",
)


class Board:
    """Lays panels out left to right on a 24-column grid, wrapping to new rows."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = 0
        self.y = 0
        self.row_h = 0

    def add(
        self,
        kind: str,
        title: str,
        description: str,
        targets: list[dict[str, Any]],
        *,
        w: int = 12,
        h: int = 8,
        unit: str = "short",
        thresholds: list[tuple[float | None, str]] | None = None,
        threshold_lines: bool = False,
        datasource: dict[str, str] = PROM,
        options: dict[str, Any] | None = None,
        decimals: int | None = None,
    ) -> None:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
        defaults: dict[str, Any] = {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}
        if decimals is not None:
            defaults["decimals"] = decimals
        if kind == "timeseries":
            defaults["custom"] = {
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": False,
                "thresholdsStyle": {"mode": "line+area" if threshold_lines else "off"},
            }
        if kind == "stat":
            defaults["color"] = {"mode": "thresholds"}
        panel_options: dict[str, Any] = {
            "timeseries": {
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "desc"},
            },
            "stat": {
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                "colorMode": "background",
                "graphMode": "area",
                "textMode": "auto",
            },
            "heatmap": {
                "calculate": False,
                "yAxis": {"unit": "s"},
                "cellGap": 1,
                "color": {"mode": "scheme", "scheme": "Oranges"},
                "exemplars": {"color": "rgba(255,0,255,0.7)"},
            },
            "table": {"showHeader": True},
        }.get(kind, {})
        panel_options.update(options or {})
        for index, target in enumerate(targets):
            target.setdefault("refId", chr(ord("A") + index))
            target.setdefault("datasource", datasource)
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": kind,
                "title": title,
                "description": description,
                "datasource": datasource,
                "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
                "targets": targets,
                "fieldConfig": {"defaults": defaults, "overrides": []},
                "options": panel_options,
            }
        )
        self.x += w
        self.row_h = max(self.row_h, h)


def q(
    expr: str, legend: str = "__auto", *, exemplar: bool = False, instant: bool = False, fmt: str = "time_series"
) -> dict[str, Any]:
    return {
        "expr": expr,
        "legendFormat": legend,
        "exemplar": exemplar,
        "range": not instant,
        "instant": instant,
        "format": fmt,
        "editorMode": "code",
    }


def quantile(phi: str, bucket: str, selector: str, by: str = "") -> str:
    group = f"{by}, le" if by else "le"
    return f"histogram_quantile({phi}, sum by ({group}) (rate({bucket}{{{selector}}}[{RI}])))"


def dashboard(
    uid: str, title: str, description: str, tags: list[str], variables: list[dict[str, Any]], board: Board
) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["otel-chatbot", *tags],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "links": [
            {
                "title": "Chatbot dashboards",
                "type": "dashboards",
                "tags": ["otel-chatbot"],
                "asDropdown": True,
                "includeVars": True,
                "keepTime": True,
                "icon": "external link",
                "targetBlank": False,
                "tooltip": "",
                "url": "",
            }
        ],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                },
                {
                    "datasource": PROM,
                    "enable": True,
                    "hide": False,
                    "iconColor": "red",
                    "name": "Firing chatbot alerts",
                    "expr": f'ALERTS{{alertstate="firing", alertname=~"Chatbot.*", {SVC}}}',
                    "step": "60s",
                    "titleFormat": "{{alertname}}",
                    "textFormat": "{{job}} {{deployment_environment_name}}",
                    "useValueForTime": False,
                },
            ]
        },
        "templating": {"list": variables},
        "panels": board.panels,
    }


# -- API golden signals ----------------------------------------------------------------------


def api_dashboard() -> dict[str, Any]:
    b = Board()
    all_req = f"sum(rate({HTTP_COUNT}{{{ROUTE}}}[{RI}]))"
    err_req = f'sum(rate({HTTP_COUNT}{{{ROUTE}, http_status_class="5xx"}}[{RI}]))'
    b.add(
        "stat",
        "Requests/s",
        "HTTP requests per second served by the selected services and routes "
        "(http.server.request.duration count; WebSocket sessions count once, when they close).",
        [q(all_req, "requests/s")],
        w=6,
        h=5,
        unit="reqps",
        decimals=2,
    )
    b.add(
        "stat",
        "Error rate (5xx)",
        "Share of requests answered with a 5xx status. Alert: > 1 % for 5 minutes "
        "(ChatbotHighErrorRate). 4xx answers are client errors and are not counted.",
        [q(f"({err_req} or vector(0)) / {all_req}", "5xx ratio")],
        w=6,
        h=5,
        unit="percentunit",
        decimals=2,
        thresholds=[(None, "green"), (0.005, "orange"), (0.01, "red")],
    )
    b.add(
        "stat",
        "p95 latency",
        "95th percentile of request duration. Target: 200 ms (ChatbotHighLatencyP95 fires "
        "after 5 minutes above it; the latency SLO is p95 < 200 ms).",
        [q(quantile("0.95", HTTP_BUCKET, ROUTE), "p95")],
        w=6,
        h=5,
        unit="s",
        thresholds=[(None, "green"), (0.15, "orange"), (0.2, "red")],
    )
    b.add(
        "stat",
        "Active requests",
        "Requests in flight right now (http.server.active_requests), summed over "
        "instances. A rising value with flat throughput means requests pile up (saturation).",
        [q(f"sum(http_server_active_requests{{{SVC}}})", "in flight")],
        w=6,
        h=5,
        unit="short",
        thresholds=[(None, "green"), (50, "orange"), (100, "red")],
    )
    b.add(
        "timeseries",
        "Requests/s by route",
        "Throughput per route template and method, over 5 minutes (recording rule "
        "job_env_route_method_class:http_server_requests:rate5m).",
        [
            q(
                f"sum by (http_route, http_request_method) ({REQUESTS_5M}{{{ROUTE}}})",
                "{{http_request_method}} {{http_route}}",
            )
        ],
        unit="reqps",
    )
    b.add(
        "timeseries",
        "Requests/s by status class",
        "Throughput split by status class (2xx/3xx/4xx/5xx, derived "
        "from http.response.status_code by otelcol-chatbot), over 5 minutes (recording rule).",
        [q(f"sum by (http_status_class) ({REQUESTS_5M}{{{ROUTE}}})", "{{http_status_class}}")],
        unit="reqps",
    )
    b.add(
        "timeseries",
        "Error rate (5xx) by route",
        "Share of each route's requests answered with 5xx; the red "
        "band starts at the 1 % alert threshold. Routes without server errors are not drawn.",
        [
            q(
                f'sum by (http_route) (rate({HTTP_COUNT}{{{ROUTE}, http_status_class="5xx"}}[{RI}])) / '
                f"sum by (http_route) (rate({HTTP_COUNT}{{{ROUTE}}}[{RI}]))",
                "{{http_route}}",
            )
        ],
        unit="percentunit",
        thresholds=[(None, "transparent"), (0.01, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "Errors by type",
        "Failed requests per second by error.type (exception class, or the "
        "status code when no exception was raised) and route.",
        [
            q(
                f'sum by (error_type, http_route) (rate({HTTP_COUNT}{{{ROUTE}, error_type!=""}}[{RI}]))',
                "{{error_type}} {{http_route}}",
            )
        ],
        unit="reqps",
    )
    b.add(
        "timeseries",
        "Latency percentiles",
        "p50/p90/p95/p99 of request duration over the selected routes. "
        "Thresholds: p95 200 ms (orange), p99 500 ms (red). Dots are exemplars: click one to open its trace in Tempo.",
        [
            q(quantile(phi, HTTP_BUCKET, ROUTE), f"p{phi[2:]}", exemplar=(phi == "0.95"))
            for phi in ("0.50", "0.90", "0.95", "0.99")
        ],
        unit="s",
        thresholds=[(None, "transparent"), (0.2, "orange"), (0.5, "red")],
        threshold_lines=True,
    )
    b.add(
        "heatmap",
        "Latency distribution",
        "Requests per latency bucket over time (the histogram itself), with exemplars linking to traces.",
        [q(f"sum by (le) (increase({HTTP_BUCKET}{{{ROUTE}}}[{RI}]))", "{{le}}", exemplar=True, fmt="heatmap")],
        unit="short",
    )
    b.add(
        "timeseries",
        "p95 latency by route",
        "95th percentile per route over 5 minutes (recording rule "
        "job_env_route:http_server_request_duration_seconds:p95_5m). Threshold: 200 ms.",
        [q(f"job_env_route:http_server_request_duration_seconds:p95_5m{{{ROUTE}}}", "{{http_route}} ({{job}})")],
        unit="s",
        thresholds=[(None, "transparent"), (0.2, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "p99 latency by route",
        "99th percentile per route over 5 minutes (recording rule "
        "job_env_route:http_server_request_duration_seconds:p99_5m). Threshold: 500 ms.",
        [q(f"job_env_route:http_server_request_duration_seconds:p99_5m{{{ROUTE}}}", "{{http_route}} ({{job}})")],
        unit="s",
        thresholds=[(None, "transparent"), (0.5, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "Active requests",
        "In-flight requests by method and instance (saturation).",
        [
            q(
                f"sum by (http_request_method, instance) (http_server_active_requests{{{SVC}}})",
                "{{http_request_method}} {{instance}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "SLO error-budget burn rate",
        "How fast the 30-day error budgets burn (1 = exactly on "
        "budget): availability 99.5 % (5xx) and latency p95 < 200 ms (share of requests slower than 200 ms, "
        "budget 5 %), over 1 hour. The fast-burn page fires above 14.4.",
        [
            q(f"job_env:slo_availability_error_ratio:rate1h{{{SVC}}} / 0.005", "availability {{job}}"),
            q(f"job_env:slo_latency_slow_ratio:rate1h{{{SVC}}} / 0.05", "latency {{job}}"),
        ],
        unit="short",
        thresholds=[(None, "transparent"), (1, "orange"), (14.4, "red")],
        threshold_lines=True,
    )
    return dashboard(
        "chatbot-api",
        "Chatbot / API golden signals",
        "Traffic, errors, latency and saturation of the chatbot's HTTP API.",
        ["api"],
        [SERVICE_VAR, ENV_VAR, ROUTE_VAR],
        b,
    )


# -- GenAI / Bedrock -------------------------------------------------------------------------------


def genai_dashboard() -> dict[str, Any]:
    b = Board()
    calls = f"sum(rate({GENAI_COUNT}{{{MODEL}}}[{RI}]))"
    b.add(
        "stat",
        "GenAI calls/s",
        "GenAI calls per second of every selected provider (gen_ai.client.operation.duration count): Bedrock "
        "Converse, InvokeModel, InvokeAgent ..., OpenAI, Azure OpenAI, Anthropic and Ollama chats and embeddings.",
        [q(calls, "calls/s")],
        w=6,
        h=5,
        unit="reqps",
        decimals=2,
    )
    b.add(
        "stat",
        "GenAI error ratio",
        "Share of GenAI calls that ended with an error (any error.type, throttling and timeouts included), "
        "after the SDK's retries.",
        [q(f'(sum(rate({GENAI_COUNT}{{{MODEL}, error_type!=""}}[{RI}])) or vector(0)) / {calls}', "errors")],
        w=6,
        h=5,
        unit="percentunit",
        decimals=2,
        thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")],
    )
    b.add(
        "stat",
        "Tokens/min",
        "Input plus output tokens per minute as the providers reported them (gen_ai.client.token.usage).",
        [q(f"sum(rate(gen_ai_client_token_usage_sum{{{MODEL}}}[{RI}])) * 60", "tokens/min")],
        w=6,
        h=5,
        unit="short",
    )
    b.add(
        "stat",
        "Cost per hour",
        "Estimated spend in USD per hour at the current rate, from the distro's price "
        "table (gen_ai.client.cost). Models missing from the table count nothing.",
        [q(f"sum(rate(gen_ai_client_cost_USD_total{{{MODEL}}}[{RI}])) * 3600", "USD/h")],
        w=6,
        h=5,
        unit="currencyUSD",
        decimals=4,
    )
    _provider_panels(b)
    b.add(
        "timeseries",
        "Calls/s by model and operation",
        "Call rate per provider, requested model and GenAI operation (chat, embeddings, invoke_agent, ...), "
        "over 5 minutes (recording rule).",
        [
            q(
                f"sum by (gen_ai_provider_name, gen_ai_request_model, gen_ai_operation_name) "
                f"(job_env_provider_model_op:gen_ai_client_operations:rate5m{{{MODEL}}})",
                "{{gen_ai_operation_name}} {{gen_ai_request_model}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="reqps",
    )
    b.add(
        "timeseries",
        "GenAI latency percentiles",
        "p50/p95/p99 of the whole GenAI call (to the last chunk for streams), all selected providers and models. "
        "Dots are exemplars linking to traces.",
        [
            q(quantile(phi, GENAI_BUCKET, MODEL), f"p{phi[2:]}", exemplar=(phi == "0.95"))
            for phi in ("0.50", "0.95", "0.99")
        ],
        unit="s",
    )
    b.add(
        "timeseries",
        "p95 latency by model",
        "95th percentile of GenAI call duration per provider, model and operation over 5 minutes (recording rule).",
        [
            q(
                f"histogram_quantile(0.95, sum by (gen_ai_provider_name, gen_ai_request_model, "
                f"gen_ai_operation_name, le) "
                f"(job_env_provider_model_op_le:gen_ai_client_operation_duration_seconds_bucket:rate5m{{{MODEL}}}))",
                "{{gen_ai_operation_name}} {{gen_ai_request_model}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="s",
    )
    b.add(
        "timeseries",
        "Time to first token",
        "p50/p95 from the request to the first chunk of a streamed answer (ConverseStream, "
        "InvokeModelWithResponseStream, SSE and NDJSON streams): what a chat user waits before text appears.",
        [q(quantile(phi, TTFT_BUCKET, MODEL), f"p{phi[2:]}", exemplar=(phi == "0.95")) for phi in ("0.50", "0.95")],
        unit="s",
    )
    b.add(
        "timeseries",
        "Time per output chunk (p95)",
        "95th percentile of the gap between chunks of a streamed "
        "answer after the first: the streaming speed users see.",
        [
            q(
                quantile("0.95", CHUNK_BUCKET, MODEL, "gen_ai_provider_name, gen_ai_request_model"),
                "{{gen_ai_request_model}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="s",
    )
    b.add(
        "timeseries",
        "Tokens per minute, in and out",
        "Input and output tokens per minute by provider and model "
        "(gen_ai.token.type) over 5 minutes (recording rule). Compare with the model's tokens-per-minute quota.",
        [
            q(
                f"sum by (gen_ai_provider_name, gen_ai_request_model, gen_ai_token_type) "
                f"(job_env_provider_model_type:gen_ai_client_token_usage:rate5m{{{MODEL}}}) * 60",
                "{{gen_ai_token_type}} {{gen_ai_request_model}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Cost per hour by model",
        "Estimated USD per hour per provider and model at the rate of the last 5 minutes (recording rule).",
        [
            q(
                f"sum by (gen_ai_provider_name, gen_ai_request_model) "
                f"(job_env_provider_model_type:gen_ai_client_cost_usd:rate5m{{{MODEL}}}) * 3600",
                "{{gen_ai_request_model}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="currencyUSD",
        decimals=4,
    )
    b.add(
        "timeseries",
        "Cost per hour by token type",
        "Estimated USD per hour by what is billed: input, output, prompt-cache reads and writes.",
        [
            q(
                f"sum by (gen_ai_token_type) (rate(gen_ai_client_cost_USD_total{{{MODEL}}}[{RI}])) * 3600",
                "{{gen_ai_token_type}}",
            )
        ],
        unit="currencyUSD",
        decimals=4,
    )
    b.add(
        "timeseries",
        "Throttles/s by model",
        "Calls rejected as throttled (Bedrock ThrottlingException, HTTP 429, Anthropic 529) after the SDK's "
        "retries (gen_ai.client.throttles), over 5 minutes (recording rule). ChatbotBedrockThrottling fires "
        "above 5 % of a model's calls.",
        [
            q(
                f"sum by (gen_ai_provider_name, gen_ai_request_model) "
                f"(job_env_provider_model:gen_ai_client_throttles:rate5m{{{MODEL}}})",
                "{{gen_ai_request_model}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="reqps",
    )
    b.add(
        "timeseries",
        "GenAI errors by type",
        "Failed GenAI calls per second by provider and error.type "
        "(ThrottlingException, ModelTimeoutException, 429, 500, ...), over 5 minutes (recording rule).",
        [
            q(
                f"sum by (gen_ai_provider_name, error_type, gen_ai_operation_name) "
                f"(job_env_provider_model_op_error:gen_ai_client_operation_errors:rate5m{{{MODEL}}})",
                "{{error_type}} {{gen_ai_operation_name}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="reqps",
    )
    b.add(
        "timeseries",
        "Prompt-cache cost per hour",
        "USD per hour spent on prompt-cache reads and writes "
        "(gen_ai.client.cost with gen_ai.token.type cache_read / cache_write). Cache token counts are not a "
        "metric of their own; cache reads are cheap, so a high read share means caching pays off.",
        [
            q(
                f"sum by (gen_ai_provider_name, gen_ai_request_model, gen_ai_token_type) "
                f"(rate(gen_ai_client_cost_USD_total{{{MODEL}, "
                f'gen_ai_token_type=~"cache_read|cache_write"}}[{RI}])) * 3600',
                "{{gen_ai_token_type}} {{gen_ai_request_model}} ({{gen_ai_provider_name}})",
            )
        ],
        unit="currencyUSD",
        decimals=4,
    )
    b.add(
        "table",
        "Finish reasons (sampled traces)",
        "Why the model stopped generating (end_turn, max_tokens, stop, length, "
        "tool_use, guardrail_intervened, ...), from the gen_ai.response.finish_reasons attribute of the GenAI "
        "spans in Tempo. Finish reasons are a span attribute, not a metric, and tail sampling keeps every error "
        "and slow trace but only a share of the others: read proportions, not totals.",
        [
            {
                "queryType": "traceql",
                "query": "{ span.gen_ai.response.finish_reasons != nil }",
                "limit": 50,
                "spss": 3,
                "tableType": "spans",
            }
        ],
        datasource=TEMPO,
        w=24,
    )
    return dashboard(
        "chatbot-genai",
        "Chatbot / GenAI",
        "GenAI calls of every provider (Bedrock, OpenAI, Azure OpenAI, Anthropic, Ollama ...) side by side: calls, "
        "latency, time to first token, tokens, cost, throttling and errors, per provider and per model.",
        ["genai", "bedrock", "openai", "anthropic"],
        [SERVICE_VAR, ENV_VAR, PROVIDER_VAR, MODEL_VAR],
        b,
    )


def _provider_panels(b: Board) -> None:
    """One row of the five things to compare between providers: calls, latency, time to first token, tokens, cost.

    Summed over models and operations, so a provider is one line in each: the same metric
    names and attributes for every provider (issue 12) make them directly comparable.
    """
    by = "gen_ai_provider_name"
    legend = "{{gen_ai_provider_name}}"
    b.add(
        "timeseries",
        "Calls/s by provider",
        "GenAI calls per second per provider (gen_ai.provider.name), over 5 minutes (recording rule).",
        [q(f"sum by ({by}) (job_env_provider_model_op:gen_ai_client_operations:rate5m{{{MODEL}}})", legend)],
        w=5,
        unit="reqps",
    )
    b.add(
        "timeseries",
        "p95 latency by provider",
        "95th percentile of the whole call per provider, every model and operation together, over 5 minutes "
        "(recording rule).",
        [
            q(
                f"histogram_quantile(0.95, sum by ({by}, le) "
                f"(job_env_provider_model_op_le:gen_ai_client_operation_duration_seconds_bucket:rate5m{{{MODEL}}}))",
                legend,
            )
        ],
        w=5,
        unit="s",
    )
    b.add(
        "timeseries",
        "Time to first token by provider (p95)",
        "95th percentile from the request to the first chunk of a streamed answer per provider, over 5 minutes "
        "(recording rule).",
        [
            q(
                f"histogram_quantile(0.95, sum by ({by}, le) "
                f"(job_env_provider_model_le:gen_ai_client_operation_time_to_first_chunk_seconds_bucket:rate5m"
                f"{{{MODEL}}}))",
                legend,
            )
        ],
        w=5,
        unit="s",
    )
    b.add(
        "timeseries",
        "Tokens/min by provider",
        "Input and output tokens per minute per provider as each reported them, over 5 minutes (recording rule).",
        [
            q(
                f"sum by ({by}, gen_ai_token_type) "
                f"(job_env_provider_model_type:gen_ai_client_token_usage:rate5m{{{MODEL}}}) * 60",
                "{{gen_ai_token_type}} {{gen_ai_provider_name}}",
            )
        ],
        w=5,
        unit="short",
    )
    b.add(
        "timeseries",
        "Cost per hour by provider",
        "Estimated USD per hour per provider from the price table (each provider's own prices), over 5 minutes "
        "(recording rule).",
        [q(f"sum by ({by}) (job_env_provider_model_type:gen_ai_client_cost_usd:rate5m{{{MODEL}}}) * 3600", legend)],
        w=4,
        unit="currencyUSD",
        decimals=4,
    )


# -- Runtime -----------------------------------------------------------------------------------------


def _by_signal(aggregate: str, inner: str, suffix: str, per: str = "", sent: bool = False) -> str:
    """One query over the app's span and log export queues (either may be missing: logs off).

    ``inner`` wraps each ``otel_sdk_processor_{span,log}_<suffix>`` selector (``{}``); ``per``
    divides by the same signal's ``_<per>`` series; ``sent`` names the series without an
    ``error_type`` "sent".
    """
    parts = []
    for signal, label in (("span", "spans"), ("log", "log records")):
        expr = inner.format(f"otel_sdk_processor_{signal}_{suffix}{{{SVC}}}")
        if per:
            expr = f"{expr} / {inner.format(f'otel_sdk_processor_{signal}_{per}{{{SVC}}}')}"
        parts.append(f'label_replace({expr}, "signal", "{label}", "", "")')
    query = f"{aggregate} ({' or '.join(parts)})"
    return f'label_replace({query}, "error_type", "sent", "error_type", "")' if sent else query


def runtime_dashboard() -> dict[str, Any]:
    b = Board()
    col = 'job=~"otelcol.*"'
    b.add(
        "stat",
        "Instances",
        "Running instances of the service (target_info series).",
        [q(f"count(target_info{{{SVC}}})", "instances")],
        w=6,
        h=5,
        unit="short",
    )
    b.add(
        "stat",
        "CPU (cores)",
        "CPU time used per second, all instances (process.cpu.time).",
        [q(f"sum(rate(process_cpu_time_seconds_total{{{SVC}}}[{RI}]))", "cores")],
        w=6,
        h=5,
        unit="short",
        decimals=2,
    )
    b.add(
        "stat",
        "Memory (RSS)",
        "Resident memory of all instances (process.memory.usage).",
        [q(f"sum(process_memory_usage_bytes{{{SVC}}})", "RSS")],
        w=6,
        h=5,
        unit="bytes",
    )
    b.add(
        "stat",
        "Threads",
        "Threads of all instances (process.thread.count).",
        [q(f"sum(process_thread_count{{{SVC}}})", "threads")],
        w=6,
        h=5,
        unit="short",
    )
    b.add(
        "timeseries",
        "CPU by instance",
        "CPU cores used per instance, user and system time "
        "(process.cpu.time, from opentelemetry-instrumentation-system-metrics).",
        [q(f"sum by (instance, type) (rate(process_cpu_time_seconds_total{{{SVC}}}[{RI}]))", "{{instance}} {{type}}")],
        unit="short",
    )
    b.add(
        "timeseries",
        "Memory by instance",
        "Resident (RSS) and virtual memory per instance.",
        [
            q(f"sum by (instance) (process_memory_usage_bytes{{{SVC}}})", "RSS {{instance}}"),
            q(f"sum by (instance) (process_memory_virtual_bytes{{{SVC}}})", "virtual {{instance}}"),
        ],
        unit="bytes",
    )
    b.add(
        "timeseries",
        "GC collections/s by generation",
        "CPython garbage collections per second by generation "
        "(cpython.gc.collections). Frequent gen-2 collections point at many long-lived objects.",
        [
            q(
                f"sum by (cpython_gc_generation) (rate(cpython_gc_collections_total{{{SVC}}}[{RI}]))",
                "gen {{cpython_gc_generation}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Threads and open files",
        "Threads (process.thread.count) and open file descriptors "
        "(process.open_file_descriptor.count) per instance; steady growth is a leak.",
        [
            q(f"sum by (instance) (process_thread_count{{{SVC}}})", "threads {{instance}}"),
            q(f"sum by (instance) (process_open_file_descriptor_count{{{SVC}}})", "fds {{instance}}"),
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Context switches/s",
        "Voluntary (waiting on I/O) and involuntary (preempted) context "
        "switches per second (process.context_switches).",
        [q(f"sum by (type) (rate(process_context_switches_total{{{SVC}}}[{RI}]))", "{{type}}")],
        unit="short",
    )
    b.add(
        "timeseries",
        "Telemetry the app sent and dropped",
        "Spans and log records per second by how the app's export queues let go of them "
        "(otel.sdk.processor.span.processed / .log.processed): sent, or dropped with the reason "
        "(queue_full: the collector was unreachable longer than the queue holds; rejected: refused "
        "as malformed or too large; export_failed: still failing at shutdown). Failed exports are "
        "retried, so an outage shorter than the queue shows no drop.",
        [
            q(
                _by_signal("sum by (signal, error_type)", "rate({}[$__rate_interval])", "processed_total", sent=True),
                "{{signal}} {{error_type}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Export queue fill",
        "Share of each instance's span and log export queue in use (queue.size / queue.capacity). "
        "It rises while the collector is down; at 100 % the oldest items are dropped. Capacity in "
        "seconds = queue size / items per second (OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BLRP_MAX_QUEUE_SIZE).",
        [
            q(
                _by_signal("max by (signal, instance)", "{}", "queue_size", per="queue_capacity"),
                "{{signal}} {{instance}}",
            )
        ],
        unit="percentunit",
        thresholds=[(None, "green"), (0.5, "orange"), (0.9, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "otelcol-chatbot CPU and memory",
        "The collector's own CPU (cores) and resident memory, "
        "from its self-metrics (scraped on :8888). Not filtered by the service variable.",
        [
            q(f"sum by (instance) (rate(otelcol_process_cpu_seconds{{{col}}}[{RI}]))", "CPU {{instance}}"),
            q(f"sum by (instance) (otelcol_process_memory_rss{{{col}}}) / 1e9", "RSS GB {{instance}}"),
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "otelcol-chatbot exporter queues",
        "Batches waiting in each exporter's persistent "
        "sending queue (the Tempo exporter and the Prometheus and CloudWatch spools). A queue that only grows "
        "means that backend is down or too slow.",
        [q(f"sum by (exporter) (otelcol_exporter_queue_size{{{col}}})", "{{exporter}}")],
        unit="short",
    )
    b.add(
        "timeseries",
        "otelcol-chatbot throughput",
        "Spans and metric points the collector accepted from apps and sent to backends, per second.",
        [
            q(
                f"sum by (receiver) (rate(otelcol_receiver_accepted_metric_points{{{col}}}[{RI}]))",
                "accepted points {{receiver}}",
            ),
            q(
                f"sum by (receiver) (rate(otelcol_receiver_accepted_spans{{{col}}}[{RI}]))",
                "accepted spans {{receiver}}",
            ),
            q(
                f"sum by (exporter) (rate(otelcol_exporter_sent_metric_points{{{col}}}[{RI}]))",
                "sent points {{exporter}}",
            ),
        ],
        unit="short",
    )
    return dashboard(
        "chatbot-runtime",
        "Chatbot / Service runtime",
        "CPU, memory, garbage collection and threads of the chatbot processes, and the collector's own health.",
        ["runtime"],
        [SERVICE_VAR, ENV_VAR],
        b,
    )


# -- Chat experience -------------------------------------------------------------------------------


def chat_dashboard() -> dict[str, Any]:
    b = Board()
    streams = f"sum(rate({STREAM_COUNT}{{{ROUTE}}}[{RI}]))"
    cancelled = f'sum(rate({STREAM_COUNT}{{{ROUTE}, chatbot_stream_outcome="cancelled"}}[{RI}]))'
    b.add(
        "stat",
        "Streams/s",
        "Streamed answers (SSE, NDJSON: responses sent in more than one body message) per second "
        "(chatbot.stream.duration count).",
        [q(streams, "streams/s")],
        w=6,
        h=5,
        unit="reqps",
        decimals=2,
    )
    b.add(
        "stat",
        "Time to first byte p95",
        "95th percentile of the time from a streaming request's arrival to the first byte of its answer "
        "(chatbot.stream.time_to_first_byte). Alert: above 2 s for 10 minutes (ChatbotStreamSlowFirstByte).",
        [q(quantile("0.95", TTFB_BUCKET, ROUTE), "p95")],
        w=6,
        h=5,
        unit="s",
        thresholds=[(None, "green"), (1.5, "orange"), (2, "red")],
    )
    b.add(
        "stat",
        "Cancelled streams",
        "Share of streamed answers the client left before the last chunk. Alert: above 5 % for 10 minutes "
        "(ChatbotStreamCancellations).",
        [q(f"({cancelled} or vector(0)) / {streams}", "cancelled")],
        w=6,
        h=5,
        unit="percentunit",
        decimals=1,
        thresholds=[(None, "green"), (0.03, "orange"), (0.05, "red")],
    )
    b.add(
        "stat",
        "Open WebSockets",
        "WebSocket connections open right now, all instances (chatbot.websocket.active_connections).",
        [q(f"sum(chatbot_websocket_active_connections{{{SVC}}})", "open")],
        w=6,
        h=5,
        unit="short",
    )
    b.add(
        "timeseries",
        "Time to first byte by route",
        "p50/p95/p99 of the time from request to the first byte of a streamed answer, per route: what "
        "a user waits before text appears. The red line is the 2 s alert threshold; dots are exemplars.",
        [
            q(quantile(phi, TTFB_BUCKET, ROUTE, "http_route"), f"p{phi[2:]} {{{{http_route}}}}", exemplar=phi == "0.95")
            for phi in ("0.50", "0.95", "0.99")
        ],
        unit="s",
        thresholds=[(None, "transparent"), (2, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "Stream outcomes/s",
        "Streamed answers per second by how they ended (chatbot.stream.outcome): completed, cancelled "
        "(the client left first) or error (the app raised mid-stream).",
        [
            q(
                f"sum by (chatbot_stream_outcome) (rate({STREAM_COUNT}{{{ROUTE}}}[{RI}]))",
                "{{chatbot_stream_outcome}}",
            )
        ],
        unit="reqps",
    )
    b.add(
        "timeseries",
        "Stream duration by outcome",
        "p50 and p95 of a streamed answer's whole duration (request to last chunk, or to the moment the "
        "client left), by outcome (chatbot.stream.duration).",
        [
            q(
                quantile(phi, STREAM_BUCKET, ROUTE, "chatbot_stream_outcome"),
                f"p{phi[2:]} {{{{chatbot_stream_outcome}}}}",
                exemplar=phi == "0.95",
            )
            for phi in ("0.50", "0.95")
        ],
        unit="s",
    )
    b.add(
        "timeseries",
        "Cancellation ratio by route",
        "Share of each route's streamed answers the client left before the end; the red band starts at "
        "the 5 % alert threshold. Routes without cancellations are not drawn.",
        [
            q(
                f'sum by (http_route) (rate({STREAM_COUNT}{{{ROUTE}, chatbot_stream_outcome="cancelled"}}[{RI}])) / '
                f"sum by (http_route) (rate({STREAM_COUNT}{{{ROUTE}}}[{RI}]))",
                "{{http_route}}",
            )
        ],
        unit="percentunit",
        thresholds=[(None, "transparent"), (0.05, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "Bytes/s streamed by route",
        "Body bytes of streamed answers per second (chatbot.stream.size), per route.",
        [q(f"sum by (http_route) (rate(chatbot_stream_size_bytes_sum{{{ROUTE}}}[{RI}]))", "{{http_route}}")],
        unit="Bps",
    )
    b.add(
        "timeseries",
        "Chunks per stream and bytes per chunk",
        "Average chunks per streamed answer (chatbot.stream.chunks) and average chunk size "
        "(chatbot.stream.size / chatbot.stream.chunks), per route. Many tiny chunks cost CPU per byte.",
        [
            q(
                f"sum by (http_route) (rate(chatbot_stream_chunks_sum{{{ROUTE}}}[{RI}])) / "
                f"sum by (http_route) (rate(chatbot_stream_chunks_count{{{ROUTE}}}[{RI}]))",
                "chunks/stream {{http_route}}",
            ),
            q(
                f"sum by (http_route) (rate(chatbot_stream_size_bytes_sum{{{ROUTE}}}[{RI}])) / "
                f"sum by (http_route) (rate(chatbot_stream_chunks_sum{{{ROUTE}}}[{RI}]))",
                "bytes/chunk {{http_route}}",
            ),
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "WebSocket connections",
        "Open WebSocket connections per instance (chatbot.websocket.active_connections).",
        [q(f"sum by (instance) (chatbot_websocket_active_connections{{{SVC}}})", "{{instance}}")],
        unit="short",
    )
    b.add(
        "timeseries",
        "WebSocket messages/s",
        "WebSocket data messages per second, received from clients and sent to them "
        "(chatbot.websocket.messages), per route.",
        [
            q(
                f"sum by (chatbot_websocket_direction, http_route) "
                f"(rate(chatbot_websocket_messages_total{{{SVC}}}[{RI}]))",
                "{{chatbot_websocket_direction}} {{http_route}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "WebSocket turn latency",
        "p50/p95/p99 of a chat turn's time to first reply: from a received message to the first message "
        "sent after it (chatbot.websocket.turn.time_to_first_message). Dots are exemplars.",
        [
            q(quantile(phi, WS_TURN_BUCKET, SVC), f"p{phi[2:]}", exemplar=phi == "0.95")
            for phi in ("0.50", "0.95", "0.99")
        ],
        unit="s",
        thresholds=[(None, "transparent"), (2, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "WebSocket closes/s by close code",
        "Accepted WebSocket connections ending per second, by the close code of the side that closed "
        "first (1000 normal, 1001 going away, 1006 no close frame, 1011 the app failed; 0: a code the client "
        "chose outside the protocol's range).",
        [
            q(
                f"sum by (chatbot_websocket_close_code) (rate({WS_CLOSES}{{{SVC}}}[{RI}]))",
                "{{chatbot_websocket_close_code}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Event loop lag by instance",
        "p50 and p99 of how late a timer on each process's asyncio event loop ran "
        "(chatbot.asyncio.loop.lag): the time ready requests waited for the loop. Alert: p99 above 100 ms "
        "for 5 minutes (ChatbotEventLoopLag).",
        [
            q(quantile(phi, LOOP_LAG_BUCKET, SVC, "instance"), f"p{phi[2:]} {{{{instance}}}}")
            for phi in ("0.50", "0.99")
        ],
        w=24,
        unit="s",
        thresholds=[(None, "transparent"), (0.1, "red")],
        threshold_lines=True,
    )
    return dashboard(
        "chatbot-chat",
        "Chatbot / Chat experience",
        "What a chat user feels, measured at the server: time to first byte and outcomes of streamed "
        "answers, WebSocket turns and connections, and the event loop that serves them.",
        ["chat"],
        [SERVICE_VAR, ENV_VAR, STREAM_ROUTE_VAR],
        b,
    )


# -- Cache, failover and feedback (otel_chatbot.cache_lookup / failover / record_feedback) ----------


def ratio(part: str, whole: str) -> str:
    """``part / whole`` where a missing ``part`` (no hit yet, no switch yet) counts as 0, not as no data."""
    return f"({part} or vector(0)) / {whole}"


def helpers_dashboard() -> dict[str, Any]:
    b = Board()
    lookups = f"sum(rate({CACHE_LOOKUPS}{{{SVC}}}[{RI}]))"
    hits = f'sum(rate({CACHE_LOOKUPS}{{{SVC}, chatbot_cache_result="hit"}}[{RI}]))'
    chains = f"sum(rate({FAILOVER_CHAINS}{{{SVC}}}[{RI}]))"
    switches = f"sum(rate({FAILOVER_SWITCHES}{{{SVC}}}[{RI}]))"
    feedback = f"sum(increase({FEEDBACK}{{{SVC}}}[$__range]))"
    negative = f'sum(increase({FEEDBACK}{{{SVC}, chatbot_feedback_sentiment="negative"}}[$__range]))'
    b.add(
        "stat",
        "Cache hit ratio",
        "Share of cache lookups answered from the cache (chatbot.cache.lookups, result hit), all caches. "
        "Target above 30 %; alert: below 30 % for 15 minutes (ChatbotCacheHitRateLow).",
        [q(ratio(hits, lookups), "hit ratio")],
        w=6,
        h=5,
        unit="percentunit",
        decimals=1,
        thresholds=[(None, "red"), (0.3, "green")],
    )
    b.add(
        "stat",
        "Saved by the cache",
        "What the model calls that cache hits replaced would have cost over the dashboard's time range "
        "(chatbot.cache.saved.cost: the hit's tokens at the replaced model's prices).",
        [q(f"sum(increase({CACHE_SAVED_COST}{{{SVC}}}[$__range]))", "saved")],
        w=6,
        h=5,
        unit="currencyUSD",
        decimals=4,
    )
    b.add(
        "stat",
        "Failover ratio",
        "Switches to the next provider or model per failover chain (chatbot.failover.switches / "
        "chatbot.failover.chains). Alert: above 5 % for 10 minutes (ChatbotFailoverRateHigh).",
        [q(ratio(switches, chains), "switches/chain")],
        w=6,
        h=5,
        unit="percentunit",
        decimals=1,
        thresholds=[(None, "green"), (0.03, "orange"), (0.05, "red")],
    )
    b.add(
        "stat",
        "Negative feedback",
        "Share of user feedback with a score below 0.5 over the dashboard's time range "
        "(chatbot.feedback, sentiment negative). Alert: above 30 % over an hour (ChatbotNegativeFeedback).",
        [q(ratio(negative, feedback), "negative")],
        w=6,
        h=5,
        unit="percentunit",
        decimals=1,
        thresholds=[(None, "green"), (0.2, "orange"), (0.3, "red")],
    )
    b.add(
        "timeseries",
        "Cache lookups/s by result",
        "Lookups per second by cache (chatbot.cache.name) and result: hit, miss, or error (the lookup itself "
        "raised: the cache store is down or slow).",
        [
            q(
                f"sum by (chatbot_cache_name, chatbot_cache_result) (rate({CACHE_LOOKUPS}{{{SVC}}}[{RI}]))",
                "{{chatbot_cache_name}} {{chatbot_cache_result}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Cache hit ratio by cache",
        "Share of each cache's lookups it answered; the red band is below the 30 % target.",
        [
            q(
                ratio(
                    f'sum by (chatbot_cache_name) (rate({CACHE_LOOKUPS}{{{SVC}, chatbot_cache_result="hit"}}[{RI}]))',
                    f"sum by (chatbot_cache_name) (rate({CACHE_LOOKUPS}{{{SVC}}}[{RI}]))",
                ),
                "{{chatbot_cache_name}}",
            )
        ],
        unit="percentunit",
        thresholds=[(None, "red"), (0.3, "transparent")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "Tokens saved/s by type and model",
        "Input and output tokens per second that cache hits did not spend (chatbot.cache.saved.tokens), by "
        "the model whose call the hit replaced.",
        [
            q(
                f"sum by (gen_ai_token_type, gen_ai_request_model) "
                f"(rate(chatbot_cache_saved_tokens_total{{{SVC}}}[{RI}]))",
                "{{gen_ai_token_type}} {{gen_ai_request_model}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Cost saved and spent per hour",
        "USD per hour the cache saved (chatbot.cache.saved.cost) by model, next to what the GenAI calls "
        "cost (gen_ai.client.cost): the cache's share of the bill.",
        [
            q(
                f"sum by (gen_ai_request_model) (rate({CACHE_SAVED_COST}{{{SVC}}}[{RI}])) * 3600",
                "saved {{gen_ai_request_model}}",
            ),
            q(f"sum(rate(gen_ai_client_cost_USD_total{{{SVC}}}[{RI}])) * 3600", "spent, all models"),
        ],
        unit="currencyUSD",
    )
    b.add(
        "timeseries",
        "Similarity found, by result",
        "Median and 90th percentile of the best similarity a lookup found (chatbot.cache.similarity), for "
        "hits and for misses: misses just under the threshold say the threshold may be too strict.",
        [
            q(
                quantile(phi, "chatbot_cache_similarity_bucket", SVC, "chatbot_cache_result"),
                f"p{phi[2:]} {{{{chatbot_cache_result}}}}",
            )
            for phi in ("0.50", "0.90")
        ],
        unit="none",
        decimals=2,
    )
    b.add(
        "timeseries",
        "Cache lookup latency",
        "p50/p95/p99 of a lookup's duration (chatbot.cache.lookup.duration), embedding the question "
        "included. Dots are exemplars: open a slow lookup's trace.",
        [
            q(
                quantile(phi, "chatbot_cache_lookup_duration_seconds_bucket", SVC),
                f"p{phi[2:]}",
                exemplar=phi == "0.95",
            )
            for phi in ("0.50", "0.95", "0.99")
        ],
        unit="s",
    )
    b.add(
        "timeseries",
        "Failover attempts/s by provider and outcome",
        "Attempts of failover chains per second (chatbot.failover.attempts) by provider, model and outcome: "
        "served (the attempt answered) or failed.",
        [
            q(
                f"sum by (gen_ai_provider_name, gen_ai_request_model, chatbot_failover_outcome) "
                f"(rate(chatbot_failover_attempts_total{{{SVC}}}[{RI}]))",
                "{{gen_ai_provider_name}} {{gen_ai_request_model}} {{chatbot_failover_outcome}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Switches/s by provider and cause",
        "Moves to the next candidate per second (chatbot.failover.switches): from which provider to which, "
        "and the failure that caused it (error.type: ThrottlingException, a timeout, ...).",
        [
            q(
                f"sum by (chatbot_failover_from, chatbot_failover_to, error_type) "
                f"(rate({FAILOVER_SWITCHES}{{{SVC}}}[{RI}]))",
                "{{chatbot_failover_from}} → {{chatbot_failover_to}} ({{error_type}})",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Failover overhead",
        "p50/p95/p99 of what failing over cost the user: from a chain's start to the start of the attempt "
        "that served it, for chains that switched (chatbot.failover.overhead). The red line is the 150 ms "
        "target; dots are exemplars.",
        [
            q(quantile(phi, "chatbot_failover_overhead_seconds_bucket", SVC), f"p{phi[2:]}", exemplar=phi == "0.95")
            for phi in ("0.50", "0.95", "0.99")
        ],
        unit="s",
        thresholds=[(None, "transparent"), (0.15, "red")],
        threshold_lines=True,
    )
    b.add(
        "timeseries",
        "Failover chains/s by outcome",
        "Failover chains per second (chatbot.failover.chains): served by one of their attempts, or exhausted "
        "(no attempt answered: the user got an error). Alert: exhausted chains for 5 minutes "
        "(ChatbotFailoverExhausted).",
        [
            q(
                f"sum by (chatbot_failover_outcome) (rate({FAILOVER_CHAINS}{{{SVC}}}[{RI}]))",
                "{{chatbot_failover_outcome}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Feedback/min by label",
        "User feedback per minute (chatbot.feedback) by the label the app gave it "
        "(gen_ai.evaluation.score.label: thumbs_up, thumbs_down, ...).",
        [
            q(
                f"sum by (gen_ai_evaluation_score_label) (rate({FEEDBACK}{{{SVC}}}[{RI}])) * 60",
                "{{gen_ai_evaluation_score_label}}",
            )
        ],
        unit="short",
    )
    b.add(
        "timeseries",
        "Feedback score and negative share",
        "Average score users gave answers (chatbot.feedback.score, 0 worst to 1 best) and the share of "
        "feedback below 0.5; each comes with a gen_ai.evaluation.result event in the answer's trace.",
        [
            q(
                f"sum(rate(chatbot_feedback_score_sum{{{SVC}}}[{RI}])) / "
                f"sum(rate(chatbot_feedback_score_count{{{SVC}}}[{RI}]))",
                "average score",
            ),
            q(
                ratio(
                    f'sum(rate({FEEDBACK}{{{SVC}, chatbot_feedback_sentiment="negative"}}[{RI}]))',
                    f"sum(rate({FEEDBACK}{{{SVC}}}[{RI}]))",
                ),
                "negative share",
            ),
        ],
        unit="percentunit",
    )
    return dashboard(
        "chatbot-helpers",
        "Chatbot / Cache, failover and feedback",
        "What the app's operator helpers record: semantic-cache hits and what they saved, provider failover "
        "and its overhead, and users' feedback on answers (otel_chatbot.cache_lookup, failover, record_feedback).",
        ["cache", "failover", "feedback"],
        [SERVICE_VAR, ENV_VAR],
        b,
    )


DASHBOARDS = {
    "chatbot-api.json": api_dashboard,
    "chatbot-chat.json": chat_dashboard,
    "chatbot-genai.json": genai_dashboard,
    "chatbot-helpers.json": helpers_dashboard,
    "chatbot-runtime.json": runtime_dashboard,
}


def render(build: Any) -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, build in DASHBOARDS.items():
        path = OUT / name
        text = render(build)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"out of date (run dashboards/generate.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

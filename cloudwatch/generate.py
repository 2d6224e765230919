"""Generate the CloudWatch dashboard and the CloudFormation template (dashboard + alarms).

    .venv/bin/python cloudwatch/generate.py          # rewrite the files below
    .venv/bin/python cloudwatch/generate.py --check  # exit 1 if a file differs

* ``cloudwatch/dashboard.json`` -- the dashboard body for ``aws cloudwatch put-dashboard``
  (service ``chatbot``, namespace ``OtelChatbot``, region ``us-east-1``: edit or use the template);
* ``cloudwatch/chatbot-observability.cfn.json`` -- the same dashboard with the service, namespace
  and region as parameters, plus the alarms (error rate, latency > 2 s, Bedrock timeouts,
  exhausted failover chains).

Every metric is one that otelcol-chatbot's awsemf exporter publishes (collector/config.yaml,
``metric_declarations``): EMF metric names are the OTel names (``http.server.request.duration``),
dimensions are exactly one of the declared dimension sets.  tests/stack/test_cloudwatch.py
checks that.  Limits that follow from EMF, and so from what can be shown here:

* histograms arrive as statistic sets (Min/Max/Sum/Count), from which CloudWatch cannot compute
  percentiles -- latency widgets show average and maximum, and the latency alarm is on the average;
* a metric has only the dimension sets declared: per-status-class and per-error-type views use
  Metrics Insights queries over the declared sets (``SCHEMA(...)``), which CloudWatch keeps for
  the recent past only (dashboards), and alarms use metric math over declared sets;
* CPU and memory are not EMF metrics (the collector declares no process.* metrics): the widgets
  read the ECS service's AWS/ECS metrics (parameters ``EcsClusterName`` / ``EcsServiceName``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DASHBOARD = HERE / "dashboard.json"
TEMPLATE = HERE / "chatbot-observability.cfn.json"

# Placeholders: CloudFormation Fn::Sub variables in the template, defaults in dashboard.json.
NS, SVC, REGION, CLUSTER, ECS_SERVICE = (
    "${Namespace}",
    "${ServiceName}",
    "${AWS::Region}",
    "${EcsClusterName}",
    "${EcsServiceName}",
)
DEFAULTS = {
    NS: "OtelChatbot",
    SVC: "chatbot",
    REGION: "us-east-1",
    CLUSTER: "chatbot-cluster",
    ECS_SERVICE: "chatbot",
}

HTTP = "http.server.request.duration"
ACTIVE = "http.server.active_requests"
GENAI = "gen_ai.client.operation.duration"
TTFT = "gen_ai.client.operation.time_to_first_chunk"
TOKENS = "gen_ai.client.token.usage"
COST = "gen_ai.client.cost"
THROTTLES = "gen_ai.client.throttles"
TTFB = "chatbot.stream.time_to_first_byte"
STREAMS = "chatbot.stream.duration"
WEBSOCKETS = "chatbot.websocket.active_connections"
OUTCOMES = ("completed", "cancelled", "error")
# The app's export queues (otel_chatbot/export/queue_metrics.py): what they sent, and dropped by reason.
SPANS_PROCESSED = "otel.sdk.processor.span.processed"
LOGS_PROCESSED = "otel.sdk.processor.log.processed"
DROP_REASONS = ("queue_full", "rejected", "export_failed")

CACHE_LOOKUPS = "chatbot.cache.lookups"
CACHE_SAVED_COST = "chatbot.cache.saved.cost"
CACHE_SAVED_TOKENS = "chatbot.cache.saved.tokens"
FAILOVER_CHAINS = "chatbot.failover.chains"
FAILOVER_SWITCHES = "chatbot.failover.switches"
FAILOVER_OVERHEAD = "chatbot.failover.overhead"
FEEDBACK = "chatbot.feedback"
FEEDBACK_SCORE = "chatbot.feedback.score"

# Routes whose 5xx share the error-rate alarm watches (metric math over the declared
# [service.name, http.route, http.request.method, http.status_class] set): the chat surfaces.
ALARM_ROUTES = (("POST", "/chat/{session_id}"), ("POST", "/chat/{session_id}/stream"), ("POST", "/agents/{session_id}"))


def metric(name: str, dims: dict[str, str], stat: str, label: str, **extra: Any) -> list[Any]:
    """A widget metric row: [namespace, name, dim1, value1, ..., {options}]."""
    row: list[Any] = [NS, name]
    for key, value in dims.items():
        row += [key, value]
    return [*row, {"stat": stat, "label": label, **extra}]


def insights(sql: str, label: str, id_: str) -> list[Any]:
    return [{"expression": sql, "label": label, "id": id_}]


def widget(
    title: str,
    metrics: list[list[Any]],
    x: int,
    y: int,
    *,
    w: int = 12,
    h: int = 6,
    period: int = 60,
    stat: str = "Sum",
    unit_label: str = "",
    view: str = "timeSeries",
    stacked: bool = False,
    annotations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "title": title,
        "region": REGION,
        "view": view,
        "stacked": stacked,
        "period": period,
        "stat": stat,
        "metrics": metrics,
    }
    if unit_label:
        props["yAxis"] = {"left": {"label": unit_label, "showUnits": False, "min": 0}}
    if annotations:
        props["annotations"] = annotations
    return {"type": "metric", "x": x, "y": y, "width": w, "height": h, "properties": props}


def text(markdown: str, x: int, y: int, w: int = 24, h: int = 2) -> dict[str, Any]:
    return {"type": "text", "x": x, "y": y, "width": w, "height": h, "properties": {"markdown": markdown}}


def schema(*dims: str) -> str:
    return 'SCHEMA("' + NS + '", ' + ", ".join(f'"{d}"' for d in dims) + ")"


HTTP_SCHEMA = schema("http.request.method", "http.route", "http.status_class", "service.name")
TOKEN_SCHEMA = schema("gen_ai.provider.name", "gen_ai.request.model", "gen_ai.token.type", "service.name")
MODEL_SCHEMA = schema("gen_ai.provider.name", "gen_ai.request.model", "service.name")
PROVIDER_SCHEMA = schema("gen_ai.provider.name", "service.name")
PROVIDER_TOKEN_SCHEMA = schema("gen_ai.provider.name", "gen_ai.token.type", "service.name")
BY_MODEL = 'GROUP BY "gen_ai.provider.name", "gen_ai.request.model"'


def dashboard_body() -> dict[str, Any]:
    s = {"service.name": SVC}
    widgets = [
        text(
            f"# Chatbot ({SVC})\nEMF metrics from otelcol-chatbot (namespace `{NS}`). Latency widgets show "
            "average and maximum: EMF histograms are statistic sets, which carry no percentiles "
            "(p95/p99 are on the Grafana dashboards).",
            0,
            0,
        ),
        widget(
            "Requests per second (QPS)",
            [
                metric(HTTP, s, "SampleCount", "requests", id="m1", visible=False),
                [{"expression": "m1 / PERIOD(m1)", "label": "requests/s", "id": "qps"}],
            ],
            0,
            2,
            w=8,
            unit_label="req/s",
        ),
        widget(
            "Latency: average and maximum",
            [metric(HTTP, s, "Average", "average"), metric(HTTP, s, "Maximum", "maximum")],
            8,
            2,
            w=8,
            stat="Average",
            unit_label="seconds",
            annotations={"horizontal": [{"label": "alarm: 2 s", "value": 2}]},
        ),
        widget(
            "Concurrency (active requests)",
            [metric(ACTIVE, s, "Maximum", "max in flight"), metric(ACTIVE, s, "Average", "avg in flight")],
            16,
            2,
            w=8,
            stat="Maximum",
            unit_label="requests",
        ),
        widget(
            "Success vs error (requests per status class)",
            [
                insights(
                    f'SELECT COUNT("{HTTP}") FROM {HTTP_SCHEMA} '
                    f'WHERE "service.name" = \'{SVC}\' GROUP BY "http.status_class"',
                    "",
                    "q1",
                )
            ],
            0,
            8,
            stat="SampleCount",
            unit_label="requests",
            stacked=True,
        ),
        widget(
            "Server errors (5xx) by route",
            [
                insights(
                    f'SELECT COUNT("{HTTP}") FROM {HTTP_SCHEMA} '
                    f'WHERE "service.name" = \'{SVC}\' AND "http.status_class" = \'5xx\' GROUP BY "http.route"',
                    "",
                    "q2",
                )
            ],
            12,
            8,
            stat="SampleCount",
            unit_label="requests",
        ),
        widget(
            "Latency by route (average)",
            [
                insights(
                    f'SELECT AVG("{HTTP}") FROM {schema("http.route", "service.name")} '
                    f'WHERE "service.name" = \'{SVC}\' GROUP BY "http.route"',
                    "",
                    "q3",
                )
            ],
            0,
            14,
            stat="Average",
            unit_label="seconds",
        ),
        widget(
            "GenAI calls per minute by model",
            [
                insights(
                    f'SELECT COUNT("{GENAI}") FROM {MODEL_SCHEMA} WHERE "service.name" = \'{SVC}\' {BY_MODEL}',
                    "",
                    "q4",
                )
            ],
            12,
            14,
            stat="SampleCount",
            unit_label="calls",
        ),
        widget(
            "GenAI latency: average and maximum (every provider)",
            [
                metric(GENAI, s, "Average", "average"),
                metric(GENAI, s, "Maximum", "maximum"),
                metric(TTFT, s, "Average", "time to first token (avg)"),
            ],
            0,
            20,
            stat="Average",
            unit_label="seconds",
        ),
        widget(
            "GenAI latency by model (average)",
            [
                insights(
                    f'SELECT AVG("{GENAI}") FROM {MODEL_SCHEMA} WHERE "service.name" = \'{SVC}\' {BY_MODEL}',
                    "",
                    "q5",
                )
            ],
            12,
            20,
            stat="Average",
            unit_label="seconds",
        ),
        widget(
            "GenAI tokens per minute (input / output)",
            [
                insights(
                    f'SELECT SUM("{TOKENS}") FROM {TOKEN_SCHEMA} '
                    f'WHERE "service.name" = \'{SVC}\' GROUP BY "gen_ai.token.type"',
                    "",
                    "q6",
                )
            ],
            0,
            26,
            stat="Sum",
            unit_label="tokens",
            stacked=True,
        ),
        widget(
            "Estimated GenAI cost by model (USD)",
            [
                insights(
                    f'SELECT SUM("{COST}") FROM {TOKEN_SCHEMA} WHERE "service.name" = \'{SVC}\' {BY_MODEL}',
                    "",
                    "q7",
                )
            ],
            12,
            26,
            w=6,
            stat="Sum",
            unit_label="USD",
            stacked=True,
        ),
        widget(
            "GenAI throttles",
            [metric(THROTTLES, s, "Sum", "throttled calls")],
            18,
            26,
            w=6,
            stat="Sum",
            unit_label="calls",
        ),
        *provider_widgets(32),
        widget(
            "CPU and memory (ECS service)",
            [
                [
                    "AWS/ECS",
                    "CPUUtilization",
                    "ClusterName",
                    CLUSTER,
                    "ServiceName",
                    ECS_SERVICE,
                    {"stat": "Average", "label": "CPU %"},
                ],
                [
                    "AWS/ECS",
                    "MemoryUtilization",
                    "ClusterName",
                    CLUSTER,
                    "ServiceName",
                    ECS_SERVICE,
                    {"stat": "Average", "label": "memory %"},
                ],
            ],
            0,
            38,
            w=24,
            stat="Average",
            unit_label="percent",
        ),
        text(
            "## Chat experience\nStreamed answers (SSE, NDJSON) and WebSocket chat, measured at the server "
            "(`chatbot.*`). Cancelled: the client left before the last chunk.",
            0,
            44,
        ),
        widget(
            "Streams: time to first byte (average)",
            [metric(TTFB, s, "Average", "time to first byte")],
            0,
            46,
            w=8,
            stat="Average",
            unit_label="seconds",
            annotations={"horizontal": [{"label": "Prometheus alert: p95 2 s", "value": 2}]},
        ),
        widget(
            "Streams by outcome and cancelled %",
            [
                *(
                    metric(STREAMS, {**s, "chatbot.stream.outcome": outcome}, "SampleCount", outcome, id=f"o{i}")
                    for i, outcome in enumerate(OUTCOMES, start=1)
                ),
                [
                    {
                        "expression": "100 * FILL(o2, 0) / (FILL(o1, 0) + FILL(o2, 0) + FILL(o3, 0))",
                        "label": "cancelled %",
                        "id": "cancelled",
                        "yAxis": "right",
                    }
                ],
            ],
            8,
            46,
            w=8,
            stat="SampleCount",
            unit_label="streams",
            annotations={"horizontal": [{"label": "5 % (Prometheus alert)", "value": 5, "yAxis": "right"}]},
        ),
        widget(
            "Open WebSocket connections",
            [metric(WEBSOCKETS, s, "Maximum", "max open"), metric(WEBSOCKETS, s, "Average", "avg open")],
            16,
            46,
            w=8,
            stat="Maximum",
            unit_label="connections",
        ),
        widget(
            "App telemetry sent and dropped",
            [
                metric(SPANS_PROCESSED, s, "Sum", "spans (all, sent and dropped)"),
                metric(LOGS_PROCESSED, s, "Sum", "log records (all)"),
                *[
                    metric(name, {**s, "error.type": reason}, "Sum", f"{what} dropped: {reason}")
                    for name, what in ((SPANS_PROCESSED, "spans"), (LOGS_PROCESSED, "log records"))
                    for reason in DROP_REASONS
                ],
            ],
            0,
            52,
            w=24,
            stat="Sum",
            unit_label="items",
        ),
        *helpers_widgets(s, 58),
    ]
    return {"start": "-PT3H", "periodOverride": "inherit", "widgets": widgets}


def provider_widgets(y: int) -> list[dict[str, Any]]:
    """GenAI providers side by side (gen_ai.provider.name): calls, latency, time to first token, tokens, cost.

    Metrics Insights over the [service.name, gen_ai.provider.name] sets (with the token type for
    tokens and cost) that collector/config.yaml declares for this row.
    """
    where = f'WHERE "service.name" = \'{SVC}\''
    by = 'GROUP BY "gen_ai.provider.name"'
    rows = [
        ("GenAI calls per minute by provider", f'SELECT COUNT("{GENAI}") FROM {PROVIDER_SCHEMA} {where} {by}',
         "SampleCount", "calls"),
        ("GenAI latency by provider (average)", f'SELECT AVG("{GENAI}") FROM {PROVIDER_SCHEMA} {where} {by}',
         "Average", "seconds"),
        ("Time to first token by provider (average)", f'SELECT AVG("{TTFT}") FROM {PROVIDER_SCHEMA} {where} {by}',
         "Average", "seconds"),
        ("Tokens per minute by provider", f'SELECT SUM("{TOKENS}") FROM {PROVIDER_TOKEN_SCHEMA} {where} '
         f'{by}, "gen_ai.token.type"', "Sum", "tokens"),
        ("Estimated cost by provider (USD)", f'SELECT SUM("{COST}") FROM {PROVIDER_TOKEN_SCHEMA} {where} {by}',
         "Sum", "USD"),
    ]  # fmt: skip
    widths = (5, 5, 5, 5, 4)
    x = 0
    made = []
    for index, ((title, sql, stat, unit), w) in enumerate(zip(rows, widths, strict=True), start=1):
        made.append(widget(title, [insights(sql, "", f"p{index}")], x, y, w=w, stat=stat, unit_label=unit))
        x += w
    return made


def percent_of(part: str, ids: tuple[str, ...], label: str, id_: str) -> list[Any]:
    """A metric-math row on the right axis: ``part`` as a percentage of the sum of ``ids``."""
    total = " + ".join(f"FILL({i}, 0)" for i in ids)
    return [{"expression": f"100 * FILL({part}, 0) / ({total})", "label": label, "id": id_, "yAxis": "right"}]


def helpers_widgets(s: dict[str, str], y: int) -> list[dict[str, Any]]:
    """What the app's operator helpers record: cache lookups and savings, failover, user feedback."""
    results = ("hit", "miss", "error")
    chains = ("served", "exhausted")
    sentiments = ("positive", "neutral", "negative")
    return [
        text(
            "## Cache, failover and feedback\nRecorded by the app through `otel_chatbot.cache_lookup`, `failover` "
            "and `record_feedback` (`chatbot.cache.*`, `chatbot.failover.*`, `chatbot.feedback*`).",
            0,
            y,
        ),
        widget(
            "Cache lookups by result and hit %",
            [
                *(
                    metric(CACHE_LOOKUPS, {**s, "chatbot.cache.result": r}, "Sum", r, id=f"c{i}")
                    for i, r in enumerate(results, start=1)
                ),
                percent_of("c1", ("c1", "c2", "c3"), "hit %", "hits"),
            ],
            0,
            y + 2,
            w=8,
            unit_label="lookups",
            annotations={"horizontal": [{"label": "30 % target", "value": 30, "yAxis": "right"}]},
        ),
        widget(
            "Saved by the cache (USD and tokens)",
            [
                metric(CACHE_SAVED_COST, s, "Sum", "USD saved"),
                *(
                    metric(CACHE_SAVED_TOKENS, {**s, "gen_ai.token.type": t}, "Sum", f"{t} tokens saved", yAxis="right")
                    for t in ("input", "output")
                ),
            ],
            8,
            y + 2,
            w=8,
            unit_label="USD",
        ),
        widget(
            "Failover chains, switches and failover %",
            [
                *(
                    metric(FAILOVER_CHAINS, {**s, "chatbot.failover.outcome": o}, "Sum", o, id=f"f{i}")
                    for i, o in enumerate(chains, start=1)
                ),
                metric(FAILOVER_SWITCHES, s, "Sum", "switches", id="sw"),
                percent_of("sw", ("f1", "f2"), "failover %", "ratio"),
            ],
            16,
            y + 2,
            w=8,
            unit_label="chains",
            annotations={"horizontal": [{"label": "5 % (Prometheus alert)", "value": 5, "yAxis": "right"}]},
        ),
        widget(
            "Failover overhead (average)",
            [metric(FAILOVER_OVERHEAD, s, "Average", "chain start to the serving attempt")],
            0,
            y + 8,
            w=8,
            stat="Average",
            unit_label="seconds",
            annotations={"horizontal": [{"label": "150 ms target", "value": 0.15}]},
        ),
        widget(
            "Feedback by sentiment and negative %",
            [
                *(
                    metric(FEEDBACK, {**s, "chatbot.feedback.sentiment": f}, "Sum", f, id=f"s{i}")
                    for i, f in enumerate(sentiments, start=1)
                ),
                percent_of("s3", ("s1", "s2", "s3"), "negative %", "negative"),
            ],
            8,
            y + 8,
            w=8,
            unit_label="feedback",
            annotations={"horizontal": [{"label": "30 % (Prometheus alert, 1 h)", "value": 30, "yAxis": "right"}]},
        ),
        widget(
            "Average feedback score (0-1)",
            [metric(FEEDBACK_SCORE, s, "Average", "average score")],
            16,
            y + 8,
            w=8,
            stat="Average",
            unit_label="score",
        ),
    ]


def substitute(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in mapping.items():
            value = value.replace(key, replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, mapping) for k, v in value.items()}
    return value


def stat_metric(id_: str, name: str, dims: dict[str, str], stat: str, *, visible: bool = False) -> dict[str, Any]:
    return {
        "Id": id_,
        "ReturnData": visible,
        "MetricStat": {
            "Metric": {
                "Namespace": {"Ref": "Namespace"},
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": 60,
            "Stat": stat,
        },
    }


def service_dims(**more: str) -> dict[str, Any]:
    return {"service.name": {"Ref": "ServiceName"}, **more}  # type: ignore[dict-item]


def alarm(
    title: str,
    description: str,
    metrics: list[dict[str, Any]],
    threshold: float,
    periods: int,
    comparison: str = "GreaterThanThreshold",
) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"${{ServiceName}}-${{Environment}}-{title}"},
            "AlarmDescription": description,
            "Metrics": metrics,
            "ComparisonOperator": comparison,
            "Threshold": threshold,
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": periods,
            "TreatMissingData": "notBreaching",
            "AlarmActions": {"Fn::If": ["HasTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]},
            "OKActions": {"Fn::If": ["HasTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]},
        },
    }


def template() -> dict[str, Any]:
    body = json.dumps(dashboard_body(), separators=(",", ":"))
    errors, totals = [], []
    for index, (method, route) in enumerate(ALARM_ROUTES, start=1):
        errors.append(
            stat_metric(
                f"e{index}",
                HTTP,
                service_dims(**{"http.route": route, "http.request.method": method, "http.status_class": "5xx"}),
                "SampleCount",
            )
        )
        totals.append(stat_metric(f"t{index}", HTTP, service_dims(**{"http.route": route}), "SampleCount"))
    error_sum = " + ".join(f"FILL(e{i}, 0)" for i in range(1, len(ALARM_ROUTES) + 1))
    total_sum = " + ".join(f"FILL(t{i}, 0)" for i in range(1, len(ALARM_ROUTES) + 1))
    timeouts = [
        stat_metric(f"m{index}", GENAI, service_dims(**{"error.type": error}), "SampleCount")
        for index, error in enumerate(("ModelTimeoutException", "ReadTimeoutError", "ConnectTimeoutError"), start=1)
    ]
    dropped = [
        stat_metric(f"d{index}", name, service_dims(**{"error.type": reason}), "Sum")
        for index, (name, reason) in enumerate(
            ((name, reason) for name in (SPANS_PROCESSED, LOGS_PROCESSED) for reason in DROP_REASONS), start=1
        )
    ]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "otel_chatbot: CloudWatch dashboard and alarms over the EMF metrics of otelcol-chatbot "
        "(generated by cloudwatch/generate.py).",
        "Parameters": {
            "ServiceName": {"Type": "String", "Default": "chatbot", "Description": "OTel service.name of the chatbot."},
            "Environment": {"Type": "String", "Default": "production", "Description": "Used in alarm names only."},
            "Namespace": {
                "Type": "String",
                "Default": "OtelChatbot",
                "Description": "awsemf namespace (OTELCOL_CLOUDWATCH_NAMESPACE).",
            },
            "EcsClusterName": {
                "Type": "String",
                "Default": "chatbot-cluster",
                "Description": "ECS cluster of the service (CPU and memory widget).",
            },
            "EcsServiceName": {
                "Type": "String",
                "Default": "chatbot",
                "Description": "ECS service name (CPU and memory widget).",
            },
            "AlarmTopicArn": {
                "Type": "String",
                "Default": "",
                "Description": "SNS topic for alarm notifications (empty: none).",
            },
        },
        "Conditions": {"HasTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}},
        "Resources": {
            "Dashboard": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {
                    "DashboardName": {"Fn::Sub": "${ServiceName}-${Environment}"},
                    "DashboardBody": {"Fn::Sub": body},
                },
            },
            "ErrorRateAlarm": alarm(
                "error-rate",
                "More than 1 % of the chat routes' requests answered 5xx in each of 5 minutes (same threshold as "
                "the Prometheus alert ChatbotHighErrorRate; runbook: docs/stack.md#chatbothigherrorrate).",
                [
                    *errors,
                    *totals,
                    {
                        "Id": "rate",
                        "Label": "5xx %",
                        "ReturnData": True,
                        "Expression": f"100 * ({error_sum}) / ({total_sum})",
                    },
                ],
                1.0,
                5,
            ),
            "LatencyAlarm": alarm(
                "latency",
                "Average request duration above 2 s in each of 5 minutes (EMF histograms carry no percentiles; "
                "runbook: docs/stack.md#chatbothighlatencyp95).",
                [{**stat_metric("m1", HTTP, service_dims(), "Average", visible=True), "Label": "average latency"}],
                2.0,
                5,
            ),
            "BedrockTimeoutAlarm": alarm(
                "bedrock-timeouts",
                "Bedrock calls timed out (ModelTimeoutException, client read/connect timeouts) in each of 3 "
                "minutes (runbook: docs/stack.md#chatbotbedrocktimeouts). Needs the [service.name, error.type] "
                "dimension set on gen_ai.client.operation.duration in collector/config.yaml.",
                [
                    *timeouts,
                    {
                        "Id": "timeouts",
                        "Label": "timed-out calls",
                        "ReturnData": True,
                        "Expression": "FILL(m1, 0) + FILL(m2, 0) + FILL(m3, 0)",
                    },
                ],
                0.0,
                3,
            ),
            "TelemetryDroppedAlarm": alarm(
                "telemetry-dropped",
                "The app's export queues dropped spans or log records (queue_full: the collector was unreachable "
                "longer than the queue holds; rejected; export_failed at shutdown) in a minute (same as the "
                "Prometheus alert ChatbotTelemetryDropped; runbook: docs/stack.md#chatbottelemetrydropped).",
                [
                    *dropped,
                    {
                        "Id": "dropped",
                        "Label": "spans and log records dropped",
                        "ReturnData": True,
                        "Expression": " + ".join(f"FILL(d{i}, 0)" for i in range(1, len(dropped) + 1)),
                    },
                ],
                0.0,
                1,
            ),
            "FailoverExhaustedAlarm": alarm(
                "failover-exhausted",
                "Failover chains ended with no provider answering (chatbot.failover.chains, outcome exhausted) in "
                "each of 5 minutes: those users got an error (runbook: docs/stack.md#chatbotfailoverexhausted).",
                [
                    {
                        **stat_metric(
                            "m1",
                            FAILOVER_CHAINS,
                            service_dims(**{"chatbot.failover.outcome": "exhausted"}),
                            "Sum",
                            visible=True,
                        ),
                        "Label": "exhausted chains",
                    }
                ],
                0.0,
                5,
            ),
        },
        "Outputs": {
            "DashboardName": {"Value": {"Ref": "Dashboard"}},
            "DashboardUrl": {
                "Value": {
                    "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                    "?region=${AWS::Region}#dashboards:name=${Dashboard}"
                }
            },
        },
    }


FILES = {
    DASHBOARD: lambda: json.dumps(substitute(dashboard_body(), DEFAULTS), indent=2) + "\n",
    TEMPLATE: lambda: json.dumps(template(), indent=2) + "\n",
}


def main(argv: list[str]) -> int:
    stale = []
    for path, render in FILES.items():
        text_ = render()
        if "--check" in argv:
            if not path.exists() or path.read_text() != text_:
                stale.append(path.name)
        else:
            path.write_text(text_)
    if stale:
        print(f"out of date (run cloudwatch/generate.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Grafana dashboards and their provisioning: Grafana's model, parsable queries, real names.

Whether each query returns data after a real workload is tests/e2e/stack/test_stack_data.py.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import promql_parser
import pytest
import yaml
from stack_lib import (
    DASHBOARD_DIR,
    PROVISIONING_DIR,
    REPO,
    all_variables,
    load_dashboards,
    panel_queries,
    recorded_names,
    selectors,
    substitute,
)

DASHBOARDS = load_dashboards()
PANEL_TYPES = {"timeseries", "stat", "heatmap", "table", "gauge", "bargauge"}
REQUIRED_VARIABLES = {"service", "environment", "route", "model"}

# Metrics as otelcol-chatbot's prometheus_remote_write exporter names them (checked against a
# real Prometheus by the e2e test), and the collector's own metrics Prometheus scrapes.
APP_METRIC_PREFIXES = (
    "http_server_",
    "gen_ai_client_",
    "chatbot_",
    "process_",
    "cpython_gc_",
    "target_info",
    "otel_sdk_",
)
COLLECTOR_PREFIX = "otelcol_"
LABELS = {
    "job", "instance", "deployment_environment_name", "http_route", "http_request_method", "http_status_class",
    "http_response_status_code", "error_type", "gen_ai_request_model", "gen_ai_operation_name",
    "gen_ai_token_type", "cpython_gc_generation", "type", "le", "exporter", "receiver", "alertstate", "alertname",
    "chatbot_stream_outcome", "chatbot_cache_name", "chatbot_cache_result", "gen_ai_provider_name",
    "chatbot_failover_outcome", "chatbot_failover_from", "chatbot_failover_to", "gen_ai_evaluation_score_label",
    "chatbot_feedback_sentiment", "__name__",
}  # fmt: skip


def test_the_dashboards_are_what_the_generator_writes() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "dashboards" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_five_dashboards_with_unique_uids_and_titles() -> None:
    assert set(DASHBOARDS) == {
        "chatbot-api.json",
        "chatbot-chat.json",
        "chatbot-genai.json",
        "chatbot-helpers.json",
        "chatbot-runtime.json",
    }
    uids = [d["uid"] for d in DASHBOARDS.values()]
    titles = [d["title"] for d in DASHBOARDS.values()]
    assert len(set(uids)) == len(uids) and len(set(titles)) == len(titles)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_follows_grafanas_model(name: str) -> None:
    dashboard = DASHBOARDS[name]
    for key, kind in (("uid", str), ("title", str), ("panels", list), ("templating", dict), ("time", dict),
                      ("schemaVersion", int), ("tags", list), ("annotations", dict)):  # fmt: skip
        assert isinstance(dashboard.get(key), kind), f"{name}: {key} missing or not a {kind.__name__}"
    assert 0 < len(dashboard["uid"]) <= 40 and dashboard.get("id") is None
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids"
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        where = f"{name} / {panel.get('title')}"
        assert panel["type"] in PANEL_TYPES, where
        assert panel["title"] and panel["description"].strip(), f"{where}: needs a title and a description"
        assert panel["datasource"]["uid"] in {"prometheus", "tempo"}, where
        assert panel["targets"], f"{where}: no query"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), f"{where}: duplicate refIds"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == panel["datasource"]["uid"], where
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"} and grid["w"] > 0 and grid["h"] > 0, where
        assert grid["x"] + grid["w"] <= 24, f"{where}: wider than the 24-column grid"
        cells = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & occupied, f"{where}: overlaps another panel"
        occupied |= cells
        assert "unit" in panel["fieldConfig"]["defaults"], f"{where}: no unit"


def test_variables_for_service_environment_route_and_model() -> None:
    seen: set[str] = set()
    for name, dashboard in DASHBOARDS.items():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert {"service", "environment"} <= set(variables), name
        seen |= set(variables)
        for variable in variables.values():
            assert variable["datasource"]["uid"] == "prometheus"
            assert variable["includeAll"] and variable["allValue"] == ".*"
            query = variable["query"]["query"]
            assert query.startswith("label_values(") and query.endswith(")")
            inner = query[len("label_values(") : -1].rsplit(",", 1)[0]
            promql_parser.parse(substitute(inner, all_variables(dashboard)))
    assert seen >= REQUIRED_VARIABLES
    assert "route" in {v["name"] for v in DASHBOARDS["chatbot-api.json"]["templating"]["list"]}
    assert {"provider", "model"} <= {v["name"] for v in DASHBOARDS["chatbot-genai.json"]["templating"]["list"]}


PER_PROVIDER = {
    "Calls/s by provider",
    "p95 latency by provider",
    "Time to first token by provider (p95)",
    "Tokens/min by provider",
    "Cost per hour by provider",
}


def test_the_genai_dashboard_compares_providers_and_every_genai_query_honours_the_provider_variable() -> None:
    """Calls, latency, time to first token, tokens and cost each have a panel grouped by provider (issue 12)."""
    dashboard = DASHBOARDS["chatbot-genai.json"]
    panels = {p["title"]: p for p in dashboard["panels"]}
    assert set(panels) >= PER_PROVIDER
    for title in PER_PROVIDER:
        (target,) = panels[title]["targets"]
        assert "gen_ai_provider_name" in target["expr"].split("by (", 1)[1].split(")", 1)[0], title
        assert "{{gen_ai_provider_name}}" in target["legendFormat"], title
    variables = {**all_variables(dashboard), "provider": "PROVIDER_CHOSEN"}
    for query in panel_queries({"chatbot-genai.json": dashboard}):
        if query.datasource_uid != "prometheus":
            continue
        for metric, matchers in selectors(substitute(query.expr, variables)):
            chosen = {label for label, _, value in matchers if value == "PROVIDER_CHOSEN"}
            assert chosen == {"gen_ai_provider_name"}, f"{query.key}: {metric} ignores $provider"


PROMETHEUS_QUERIES = [q for q in panel_queries(DASHBOARDS) if q.datasource_uid == "prometheus"]


@pytest.mark.parametrize("query", PROMETHEUS_QUERIES, ids=lambda q: q.key)
def test_every_panel_query_parses_and_uses_the_dashboards_variables(query: Any) -> None:
    dashboard = next(d for d in DASHBOARDS.values() if d["uid"] == query.dashboard)
    expr = substitute(query.expr, all_variables(dashboard))
    found = selectors(expr)
    assert found, f"{query.key}: no metric selector"
    for metric, matchers in found:
        if metric.startswith(COLLECTOR_PREFIX):
            continue
        labels = {label for label, _, _ in matchers}
        assert {"job", "deployment_environment_name"} <= labels, f"{query.key}: {metric} ignores $service/$environment"
    for metric, matchers in found:
        assert metric in recorded_names() or metric.startswith((*APP_METRIC_PREFIXES, COLLECTOR_PREFIX)), (
            f"{query.key}: unknown metric {metric}"
        )
        assert {label for label, _, _ in matchers} <= LABELS, f"{query.key}: unknown label in {matchers}"


def test_every_recording_rule_a_dashboard_uses_exists() -> None:
    used = {
        metric
        for query in PROMETHEUS_QUERIES
        for metric, _ in selectors(substitute(query.expr, all_variables(load_dashboards()[query.dashboard + ".json"])))
        if ":" in metric
    }
    assert used, "the dashboards should use the recording rules for their heavy queries"
    assert used <= recorded_names(), used - recorded_names()


def test_latency_panels_carry_exemplars_and_the_design_thresholds() -> None:
    api = {p["title"]: p for p in DASHBOARDS["chatbot-api.json"]["panels"]}
    latency = api["Latency percentiles"]
    assert any(target["exemplar"] for target in latency["targets"])
    steps = [step["value"] for step in latency["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert 0.2 in steps and 0.5 in steps, "p95 200 ms and p99 500 ms"
    assert {t["legendFormat"] for t in latency["targets"]} == {"p50", "p90", "p95", "p99"}
    genai = {p["title"]: p for p in DASHBOARDS["chatbot-genai.json"]["panels"]}
    assert any(target["exemplar"] for target in genai["GenAI latency percentiles"]["targets"])


def test_datasources_are_provisioned_with_the_uids_the_dashboards_use() -> None:
    config = yaml.safe_load((PROVISIONING_DIR / "datasources" / "datasources.yaml").read_text())
    by_uid = {ds["uid"]: ds for ds in config["datasources"]}
    assert set(by_uid) == {"prometheus", "tempo"}
    used = {q.datasource_uid for q in panel_queries(DASHBOARDS)}
    assert used <= set(by_uid)
    exemplars = by_uid["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert exemplars == [{"name": "trace_id", "datasourceUid": "tempo", "urlDisplayLabel": "Open trace in Tempo"}]
    to_metrics = by_uid["tempo"]["jsonData"]["tracesToMetrics"]
    assert to_metrics["datasourceUid"] == "prometheus"
    for named in to_metrics["queries"]:
        # Grafana expands $$ to a literal $ in provisioning files; $__tags becomes label matchers.
        expr = named["query"].replace("$$__tags", 'job="chatbot"')
        promql_parser.parse(expr)
    providers = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "dashboards.yaml").read_text())["providers"]
    assert [p["options"]["path"] for p in providers] == ["/etc/grafana/dashboards"]
    assert DASHBOARD_DIR.is_dir()


def test_annotation_queries_parse() -> None:
    for name, dashboard in DASHBOARDS.items():
        for annotation in dashboard["annotations"]["list"]:
            if "expr" in annotation:
                assert annotation["datasource"]["uid"] == "prometheus", name
                promql_parser.parse(substitute(annotation["expr"], all_variables(dashboard)))


def test_every_recording_rule_is_used_by_a_panel_or_a_rule() -> None:
    from stack_lib import load_rules

    used = {
        metric
        for query in PROMETHEUS_QUERIES
        for metric, _ in selectors(substitute(query.expr, all_variables(load_dashboards()[query.dashboard + ".json"])))
    }
    used |= {metric for rule in load_rules() for metric, _ in selectors(rule["expr"])}
    assert recorded_names() <= used, f"recorded but never read: {sorted(recorded_names() - used)}"

"""The CloudWatch dashboard and alarms use only metrics the collector's awsemf exporter publishes.

awsemf (collector/config.yaml) publishes a metric under exactly the dimension sets its
``metric_declarations`` give it (NoDimensionRollup), in the configured namespace, with the OTel
metric name.  Every widget metric, Metrics Insights query and alarm metric here must name such a
metric with exactly one of those dimension sets, or CloudWatch has no data for it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml
from stack_lib import (
    CLOUDWATCH_DIR,
    COLLECTOR_CONFIG,
    INSIGHTS_QUERY,
    NEEDS_COLLECTOR_CHANGE,
    REPO,
    alarm_metrics,
    tool,
    widget_metrics,
)

AWSEMF = yaml.safe_load(COLLECTOR_CONFIG.read_text())["exporters"]["awsemf"]
NAMESPACE = re.fullmatch(r"\$\{env:\w+:-(\w+)\}", AWSEMF["namespace"]).group(1)  # type: ignore[union-attr]
DASHBOARD = json.loads((CLOUDWATCH_DIR / "dashboard.json").read_text())
TEMPLATE = json.loads((CLOUDWATCH_DIR / "chatbot-observability.cfn.json").read_text())


# Alarms that wait for a collector change (the metric exists, the dimension set does not yet).
def declared() -> dict[str, list[frozenset[str]]]:
    """metric name pattern -> the dimension sets awsemf publishes it with."""
    sets: dict[str, list[frozenset[str]]] = {}
    for declaration in AWSEMF["metric_declarations"]:
        for selector in declaration["metric_name_selectors"]:
            sets.setdefault(selector, []).extend(frozenset(d) for d in declaration["dimensions"])
    return sets


def dimension_sets(metric: str) -> list[frozenset[str]]:
    return [dims for selector, sets in declared().items() if re.search(selector, metric) for dims in sets]


def check(metric: str, dims: set[str], where: str) -> None:
    sets = dimension_sets(metric)
    assert sets, f"{where}: {metric} has no awsemf metric_declaration, so it is not a CloudWatch metric"
    assert frozenset(dims) in sets, (
        f"{where}: {metric} is published with {sorted(map(sorted, sets))}, not {sorted(dims)}"
    )


def test_the_files_are_what_the_generator_writes() -> None:
    proc = subprocess.run(
        [sys.executable, str(CLOUDWATCH_DIR / "generate.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_the_collector_publishes_without_rollup_in_the_dashboards_namespace() -> None:
    assert "NoDimensionRollup" in AWSEMF["dimension_rollup_option"]
    assert TEMPLATE["Parameters"]["Namespace"]["Default"] == NAMESPACE


def test_the_dashboard_has_the_widgets_the_design_lists() -> None:
    titles = " | ".join(w["properties"]["title"] for w in DASHBOARD["widgets"] if w["type"] == "metric").lower()
    # the design's "Bedrock" widgets cover every GenAI provider, with a row comparing them
    for needed in ("qps", "latency", "success vs error", "genai latency", "tokens", "concurrency", "cpu and memory"):
        assert needed in titles, needed
    for compared in ("calls", "latency", "time to first token", "tokens", "cost"):
        assert any(compared in t and t.endswith(("by provider", "by provider (average)", "by provider (usd)"))
                   for t in titles.split(" | ")), compared


def test_every_dashboard_metric_is_a_published_emf_metric() -> None:
    rows, queries = widget_metrics(DASHBOARD)
    assert rows and queries
    for namespace, metric, dims in rows:
        if namespace.startswith("AWS/"):
            continue  # AWS's own metrics (ECS CPU and memory)
        assert namespace == NAMESPACE
        check(metric, set(dims), f"dashboard metric {metric}")
        assert dims.get("service.name") == "chatbot"
    for query in queries:
        match = INSIGHTS_QUERY.match(query)
        assert match, f"unexpected Metrics Insights query: {query}"
        assert match["ns"] == NAMESPACE
        dims = set(re.findall(r'"([^"]+)"', match["dims"]))
        check(match["metric"], dims, f"query {query}")
        used = set(re.findall(r'"([^"]+)"', (match["where"] or "") + " " + (match["group"] or "")))
        assert used <= dims, f"{query}: filters or groups by {used - dims}, not in its schema"


ALARMS = sorted(name for name, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm")


def test_the_alarms_the_design_asks_for() -> None:
    assert ALARMS == [
        "BedrockTimeoutAlarm",
        "ErrorRateAlarm",
        "FailoverExhaustedAlarm",
        "LatencyAlarm",
        "TelemetryDroppedAlarm",
    ]
    latency = TEMPLATE["Resources"]["LatencyAlarm"]["Properties"]
    assert latency["Threshold"] == 2.0  # seconds: the metric's unit is Seconds (metric_descriptors)
    units = {d["metric_name"]: d["unit"] for d in AWSEMF["metric_descriptors"]}
    assert units["http.server.request.duration"] == "Seconds"
    assert TEMPLATE["Resources"]["ErrorRateAlarm"]["Properties"]["Threshold"] == 1.0  # percent


@pytest.mark.parametrize(
    "alarm",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NEEDS_COLLECTOR_CHANGE[name]))
        if name in NEEDS_COLLECTOR_CHANGE
        else name
        for name in ALARMS
    ],
)
def test_every_alarm_metric_is_a_published_emf_metric(alarm: str) -> None:
    metrics = alarm_metrics(alarm)
    assert metrics
    for metric, dims in metrics:
        check(metric, dims, f"{alarm}")


def test_template_references_resolve() -> None:
    names = set(TEMPLATE["Parameters"]) | set(TEMPLATE["Resources"]) | {"AWS::Region", "AWS::NoValue", "AWS::AccountId"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Ref" in node:
                assert node["Ref"] in names, node
            if "Fn::Sub" in node:
                for variable in re.findall(r"\$\{([^}!]+)\}", node["Fn::Sub"]):
                    assert variable in names, f"Fn::Sub uses ${{{variable}}}"
            if "Fn::If" in node:
                assert node["Fn::If"][0] in TEMPLATE["Conditions"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(TEMPLATE["Resources"])
    walk(TEMPLATE["Outputs"])
    body = json.loads(TEMPLATE["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
    assert len(body["widgets"]) == len(DASHBOARD["widgets"])


def test_the_compose_profile_deploys_this_template() -> None:
    script = (CLOUDWATCH_DIR / "deploy.sh").read_text()
    assert "chatbot-observability.cfn.json" in script
    compose = (REPO / "docker-compose.yml").read_text()
    assert "./cloudwatch:/cloudwatch:ro" in compose and "/cloudwatch/deploy.sh" in compose


def test_cfn_lint_accepts_the_template() -> None:
    cfn_lint = tool("cfn-lint")
    if cfn_lint is None:
        pytest.skip("cfn-lint is not installed (pip install cfn-lint) -- the template's references are checked above")
    proc = subprocess.run(
        [cfn_lint, str(CLOUDWATCH_DIR / "chatbot-observability.cfn.json")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

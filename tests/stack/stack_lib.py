"""What the stack tests share: where things are, loading dashboards and rules, PromQL walking."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DASHBOARD_DIR = REPO / "dashboards" / "grafana"
PROVISIONING_DIR = REPO / "dashboards" / "provisioning"
PROMETHEUS_DIR = REPO / "prometheus"
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.test.yml"))
CLOUDWATCH_DIR = REPO / "cloudwatch"
COLLECTOR_CONFIG = REPO / "collector" / "config.yaml"

# Grafana's built-in variables and what a query is checked with.  The rate interval is
# short because the end-to-end test checks queries right after a short workload.
BUILTIN_VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "5m",
    "__range_s": "300",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def tool(name: str) -> str | None:
    """A console script of the venv running the tests, else one on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else shutil.which(name)


def load_dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    datasource_uid: str
    expr: str

    @property
    def key(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref_id}"


def panel_queries(dashboards: dict[str, dict[str, Any]] | None = None) -> Iterator[PanelQuery]:
    for dashboard in (dashboards or load_dashboards()).values():
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                uid = (target.get("datasource") or panel.get("datasource") or {}).get("uid", "")
                expr = target.get("expr") or target.get("query") or ""
                yield PanelQuery(dashboard["uid"], panel["title"], target["refId"], uid, expr)


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Replace $var / ${var} / ${var:fmt} with values (template variables, then built-ins)."""
    values = {**BUILTIN_VARIABLES, **variables}

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(repl, expr)


def all_variables(dashboard: dict[str, Any]) -> dict[str, str]:
    """Every template variable at its "All" value (the regex .*)."""
    return {v["name"]: v.get("allValue") or ".*" for v in dashboard["templating"]["list"]}


def selectors(expr: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(metric name, [(label, op, value)]) of every vector selector in a PromQL expression."""
    found: list[tuple[str, list[tuple[str, str, str]]]] = []

    def walk(node: Any) -> None:
        if type(node).__name__ == "VectorSelector":
            matchers = [(m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers]
            found.append((node.name or "", matchers))
            return
        for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (int, float, str)):
                walk(child)
        for arg in getattr(node, "args", None) or []:
            walk(arg)

    walk(promql_parser.parse(expr))
    return found


def load_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                rules.append({**rule, "file": path.name, "group": group["name"]})
    return rules


def recorded_names() -> set[str]:
    return {rule["record"] for rule in load_rules() if "record" in rule}


# -- CloudWatch --------------------------------------------------------------------------------

INSIGHTS_QUERY = re.compile(
    r'^SELECT (AVG|SUM|COUNT|MIN|MAX)\("(?P<metric>[^"]+)"\) FROM SCHEMA\("(?P<ns>[^"]+)", (?P<dims>"[^)]*")\)'
    r"(?: WHERE (?P<where>.*?))?(?: GROUP BY (?P<group>.*))?$"
)

NEEDS_COLLECTOR_CHANGE: dict[str, str] = {}


def cloudwatch_dashboard() -> dict[str, Any]:
    return dict(json.loads((CLOUDWATCH_DIR / "dashboard.json").read_text()))


def cloudwatch_template() -> dict[str, Any]:
    return dict(json.loads((CLOUDWATCH_DIR / "chatbot-observability.cfn.json").read_text()))


def widget_metrics(body: dict[str, Any]) -> tuple[list[tuple[str, str, dict[str, str]]], list[str]]:
    """([(namespace, metric, dimensions)], [Metrics Insights queries]) of a dashboard body."""
    rows, queries = [], []
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], dict):
                expression = row[0]["expression"]
                if expression.startswith("SELECT"):
                    queries.append(expression)
                continue
            values = [item for item in row if not isinstance(item, dict)]
            namespace, metric, *pairs = values
            rows.append((namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return rows, queries


def alarm_metrics(name: str) -> list[tuple[str, set[str]]]:
    found = []
    for entry in cloudwatch_template()["Resources"][name]["Properties"]["Metrics"]:
        if "MetricStat" in entry:
            metric = entry["MetricStat"]["Metric"]
            assert metric["Namespace"] == {"Ref": "Namespace"}
            found.append((metric["MetricName"], {d["Name"] for d in metric["Dimensions"]}))
    return found


def cloudwatch_metric_uses() -> list[tuple[str, str, frozenset[str]]]:
    """(where, EMF metric name, dimension set) of every dashboard widget, Metrics Insights query and
    alarm metric in our namespace (AWS/* metrics such as ECS CPU are not EMF)."""
    rows, queries = widget_metrics(cloudwatch_dashboard())
    uses = [(f"widget {m}", m, frozenset(dims)) for ns, m, dims in rows if not ns.startswith("AWS/")]
    for query in queries:
        match = INSIGHTS_QUERY.match(query)
        assert match, query
        uses.append((f"query {query}", match["metric"], frozenset(re.findall(r'"([^"]+)"', match["dims"]))))
    for name, resource in cloudwatch_template()["Resources"].items():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            uses += [(f"alarm {name}", metric, frozenset(dims)) for metric, dims in alarm_metrics(name)]
    return uses

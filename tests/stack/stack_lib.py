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

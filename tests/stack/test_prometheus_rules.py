"""Prometheus rules: promtool accepts them, and every alert has a unit test that fires and one that stays silent.

promtool comes with Debian's `prometheus` package (scripts/install_system_deps.sh installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from stack_lib import PROMETHEUS_DIR, RULE_FILES, RULE_TESTS, load_rules, selectors

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (scripts/install_system_deps.sh installs Debian's prometheus)"
)
RULES = load_rules()
ALERTS = [rule for rule in RULES if "alert" in rule]
DESIGN_ALERTS = {
    "ChatbotHighLatencyP95",
    "ChatbotHighErrorRate",
    "ChatbotBedrockTimeouts",
    "ChatbotBedrockThrottling",
    "ChatbotLowThroughput",
    "ChatbotTrafficStopped",
    "ChatbotTelemetryDropped",  # issue 15: the app's export queues dropped spans or log records
    "ChatbotAvailabilitySLOBudgetBurnFast",
    "ChatbotAvailabilitySLOBudgetBurnSlow",
    "ChatbotLatencySLOBudgetBurnFast",
    "ChatbotLatencySLOBudgetBurnSlow",
    "ChatbotStreamCancellations",
    "ChatbotStreamSlowFirstByte",
    "ChatbotCacheHitRateLow",
    "ChatbotFailoverRateHigh",
    "ChatbotFailoverExhausted",
    "ChatbotNegativeFeedback",
    "ChatbotEventLoopLag",
}


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=300, check=False, cwd=PROMETHEUS_DIR
    )


@needs_promtool
def test_promtool_check_rules() -> None:
    proc = promtool("check", "rules", *RULE_FILES)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_promtool_check_config() -> None:
    proc = promtool("check", "config", "--syntax-only", PROMETHEUS_DIR / "prometheus.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_promtool
def test_promtool_test_rules() -> None:
    assert RULE_TESTS
    proc = promtool("test", "rules", *RULE_TESTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_the_design_alerts_exist() -> None:
    assert {rule["alert"] for rule in ALERTS} == DESIGN_ALERTS


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.get("alert") or r.get("record"))
def test_every_rule_parses(rule: dict[str, Any]) -> None:
    promql_parser.parse(rule["expr"])


@pytest.mark.parametrize("alert", ALERTS, ids=lambda r: r["alert"])
def test_every_alert_has_summary_description_runbook_and_severity(alert: dict[str, Any]) -> None:
    annotations = alert["annotations"]
    for key in ("summary", "description", "runbook", "runbook_url"):
        assert str(annotations.get(key, "")).strip(), f"{alert['alert']}: no {key}"
    assert annotations["runbook_url"] == f"docs/stack.md#{alert['alert'].lower()}"
    assert alert["labels"]["severity"] in {"critical", "warning", "info"}


def _alert_tests() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in RULE_TESTS:
        document = yaml.safe_load(path.read_text())
        for rule_file in document["rule_files"]:
            assert (path.parent / rule_file).resolve() in {p.resolve() for p in RULE_FILES}
        for test in document["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.append((test["name"], case))
    return cases


@pytest.mark.parametrize("alert", sorted(DESIGN_ALERTS))
def test_every_alert_has_a_unit_test_that_fires_and_one_that_stays_silent(alert: str) -> None:
    cases = [case for _, case in _alert_tests() if case["alertname"] == alert]
    fires = [case for case in cases if case["exp_alerts"]]
    silent = [case for case in cases if not case["exp_alerts"]]
    assert fires, f"{alert}: no promtool test in which it fires"
    assert silent, f"{alert}: no promtool test in which it stays silent"
    for case in fires:
        for expected in case["exp_alerts"]:
            assert expected["exp_annotations"]["summary"], "the rendered annotations are checked too"


def test_slo_alerts_are_multi_window_multi_burn_rate() -> None:
    for alert in ALERTS:
        name = alert["alert"]
        if "SLOBudgetBurn" not in name:
            continue
        windows = {metric.rsplit(":rate", 1)[1] for metric, _ in selectors(alert["expr"])}
        expected = {"1h", "5m", "6h", "30m"} if name.endswith("Fast") else {"1d", "2h", "3d", "6h"}
        assert windows == expected, f"{name}: windows {windows}"


def test_every_runbook_url_points_at_a_section_of_the_stack_docs() -> None:
    docs = (PROMETHEUS_DIR.parent / "docs" / "stack.md").read_text()
    headings = {line[4:].strip().lower() for line in docs.splitlines() if line.startswith("### ")}
    for alert in ALERTS:
        anchor = alert["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in headings, f"{alert['alert']}: no '### {alert['alert']}' section in docs/stack.md"

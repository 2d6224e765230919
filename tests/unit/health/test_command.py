"""``otel-chatbot health`` end to end in process: only the parts given, --json, --watch, the stats check."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from otel_chatbot import cli
from otel_chatbot.config import load_settings
from otel_chatbot.telemetry import build
from tests.unit.health.routes_server import Answer, RoutesServer


@pytest.fixture
def app() -> Iterator[RoutesServer]:
    with RoutesServer({"GET /health": Answer(200, b"{}"), "GET /healthz": Answer(200, b"{}")}) as server:
        yield server


def test_the_app_url_alone_checks_the_app(app: RoutesServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["health", app.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["CHECK", "STATUS", "TIME", "DETAIL"]
    assert out[1].startswith("app ") and out[-1] == "overall: healthy (exit 0)"
    assert len(out) == 3
    assert [path for _, path, _, _ in app.requests] == ["/health"]


def test_a_failing_part_sets_the_exit_code(app: RoutesServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["health", app.url, "--collector", "http://127.0.0.1:1/", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["status"]) for c in report["checks"]] == [("app", "ok"), ("collector", "degraded")]
    assert cli.main(["health", "http://127.0.0.1:1", "--health-path", "/healthz", "--json", "--timeout", "1"]) == 2


def test_watch_repeats_every_n_seconds(app: RoutesServer, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert cli.main(["health", app.url, "--health-path", "/healthz", "--json", "--watch", "0.2", "--count", "3"]) == 0
    assert time.monotonic() - started >= 0.4
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["status"] == "healthy" for line in lines)


def test_the_stats_endpoint_check(capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(
        {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", "stats_port": 0}, environ={}
    )
    telemetry = build(settings)
    try:
        assert cli.main(["health", "--stats", telemetry.stats_url or "", "--json"]) == 0
    finally:
        telemetry.shutdown()
    (check,) = json.loads(capsys.readouterr().out)["checks"]
    assert check["name"] == "stats" and check["message"].startswith("sample ")
    assert cli.main(["health", "--stats", telemetry.stats_url or "", "--json", "--timeout", "1"]) == 1


def test_nothing_to_check_and_a_chat_without_an_app_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["health"]) == 2
    assert "nothing to check" in capsys.readouterr().err
    assert cli.main(["health", "--chat-path", "/chat/x", "--stats", "http://127.0.0.1:1"]) == 2
    assert "--chat-path needs APP_URL" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--chat-body", "{not json"], ["--timeout", "0"], ["--watch", "1", "--count", "0"]])
def test_bad_arguments_are_refused(bad: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["health", "http://app", *bad])
    assert exit_info.value.code == 2

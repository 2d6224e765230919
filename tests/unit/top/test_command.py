"""``otel-chatbot top`` against a real stats endpoint: --once --json, --once, and its failures."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator

import pytest

from otel_chatbot import cli
from otel_chatbot.config import load_settings
from otel_chatbot.stats import names as n
from otel_chatbot.telemetry import Telemetry, build


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    settings = load_settings(
        {"traces_exporter": "none", "metrics_exporter": "none", "logs_exporter": "none", "stats_port": 0},
        environ={},
    )
    telemetry: Telemetry = build(settings)
    assert telemetry.meter_provider is not None and telemetry.stats_url is not None
    histogram = telemetry.meter_provider.get_meter("test").create_histogram(n.HTTP_DURATION)
    for _ in range(4):
        histogram.record(0.2, {n.METHOD: "POST", n.ROUTE: "/chat/{session}", n.STATUS: 200})
    time.sleep(1.2)  # the next sample
    yield telemetry.stats_url
    telemetry.shutdown()


def test_once_json_prints_the_view_for_scripts(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["top", endpoint, "--once", "--json", "--window", "10"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["window_requested_s"] == 10
    assert document["since_start"]["http"]["overall"]["requests"] == 4


def test_once_prints_one_screen(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["top", endpoint, "--once"]) == 0
    out = capsys.readouterr().out
    assert "requests since start 4, errors 0" in out and "/chat/{session}" in out


def test_the_url_defaults_to_the_settings_variables(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = endpoint.rstrip("/").rsplit(":", 1)[1]
    monkeypatch.setenv("OTEL_CHATBOT_STATS_PORT", port)
    assert cli.main(["top", "--once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["since_start"]["http"]["overall"]["requests"] == 4
    monkeypatch.delenv("OTEL_CHATBOT_STATS_PORT")
    assert cli.main(["top", "--once"]) == 2
    assert "give the stats endpoint's URL" in capsys.readouterr().err


def test_an_unreachable_endpoint_fails_once_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["top", "http://127.0.0.1:1", "--once", "--json", "--timeout", "2"]) == 1
    assert "cannot reach http://127.0.0.1:1/stats" in capsys.readouterr().err


def test_without_rich_the_screen_gives_an_install_hint(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rich.live", None)  # importing it raises ImportError
    assert cli.main(["top", endpoint]) == 2
    assert "pip install 'otel-chatbot[top]'" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--window", "0"], ["--window", "301"], ["--interval", "0"]])
def test_bad_arguments_are_refused(bad: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["top", *bad])
    assert exit_info.value.code == 2

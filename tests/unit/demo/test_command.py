"""The ``otel-chatbot`` command line, the demo's options and its signal handling (nothing started)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from otel_chatbot import cli
from otel_chatbot.demo.run import DEFAULT_OUTPUT, DemoOptions, telemetry_settings
from otel_chatbot.demo.signals import StopSignals


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in cli.COMMANDS:
        assert command.name in out


def test_a_subcommand_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_demo_arguments() -> None:
    args = cli.build_parser().parse_args(
        ["demo", "--requests", "5", "--duration", "2.5", "--output", "out", "--keep-running", "--quiet"]
    )
    assert (args.requests, args.duration, args.output, args.keep_running, args.quiet) == (
        5,
        2.5,
        Path("out"),
        True,
        True,
    )
    defaults = cli.build_parser().parse_args(["demo"])
    assert (defaults.requests, defaults.sessions, defaults.output, defaults.otlp_endpoint) == (
        60,
        4,
        DEFAULT_OUTPUT,
        None,
    )


@pytest.mark.parametrize("bad", [["--requests", "0"], ["--requests", "x"], ["--duration", "-1"], ["--sessions", "0"]])
def test_demo_rejects_bad_numbers(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["demo", *bad])
    assert exit_info.value.code == 2


def test_a_command_is_one_row_of_the_table() -> None:
    extra = cli.Command("again", "otel_chatbot.demo.command", "the demo under another name")
    args = cli.build_parser((*cli.COMMANDS, extra)).parse_args(["again", "--requests", "3"])
    assert args.requests == 3 and callable(args.run)


def test_demo_telemetry_stays_local_unless_a_collector_is_given() -> None:
    local = telemetry_settings(DemoOptions())
    assert local["traces_exporter"] == ("none",) and local["metrics_exporter"] == ("prometheus",)
    assert local["logs_exporter"] == ("none",) and local["prometheus_port"] == 0
    assert local["stats_port"] == 0  # the live page, on a free loopback port
    remote = telemetry_settings(DemoOptions(otlp_endpoint="http://127.0.0.1:4318"))
    assert remote["traces_exporter"] == ("otlp",) and "otlp" in remote["metrics_exporter"]
    assert remote["otlp_endpoint"] == "http://127.0.0.1:4318"


def test_demo_settings_are_valid_settings() -> None:
    from otel_chatbot.config import load_settings

    settings = load_settings(telemetry_settings(DemoOptions()), environ={})
    assert settings.service_name == "chatbot-demo"
    # The app calls Ollama through httpx and OpenAI/Anthropic through httpx2 (their SDKs): both on.
    assert settings.instrumentation_enabled("httpx") and settings.instrumentation_enabled("httpx2")
    assert settings.instrumentation_enabled("genai-http")


def test_first_signal_asks_for_a_clean_stop() -> None:
    before = signal.getsignal(signal.SIGTERM)
    stop = StopSignals().install()
    called: list[bool] = []
    stop.on_stop(lambda: called.append(True))
    try:
        assert stop.exit_code == 0
        os.kill(os.getpid(), signal.SIGTERM)
        stop.wait(poll_s=0.01)
    finally:
        stop.restore()
    assert stop.requested.is_set() and called == [True]
    assert stop.exit_code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before

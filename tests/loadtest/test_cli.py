"""The command line's ``compare`` and ``show`` (pure), and ``run``'s argument checks (no Locust)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.loadtest.__main__ import main
from bench.loadtest.schema import dump
from tests.loadtest.builders import endpoint, level, run


@pytest.fixture
def results(tmp_path: Path) -> tuple[Path, Path]:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    dump(run(level(10, (endpoint(rps=100.0),)), label="before"), before)
    dump(run(level(10, (endpoint(rps=70.0),)), label="after"), after)
    return before, after


def test_compare_exit_codes(results: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before, after = results
    assert main(["compare", str(before), str(before)]) == 0
    assert "**Verdict: PASS**" in capsys.readouterr().out
    assert main(["compare", str(before), str(after)]) == 1
    assert "throughput 100.0 -> 70.0 req/s (-30 %)" in capsys.readouterr().out
    assert main(["compare", str(before), str(after), "--max-throughput-drop", "40"]) == 0


def test_compare_thresholds_come_from_the_command_line(
    results: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before, _ = results
    assert main(["compare", str(before), str(before), "--p95-ms", "5", "--p99-ms", "1000"]) == 1
    out = capsys.readouterr().out
    assert "SLO: p95 < 5 ms, p99 < 1000 ms" in out and "p95 11.0 ms >= 5 ms" in out


def test_unreadable_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "otel_chatbot.loadtest/1"}')
    assert main(["compare", str(bad), str(bad)]) == 2
    assert "bad.json: $.levels: missing" in capsys.readouterr().err
    assert main(["show", str(tmp_path / "absent.json")]) == 2


def test_show_prints_the_table(results: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(results[0])]) == 0
    out = capsys.readouterr().out
    assert "| 10 | POST /chat/{session_id} | 3000 | 100.0 | 0.00 % | 5.0 | 9.0 | 11.0 | 17.5 | 30.0 | - |" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "argument --users: user counts must be positive integers"),
        (["--users", "10,10"], "argument --users: user counts repeat"),
        (["--duration", "soon"], "argument --duration: not a duration"),
        (["--spawn-rate", "0"], "argument --spawn-rate: must be positive"),
        (["--think-time", "-1"], "argument --think-time: must not be negative"),
        (["--scenario", "grpc"], "argument --scenario: invalid choice"),
    ],
)
def test_run_arguments_are_checked_before_locust_is_imported(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert "locust" not in sys.modules  # importing it would gevent-patch the test process

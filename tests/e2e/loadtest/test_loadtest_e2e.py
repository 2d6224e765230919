"""The load-test tool end to end: real Locust runs against the example chatbot on loopback.

The chatbot runs under uvicorn in a subprocess (port chosen by the OS) with Bedrock served by
the in-process fake. The tool runs as users run it, ``python -m bench.loadtest`` in a
subprocess: importing Locust monkey-patches the whole process with gevent, which must never
happen inside pytest. Each run is tiny (2 users, 3 s) and bounded by a subprocess timeout.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.loadtest.schema import load
from otel_chatbot.testing.bedrock import BedrockServer

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
APP = "otel_chatbot.demo.chatbot.app:app"
RUN_TIMEOUT_S = 60.0
_RUNNING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")
# The developer's shell must not change what the app does or where anything exports.
_FOREIGN_PREFIXES = ("OTEL_", "AWS_", "CHATBOT_", "BEDROCK_", "PYTHONWARNINGS")

EXPECTED_KEYS = {
    "rest": {"POST /chat/{session_id}"},
    "sse": {"POST /chat/{session_id}/stream"},
    "ws": {"WS /ws/chat/{session_id}", "WS connect /ws/chat/{session_id}"},
}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
    return {**env, **extra}


@pytest.fixture(scope="module")
def chatbot(bedrock_server: BedrockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example app under uvicorn; yields its base URL; stopped (then killed) at the end."""
    log_path = tmp_path_factory.mktemp("chatbot") / "uvicorn.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", "0", "--no-access-log"],
            cwd=REPO,
            env=_clean_env(BEDROCK_ENDPOINT_URL=bedrock_server.endpoint_url),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30.0
        while not (found := _RUNNING.search(log_path.read_text(errors="replace"))):
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.05)
        yield found.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10.0)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5.0)


def loadtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "bench.loadtest", *args],
        cwd=REPO,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _run(chatbot: str, scenario: str, out: Path, users: str = "2") -> subprocess.CompletedProcess[str]:
    return loadtest(
        "run",
        *("--host", chatbot, "--scenario", scenario, "--users", users),
        *("--spawn-rate", "4", "--duration", "3s", "--out", str(out), "--label", scenario),
    )


@pytest.mark.parametrize("scenario", ["rest", "sse", "ws"])
def test_each_scenario_runs_clean_and_writes_a_valid_result(chatbot: str, scenario: str, tmp_path: Path) -> None:
    out = tmp_path / f"{scenario}.json"
    done = _run(chatbot, scenario, out)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("steady") >= 2, done.stderr  # a progress line per second
    assert "| users | endpoint |" in done.stdout

    result = load(out)  # validates the schema
    assert (result.scenario, result.label, result.host) == (scenario, scenario, chatbot)
    (level,) = result.levels
    assert level.users == 2 and level.duration_s >= 3.0 and level.user_errors == 0
    assert {e.key for e in level.endpoints} == EXPECTED_KEYS[scenario]
    assert level.total.requests > 0 and level.total.failures == 0, level.total.errors
    for e in level.endpoints:
        assert e.requests > 0 and e.failures == 0 and e.latency_ms is not None and e.histogram
    turns = next(e for e in level.endpoints if not e.key.startswith("WS connect"))
    if scenario in ("sse", "ws"):
        assert turns.first_event_ms is not None
        assert turns.latency_ms is not None and turns.first_event_ms.p50 <= turns.latency_ms.max

    shown = loadtest("show", str(out))
    assert shown.returncode == 0 and shown.stdout.strip() == done.stdout.strip()

    report = loadtest("compare", str(out), str(out))
    assert report.returncode == 0, report.stdout + report.stderr
    assert "**Verdict: PASS**" in report.stdout and ", 0 regressions, 0 SLO breaches." in report.stdout


def test_mixed_scenario_two_levels_then_compare_against_a_stricter_slo(chatbot: str, tmp_path: Path) -> None:
    out = tmp_path / "mixed.json"
    done = _run(chatbot, "mixed", out, users="3,6")
    assert done.returncode == 0, done.stderr
    result = load(out)
    assert [lv.users for lv in result.levels] == [3, 6]
    for level in result.levels:
        assert {e.key for e in level.endpoints} == set().union(*EXPECTED_KEYS.values())
        assert level.total.failures == 0 and level.total.requests == sum(e.requests for e in level.endpoints)

    strict = loadtest("compare", str(out), str(out), "--p95-ms", "0.001")
    assert strict.returncode == 1
    assert "SLO BREACH" in strict.stdout and "0 regressions" in strict.stdout


def test_an_unreachable_host_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        done = loadtest("run", "--host", f"http://127.0.0.1:{port}", "--users", "1", "--out", str(tmp_path / "x.json"))
    assert done.returncode == 2
    assert "cannot reach" in done.stderr
    assert not (tmp_path / "x.json").exists()

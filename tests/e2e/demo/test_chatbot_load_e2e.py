"""The example app under a real ``uvicorn`` subprocess (no telemetry) driven by the scripted load.

Checks the app and the load against each other over real sockets, WebSocket included, with
Bedrock played by the local server speaking the real wire protocol.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_chatbot.demo.chatbot.load import run_load
from otel_chatbot.demo.chatbot.load_plan import WS_TURNS, counts
from otel_chatbot.demo.servers import free_port
from otel_chatbot.testing.bedrock import BedrockServer

UVICORN_APP = (sys.executable, "-m", "uvicorn", "otel_chatbot.demo.chatbot.app:app")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app_url(bedrock_server: BedrockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OTEL_", "AWS_"))}
    env["BEDROCK_ENDPOINT_URL"] = bedrock_server.endpoint_url
    log = (tmp_path_factory.mktemp("uvicorn") / "uvicorn.log").open("w")
    process = subprocess.Popen(
        [*UVICORN_APP, "--port", str(port), "--log-level", "warning"],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def test_every_route_answers_as_planned(app_url: str, bedrock_server: BedrockServer) -> None:
    calls_before = bedrock_server.ledger.snapshot()["totals"]["calls"]
    report = asyncio.run(run_load(app_url, requests=80, sessions=5, duration_s=60))
    assert report.ok, report.render()
    assert report.sent == 80
    planned = counts(80)
    assert report.counts["WS /ws/chat/{session_id}"] == {"done": planned["ws"]}
    streams = {"200": planned["stream"], "left": planned["stream_leave"]}
    assert report.counts["POST /chat/{session_id}/stream"] == streams
    clients = report.clients
    assert (clients.streams_read, clients.streams_left, clients.streams_broken) == (
        planned["stream"],
        planned["stream_leave"],
        0,
    )
    assert clients.websockets == planned["ws"]
    assert clients.ws_sent == clients.ws_turns == planned["ws"] * WS_TURNS
    assert clients.ws_received > clients.ws_turns  # chunks, then done, per turn
    # Every chat turn reaches Bedrock (a WebSocket conversation has WS_TURNS), and so does each
    # unknown-model turn, which Bedrock refuses.
    turns = ("chat", "handbook_chat", "stream", "stream_leave", "agent", "v1_chat", "bad_model")
    calls = sum(planned[name] for name in turns) + planned["ws"] * WS_TURNS
    assert bedrock_server.ledger.snapshot()["totals"]["calls"] - calls_before == calls


def test_the_load_command(app_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "otel_chatbot.demo.chatbot.load", "--url", app_url, "--requests", "30", "--wait", "10"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sent 30 requests" in done.stdout and "unexpected 0" in done.stdout

"""``otel-chatbot top`` in a real terminal (tmux): it shows a known workload's numbers and updates.

The command runs in a detached tmux session, 200 columns wide, as a person would start it;
``tmux capture-pane`` reads the screen. The app is the example chatbot under
``opentelemetry-instrument`` with its live view on.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stats.live_app import MORE, WORKLOAD, LiveApp

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

TOP = Path(sys.executable).parent / "otel-chatbot"
WAIT_S = 15.0


class Terminal:
    """One detached tmux session running one command."""

    def __init__(self, tmux: str, command: str) -> None:
        self.tmux = tmux
        self.name = f"otel-chatbot-top-{uuid.uuid4().hex[:8]}"
        self._run("new-session", "-d", "-s", self.name, "-x", "200", "-y", "60", command)

    def _run(self, *args: str) -> str:
        return subprocess.run(
            [self.tmux, *args], check=True, capture_output=True, text=True, timeout=10, env={"TERM": "xterm-256color"}
        ).stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + WAIT_S
        while text not in (screen := self.screen()):
            assert time.monotonic() < deadline, f"{text!r} never appeared; the screen:\n{screen}"
            time.sleep(0.2)
        return screen

    def send_keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", self.name, *keys)

    def alive(self) -> bool:
        return (
            subprocess.run([self.tmux, "has-session", "-t", self.name], capture_output=True, check=False).returncode
            == 0
        )

    def close(self) -> None:
        if self.alive():
            subprocess.run([self.tmux, "kill-session", "-t", self.name], capture_output=True, check=False, timeout=10)


@pytest.fixture
def terminal(live_app: LiveApp) -> Iterator[Terminal]:
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed (scripts/install_system_deps.sh installs Debian's tmux)")
    command = f"{shlex.quote(str(TOP))} top {shlex.quote(live_app.stats_url)} --window 300"
    term = Terminal(tmux, command)
    try:
        yield term
    finally:
        term.close()


def route_row(screen: str, route: str) -> list[str]:
    line = next(line for line in screen.splitlines() if f"│ {route} " in line)
    return [cell.strip() for cell in line.split("│")]


def test_top_shows_the_workload_and_updates_every_second(terminal: Terminal, live_app: LiveApp) -> None:
    first = terminal.wait_for("otel-chatbot top  live-view-app")
    time.sleep(1.5)
    assert terminal.screen().splitlines()[0] != first.splitlines()[0]  # refreshed: the uptime moved on
    live_app.send(WORKLOAD, "top")
    screen = terminal.wait_for(f"requests since start {WORKLOAD.requests}, errors {WORKLOAD.failures}")
    chat = route_row(screen, "/chat/{session_id}")
    assert (chat[0], chat[1], chat[3], chat[4]) == ("POST", "/chat/{session_id}", str(WORKLOAD.chats), "0")
    fail = route_row(screen, "/chat/{session_id}/fail")
    assert (fail[3], fail[4], fail[5]) == (str(WORKLOAD.failures), str(WORKLOAD.failures), "100.0%")
    assert "aws.bedrock │ us.anthropic.claude-3-5-haiku-20241022-v1:0" in screen
    assert f"streams {WORKLOAD.streams} (completed {WORKLOAD.streams})" in screen

    live_app.send(MORE, "top-more")
    screen = terminal.wait_for(f"requests since start {WORKLOAD.requests + MORE.requests}, errors {WORKLOAD.failures}")
    assert route_row(screen, "/chat/{session_id}")[3] == str(WORKLOAD.chats + MORE.chats)

    terminal.send_keys("C-c")
    deadline = time.monotonic() + 5
    while terminal.alive():  # Ctrl-C ends top, and with it the session
        assert time.monotonic() < deadline, terminal.screen()
        time.sleep(0.1)

"""``opentelemetry-instrument`` picks our distro even with ``opentelemetry-distro`` installed.

The upstream pitfall: ``opentelemetry-instrument`` loads the *first* ``opentelemetry_distro``
and the first ``opentelemetry_configurator`` entry point it finds, and which comes first
depends on the order of ``sys.path`` and of directory listings. The normal installation
(both packages in the same site-packages) is what ``test_distro_telemetry.py`` runs; here
a fake distribution on ``PYTHONPATH`` makes opentelemetry-distro's entry points come first
for certain, which is the worst case a user can end up in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_chatbot.testing.otlp_sink import OtlpSink
from tests.e2e.distro.distro_harness import (
    LOGGING_APP,
    REPO,
    Launcher,
    Mode,
    Received,
    chat,
    describe,
    otlp_env,
    recorded_twice,
    send,
    wait_until,
)

pytestmark = pytest.mark.e2e

GROUPS = ("opentelemetry_distro", "opentelemetry_configurator")
UPSTREAM = {
    "opentelemetry_distro": "opentelemetry.distro:OpenTelemetryDistro",
    "opentelemetry_configurator": "opentelemetry.distro:OpenTelemetryConfigurator",
}
OURS = {
    "opentelemetry_distro": "otel_chatbot.distro:ChatbotDistro",
    "opentelemetry_configurator": "otel_chatbot.distro:ChatbotConfigurator",
}


def _entry_point_order(pythonpath: list[Path], cwd: Path) -> dict[str, list[str]]:
    """Both groups' entry points in the order the app process sees them (same ``PYTHONPATH``).

    ``cwd`` should be an empty directory: ``python -c`` puts it first on ``sys.path``,
    where the console scripts the app runs from put their own ``bin`` directory.
    """
    code = (
        "import json; from importlib.metadata import entry_points as e;"
        f"print(json.dumps({{g: [p.value for p in e(group=g)] for g in {list(GROUPS)!r}}}))"
    )
    env = {"PYTHONPATH": os.pathsep.join(map(str, [*pythonpath, REPO])), "PATH": os.defpath}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=30, check=True
    )
    order: dict[str, list[str]] = json.loads(done.stdout)
    return order


@pytest.fixture(scope="module")
def upstream_first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory holding ``zzz_first-0.dist-info`` that re-registers opentelemetry-distro's entry points."""
    root = tmp_path_factory.mktemp("upstream-first")
    info = root / "zzz_first-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zzz-first\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        "[opentelemetry_distro]\n"
        f"distro = {UPSTREAM['opentelemetry_distro']}\n\n"
        "[opentelemetry_configurator]\n"
        f"configurator = {UPSTREAM['opentelemetry_configurator']}\n"
    )
    yield root


def test_opentelemetry_distro_is_installed_beside_ours(tmp_path: Path) -> None:
    """The precondition of the pitfall: both packages register both entry points."""
    for group, values in _entry_point_order([], tmp_path).items():
        assert UPSTREAM[group] in values, f"opentelemetry-distro does not register {group}"
        assert OURS[group] in values, f"otel_chatbot does not register {group}"


def test_the_fake_distribution_puts_upstream_first(upstream_first: Path, tmp_path: Path) -> None:
    for group, values in _entry_point_order([upstream_first], tmp_path).items():
        assert values[0] == UPSTREAM[group], f"{group}: {values}"
        assert OURS[group] in values


def _one_chat(launcher: Launcher, sink: OtlpSink, name: str, pythonpath: list[Path], **env: str) -> Received:
    """Run the app, send one chat turn and return its telemetry once the request's span arrived."""
    app = launcher.start(name, Mode.AUTO, app=LOGGING_APP, telemetry=otlp_env(sink, **env), pythonpath=pythonpath)
    assert send(app.base_url, chat(f"{name}-1")).status == 200

    def request_span_arrived(received: Received) -> bool:
        return any(span.name == "POST /chat/{session_id}" for span in received.server_spans())

    return wait_until(sink, name, request_span_arrived, timeout_s=10)


def test_pinning_our_distro_wins_even_when_upstream_comes_first(
    launcher: Launcher, otlp_sink: OtlpSink, upstream_first: Path
) -> None:
    """The documented escape hatch: ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR``."""
    received = _one_chat(
        launcher,
        otlp_sink,
        "pinned-upstream-first",
        [upstream_first],
        OTEL_PYTHON_DISTRO="otel_chatbot",
        OTEL_PYTHON_CONFIGURATOR="otel_chatbot",
    )
    (span,) = received.server_spans("/chat/pinned-upstream-first-1")
    assert span.resource.get("telemetry.distro.name") == "otel_chatbot", describe(received.spans)


def test_our_distro_configures_the_process_when_upstream_comes_first(
    launcher: Launcher, otlp_sink: OtlpSink, upstream_first: Path
) -> None:
    received = _one_chat(launcher, otlp_sink, "upstream-first", [upstream_first])
    assert received.server_spans(), "the request was not traced at all"
    distros = {span.resource.get("telemetry.distro.name") for span in received.spans}
    assert distros == {"otel_chatbot"}, f"resources name distros {distros}; spans:\n{describe(received.spans)}"


def test_process_metrics_are_ours_and_recorded_once_when_upstream_comes_first(
    launcher: Launcher, otlp_sink: OtlpSink, upstream_first: Path
) -> None:
    """opentelemetry-distro loads every instrumentor, the upstream system-metrics one too: its singleton,
    already started by our configure(), refuses a second start, so no series is recorded twice."""
    name = "upstream-first-process"
    _one_chat(launcher, otlp_sink, name, [upstream_first])

    def two_exports(received: Received) -> bool:
        return len({p.time_ns for p in received.points if p.name == "process.cpu.time"}) >= 2

    received = wait_until(otlp_sink, name, two_exports, timeout_s=10)
    process = [p for p in received.points if p.name.startswith(("process.", "cpython.", "system."))]
    assert {p.resource.get("telemetry.distro.name") for p in process} == {"otel_chatbot"}
    assert not [p.name for p in process if p.name.startswith(("system.", "process.runtime."))]
    assert recorded_twice(received.points) == []

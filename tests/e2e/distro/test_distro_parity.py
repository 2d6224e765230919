"""The distro changes no response: not when the collector is fine, not when it is down.

The reference is the example app run bare (plain ``uvicorn``, no telemetry). Every reply
under the distro must have the same status, body and headers, apart from the correlation
headers the distro adds on purpose and the ``date`` header.
"""

from __future__ import annotations

import re
import socket
import time
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest

from otel_chatbot.testing.otlp_sink import OtlpSink
from tests.e2e.distro.distro_harness import (
    CORRELATION_HEADERS,
    AppProcess,
    Launcher,
    Mode,
    Reply,
    otlp_env,
    send,
    user_facing_script,
)

pytestmark = pytest.mark.e2e

ROUNDS = ("first", "second")
VOLATILE = frozenset({"date"}) | CORRELATION_HEADERS
OUTAGE = re.compile(r"(traces|metrics|logs) export to \S+ is failing")
# What the upstream OTLP exporters log per failed batch or retry; the distro keeps it out of the app's log.
PER_BATCH = re.compile(r"Failed to export|Transient error|exporting .* timed out|Exception while exporting")


def _run_script(app: AppProcess, round_: str) -> list[Reply]:
    return [send(app.base_url, call) for call in user_facing_script(round_)]


@pytest.fixture(scope="module")
def bare(launcher: Launcher) -> Iterator[dict[str, list[Reply]]]:
    """The replies of the app without any telemetry, per round of the script."""
    app = launcher.start("bare", Mode.BARE)
    try:
        yield {round_: _run_script(app, round_) for round_ in ROUNDS}
    finally:
        app.stop()


def _comparable(reply: Reply) -> tuple[int, list[tuple[str, str]], bytes]:
    return reply.status, [(k, v) for k, v in reply.headers if k not in VOLATILE], reply.body


def assert_same_replies(expected: Sequence[Reply], got: Sequence[Reply]) -> None:
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert _comparable(have) == _comparable(want)
        extra = {k for k, _ in have.headers} - {k for k, _ in want.headers}
        assert extra <= CORRELATION_HEADERS, f"unexpected headers {extra}"


def test_the_reference_covers_every_kind_of_answer(bare: dict[str, list[Reply]]) -> None:
    """Guards the comparisons below against a script that quietly stopped exercising something."""
    statuses = [reply.status for reply in bare["first"]]
    assert sorted(set(statuses)) == [200, 404, 422, 500]
    (stream,) = [r for r in bare["first"] if (r.header("content-type") or "").startswith("text/event-stream")]
    assert b"event: done" in stream.body


@pytest.mark.parametrize("mode", [Mode.AUTO, Mode.IN_CODE], ids=lambda mode: mode.value)
def test_responses_are_identical_with_and_without_the_distro(
    launcher: Launcher, otlp_sink: OtlpSink, bare: dict[str, list[Reply]], mode: Mode
) -> None:
    app = launcher.start(f"parity-{mode.value}", mode, telemetry=otlp_env(otlp_sink))
    for round_ in ROUNDS:
        assert_same_replies(bare[round_], _run_script(app, round_))


# -- a collector that is down, hangs or refuses ---------------------------------------------


@pytest.fixture
def dead_endpoint() -> Iterator[str]:
    """A port bound but not listening: every connection is refused, nobody else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def hanging_sink() -> Iterator[OtlpSink]:
    with OtlpSink() as sink:
        sink.set_behaviour(delay_s=60)
        yield sink


@pytest.fixture
def failing_sink() -> Iterator[OtlpSink]:
    with OtlpSink() as sink:
        sink.set_behaviour(fail_with=503, message="collector overloaded")
        yield sink


OUTAGES = {
    # kind: (fixture giving the endpoint, OTLP protocol)
    "refused": ("dead_endpoint", "http/protobuf"),
    "refused-grpc": ("dead_endpoint", "grpc"),
    "hanging": ("hanging_sink", "http/protobuf"),
    "failing": ("failing_sink", "http/protobuf"),
}


def _outage_telemetry(request: pytest.FixtureRequest, kind: str) -> dict[str, str]:
    """Export to the broken endpoint, with a short timeout and frequent batches."""
    fixture, protocol = OUTAGES[kind]
    target = request.getfixturevalue(fixture)
    endpoint = target.http_endpoint if isinstance(target, OtlpSink) else str(target)
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_BLRP_SCHEDULE_DELAY": "100",
    }


@pytest.mark.parametrize("kind", list(OUTAGES))
def test_a_dead_collector_changes_no_response_and_is_logged_once(
    launcher: Launcher, bare: dict[str, list[Reply]], request: pytest.FixtureRequest, kind: str
) -> None:
    app = launcher.start(f"outage-{kind}", Mode.AUTO, telemetry=_outage_telemetry(request, kind))
    try:
        first = _run_script(app, ROUNDS[0])
        time.sleep(2.0)  # span and metric batches fail meanwhile (each after the 1 s export timeout)
        second = _run_script(app, ROUNDS[1])
        time.sleep(1.2)  # and fail again: still one message per signal
        output = app.output()
    finally:
        app.stop()
    for round_, replies in zip(ROUNDS, (first, second), strict=True):
        assert_same_replies(bare[round_], replies)
        slow = [(r.status, round(r.elapsed_s, 3)) for r in replies if r.elapsed_s >= 1.0]
        assert not slow, f"requests slowed down by the outage: {slow}"
    messages = Counter(match.group(1) for match in OUTAGE.finditer(output))
    # The example app logs nothing itself, so only spans and metrics are sure to be exported.
    assert messages["traces"] == messages["metrics"] == 1 and messages["logs"] <= 1, (messages, output[-3000:])
    per_batch = [line for line in output.splitlines() if PER_BATCH.search(line) and not OUTAGE.search(line)]
    assert not per_batch, per_batch[:5]

"""An outage is logged when it starts and when it ends, never per failed batch."""

from __future__ import annotations

import logging

import pytest

from otel_chatbot.export.outage import ExporterMessages, OutageLog


def test_outage_logged_once_then_recovery_once(caplog: pytest.LogCaptureFixture) -> None:
    messages = ExporterMessages()
    messages.filter(logging.LogRecord("x", logging.WARNING, "", 0, "Failed to export batch code: 503", (), None))
    outage = OutageLog("traces", "http://collector:4318/v1/traces", messages)
    with caplog.at_level(logging.WARNING, logger="otel_chatbot.export"):
        outage.record(True, 10)
        for _ in range(50):
            outage.record(False, 512)
        outage.record(True, 10)
        outage.record(True, 10)
        outage.record(False, 1)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "is failing (Failed to export batch code: 503)" in lines[0]
    assert "recovered" in lines[1] and "50 batches, 25600 items lost" in lines[1]
    assert "is failing" in lines[2]
    assert outage.outages == 2


def test_exporter_messages_are_kept_out_of_the_app_log() -> None:
    messages = ExporterMessages()
    warning = logging.LogRecord("x", logging.WARNING, "", 0, "Transient error %s", ("UNAVAILABLE",), None)
    critical = logging.LogRecord("x", logging.CRITICAL, "", 0, "boom", (), None)
    assert messages.filter(warning) is False
    assert messages.last_reason == "Transient error UNAVAILABLE"
    assert messages.filter(critical) is True

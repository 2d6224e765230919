"""The OTLP log handler: an error inside it is logged once, never once per record."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider

from otel_chatbot.guard import STATE, set_raise_internal_errors
from otel_chatbot.logs import OtlpLogHandler


class BrokenProvider(LoggerProvider):
    def get_logger(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("provider broke")


def test_a_failing_handler_reports_once_and_the_app_logs_on(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    set_raise_internal_errors(False)
    STATE.logged.discard("the OTLP log handler")
    handler = OtlpLogHandler(BrokenProvider(shutdown_on_exit=False), logging.INFO)
    app_logger = logging.getLogger("app.test_logs")
    app_logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            for i in range(214):
                app_logger.info("request %d", i)
    finally:
        app_logger.removeHandler(handler)
    reports = [r for r in caplog.records if "internal error in the OTLP log handler" in r.getMessage()]
    assert len(reports) == 1
    assert len([r for r in caplog.records if r.name == "app.test_logs"]) == 214
    assert "Logging error" not in capsys.readouterr().err

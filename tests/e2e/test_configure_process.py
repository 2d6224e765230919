"""configure() in a fresh interpreter: idempotent, one log handler, clean shutdown, disabled SDK."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.e2e


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_configure_twice_returns_the_same_handle_and_one_log_handler() -> None:
    result = run(
        """
        import logging
        from otel_chatbot import configure
        from otel_chatbot.logs import OtlpLogHandler
        first = configure(traces_exporter="none", metrics_exporter="none", logs_exporter="none", log_level="warning")
        second = configure()
        handlers = [h for h in logging.getLogger().handlers if isinstance(h, OtlpLogHandler)]
        assert first is second
        assert len(handlers) == 1 and handlers[0].level == logging.WARNING
        first.shutdown()
        assert not [h for h in logging.getLogger().handlers if isinstance(h, OtlpLogHandler)]
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_bad_environment_fails_at_start_naming_the_variable() -> None:
    result = run("from otel_chatbot import configure; configure()", OTEL_TRACES_SAMPLER="sometimes")
    assert result.returncode != 0
    assert "OTEL_TRACES_SAMPLER: expected one of always_on" in result.stderr


def test_sdk_disabled_installs_nothing() -> None:
    result = run(
        """
        import logging
        from otel_chatbot import configure
        telemetry = configure()
        assert not telemetry.enabled and telemetry.force_flush()
        assert not logging.getLogger().handlers
        print("ok")
        """,
        OTEL_SDK_DISABLED="true",
    )
    assert result.returncode == 0, result.stderr


def test_auto_path_stops_at_start_on_a_bad_setting() -> None:
    import os
    from pathlib import Path

    instrument = str(Path(sys.executable).parent / "opentelemetry-instrument")
    result = subprocess.run(
        [instrument, sys.executable, "-c", "print('app ran')"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "OTEL_PYTHON_DISTRO": "otel_chatbot",
            "OTEL_PYTHON_CONFIGURATOR": "otel_chatbot",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        },
    )
    assert result.returncode != 0
    assert "app ran" not in result.stdout
    assert "OTEL_EXPORTER_OTLP_PROTOCOL: expected one of http/protobuf, grpc" in result.stderr

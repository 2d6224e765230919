"""Fixtures of the distro end-to-end tests: a launcher whose processes all end with the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.otlp_sink import OtlpSink
from tests.e2e.distro.distro_harness import Launcher


@pytest.fixture(scope="module")
def launcher(
    tmp_path_factory: pytest.TempPathFactory, bedrock_server: BedrockServer, otlp_sink: OtlpSink
) -> Iterator[Launcher]:
    """Start app processes with ``launcher.start(name, mode, ...)``; all are stopped after the module.

    Depending on the sink and the Bedrock server makes them outlive the apps: an app whose
    collector vanished would spend its export timeout flushing at shutdown.
    """
    launcher = Launcher(tmp_path_factory.mktemp("apps"), bedrock_server.endpoint_url)
    try:
        yield launcher
    finally:
        launcher.stop_all()

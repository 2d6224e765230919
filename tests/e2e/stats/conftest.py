"""The example app with its live view on, started once for the module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otel_chatbot.testing.bedrock import BedrockServer
from tests.e2e.distro.distro_harness import Launcher
from tests.e2e.stats.live_app import LiveApp, start_live_app


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, bedrock_server: BedrockServer) -> Iterator[LiveApp]:
    launcher = Launcher(tmp_path_factory.mktemp("live"), bedrock_server.endpoint_url)
    try:
        yield start_live_app(launcher, "live-view-app")
    finally:
        launcher.stop_all()

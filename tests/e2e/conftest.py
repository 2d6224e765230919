"""Shared fixtures for end-to-end tests: the stand-ins for a collector and for Bedrock.

Both run in this process on loopback with ports picked by the OS, and are shared by
the tests of one module (start-up is cheap, but not free). Tests that change a
server's behaviour (a failing collector, injected faults) should build their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otel_chatbot.testing.bedrock import BedrockServer
from otel_chatbot.testing.otlp_sink import OtlpSink


@pytest.fixture(scope="module")
def otlp_sink() -> Iterator[OtlpSink]:
    """A local OTLP receiver (http/protobuf on ``.http_endpoint``, gRPC on ``.grpc_endpoint``)."""
    with OtlpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def bedrock_server() -> Iterator[BedrockServer]:
    """A Bedrock-compatible server; point boto3 at ``.endpoint_url``; totals in ``.ledger``."""
    with BedrockServer() as server:
        yield server

"""Real boto3 clients answered in-process (see ``aws_stub``), and the AWS patch as the distro wires it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.instrumentation.aws_stub import AwsStub, aws_client, stubbed


@pytest.fixture(scope="session")
def aws_clients() -> dict[str, Any]:
    """One client per service for the whole run (creating one costs tens of ms); stubs come and go."""
    return {}


def _stub(clients: dict[str, Any], service: str) -> Iterator[AwsStub]:
    client = clients.get(service) or clients.setdefault(service, aws_client(service))
    with stubbed(client) as stub:
        yield stub


@pytest.fixture
def runtime(aws_clients: dict[str, Any]) -> Iterator[AwsStub]:
    """A ``bedrock-runtime`` client and the answers it will get."""
    yield from _stub(aws_clients, "bedrock-runtime")


@pytest.fixture
def agent(aws_clients: dict[str, Any]) -> Iterator[AwsStub]:
    """A ``bedrock-agent-runtime`` client and the answers it will get."""
    yield from _stub(aws_clients, "bedrock-agent-runtime")


@pytest.fixture
def control(aws_clients: dict[str, Any]) -> Iterator[AwsStub]:
    """Bedrock's control plane: a service with no extension of ours, only the generic AWS span."""
    yield from _stub(aws_clients, "bedrock")


@pytest.fixture
def wired(kit_factory: Any) -> Any:
    """A kit with every library patch applied as the distro applies them (Bedrock extension included)."""
    kit = kit_factory()
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    return kit

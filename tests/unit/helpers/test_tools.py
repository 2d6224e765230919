"""``execute_tool``: spans and a duration per tool run, as context manager and decorator, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_chatbot
from otel_chatbot import execute_tool
from otel_chatbot.telemetry import active


class Recorded:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()

    def durations(self) -> list[Any]:
        data = self.metrics.get_metrics_data()
        return [
            point
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == "gen_ai.execute_tool.duration"
            for point in metric.data.data_points
        ]


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    assert active() is None
    recorded = Recorded()
    telemetry = otel_chatbot.configure(
        set_global_providers=False,
        span_processors=[SimpleSpanProcessor(recorded.spans)],
        metric_readers=[recorded.metrics],
        traces_exporter="none",
        metrics_exporter="none",
        logs_exporter="none",
        disabled_instrumentations=["fastapi", "httpx", "httpx2", "aiohttp-client", "botocore", "logging"],
    )
    yield recorded
    telemetry.shutdown()


def test_context_manager_span_as_the_convention_describes(recorded: Recorded) -> None:
    with execute_tool("get_weather", "call_1") as span:
        span.set_attribute("app.city", "Paris")
    (finished,) = recorded.spans.get_finished_spans()
    assert finished.name == "execute_tool get_weather"
    assert finished.kind.name == "INTERNAL"
    assert dict(finished.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.type": "function",
        "app.city": "Paris",
    }
    (point,) = recorded.durations()
    assert point.count == 1
    assert dict(point.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
    }


def test_tool_names_past_the_limit_are_one_metric_series_but_keep_their_span_name(recorded: Recorded) -> None:
    from otel_chatbot.helpers.tools import TOOL_NAMES_LIMIT

    for index in range(TOOL_NAMES_LIMIT + 5):
        with execute_tool(f"tool_{index}"):
            pass
    names = {point.attributes["gen_ai.tool.name"] for point in recorded.durations()}
    assert len(names) == TOOL_NAMES_LIMIT + 1
    assert "_OTHER" in names and "tool_0" in names and f"tool_{TOOL_NAMES_LIMIT}" not in names
    spans = {span.attributes["gen_ai.tool.name"] for span in recorded.spans.get_finished_spans()}
    assert f"tool_{TOOL_NAMES_LIMIT + 4}" in spans


def test_decorated_sync_and_async_functions_keep_their_results_and_names(recorded: Recorded) -> None:
    @execute_tool("add")
    def add(a: int, b: int) -> int:
        """Adds."""
        return a + b

    @execute_tool("lookup", tool_type="datastore")
    async def lookup(key: str) -> str:
        await asyncio.sleep(0)
        return key.upper()

    assert add(2, 3) == 5
    assert asyncio.run(lookup("k")) == "K"
    assert (add.__name__, add.__doc__) == ("add", "Adds.")

    async def nested() -> None:
        async with execute_tool("outer"):
            with execute_tool("inner"):
                pass

    asyncio.run(nested())
    spans = {s.name: s for s in recorded.spans.get_finished_spans()}
    assert set(spans) == {"execute_tool add", "execute_tool lookup", "execute_tool outer", "execute_tool inner"}
    assert spans["execute_tool lookup"].attributes["gen_ai.tool.type"] == "datastore"
    assert spans["execute_tool inner"].parent.span_id == spans["execute_tool outer"].context.span_id
    assert sum(p.count for p in recorded.durations()) == 4


def test_the_tools_exception_passes_through_unchanged_and_marks_the_span(recorded: Recorded) -> None:
    class ToolBroke(Exception):
        pass

    failure = ToolBroke("no network")

    @execute_tool("fetch")
    async def fetch() -> None:
        raise failure

    with pytest.raises(ToolBroke) as raised:
        asyncio.run(fetch())
    assert raised.value is failure
    with pytest.raises(KeyError), execute_tool("lookup"):
        raise KeyError("k")
    fetched, looked_up = recorded.spans.get_finished_spans()
    assert (
        fetched.attributes["error.type"]
        == "test_the_tools_exception_passes_through_unchanged_and_marks_the_span.<locals>.ToolBroke"
    )
    assert fetched.status.status_code.name == "ERROR"
    assert [e.name for e in fetched.events] == ["exception"]
    assert looked_up.attributes["error.type"] == "KeyError"
    assert sorted(str(p.attributes["error.type"]) for p in recorded.durations())[0] == "KeyError"


def test_without_configure_it_runs_the_tool_and_records_nothing() -> None:
    assert active() is None

    @execute_tool("noop")
    def tool() -> str:
        return "ran"

    assert tool() == "ran"
    with execute_tool("noop") as span:
        assert not span.is_recording()


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((), {"name": ""}, ValueError),
        ((), {"name": "   "}, ValueError),
        ((), {"name": 3}, TypeError),
        (("t",), {"call_id": 7}, TypeError),
        (("t",), {"tool_type": "magic"}, ValueError),
        (("t",), {"tool_type": None}, TypeError),
    ],
)
def test_misuse_fails_at_the_call_site(args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match="execute_tool"):
        execute_tool(*args, **kwargs)


def test_decorating_something_that_is_not_a_function_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="decorates a function"):
        execute_tool("t")(42)  # type: ignore[call-overload]

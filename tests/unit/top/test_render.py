"""The top screen shows the numbers of a known view (rendered to text by rich itself)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from otel_chatbot.genai import GenAIRequest, GenAIResponse, PriceTable
from otel_chatbot.genai.types import TokenUsage
from otel_chatbot.instrumentation.genai.metrics import GenAIMetrics
from otel_chatbot.stats import names as n
from otel_chatbot.top.render import duration, ms, screen
from tests.unit.stats.stats_rig import make_rig

HAIKU = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


def text_of(view: dict[str, Any], width: int = 200) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(screen(view))
    return console.export_text()


@pytest.fixture(scope="module")
def known_view() -> dict[str, Any]:
    with make_rig() as rig:
        genai = GenAIMetrics(rig.provider.get_meter("otel_chatbot.genai"), PriceTable.default())
        request = GenAIRequest(operation_name="chat", provider_name="aws.bedrock", model=HAIKU)
        response = GenAIResponse(usage=TokenUsage(uncached_input_tokens=300, output_tokens=100))
        rig.sample_at(0)
        for _ in range(12):
            rig.request("/chat/{session}", 0.120)
        for _ in range(3):
            rig.request("/chat/{session}/fail", 0.030, status=500)
        for _ in range(6):
            genai.record(request, response, 0.5, None, genai.compute_cost(request, response))
            genai.record_chunk_times(request, response, 0.25, [0.25, 0.3])
        lookups = rig.provider.get_meter("helpers").create_counter(n.CACHE_LOOKUPS)
        lookups.add(1, {n.CACHE_NAME: "semantic", n.CACHE_RESULT: "hit"})
        lookups.add(3, {n.CACHE_NAME: "semantic", n.CACHE_RESULT: "miss"})
        rig.sample_at(60)
        return rig.view(60)


def test_the_screen_shows_routes_models_cache_and_failover(known_view: dict[str, Any]) -> None:
    text = text_of(known_view)
    assert "requests since start 15, errors 3" in text
    chat = next(line for line in text.splitlines() if "/chat/{session} " in line)
    assert [cell.strip() for cell in chat.split("│")[2:6]] == ["0.20", "12", "0", "0.0%"]  # req/s over 60 s
    fail = next(line for line in text.splitlines() if "/chat/{session}/fail" in line)
    assert "100.0%" in fail and " 3 " in fail
    model = next(line for line in text.splitlines() if HAIKU in line)
    cells = [cell.strip() for cell in model.split("│")]
    assert cells[2:6] == ["6", "0", "0", "2,400"]  # calls, errors, throttles, tokens per minute
    assert cells[9] == "250.0"  # TTFT p50 in ms (0.25 s, within the histogram's error bound at this scale)
    assert "hit ratio 25.0% of 4 lookups" in text
    assert "failover — (no failover() recorded)" in text


def test_before_any_sample_the_screen_says_it_is_waiting() -> None:
    view = {"service": {"name": "x"}, "uptime_s": 0.2, "window": None, "since_start": None, "sample_age_s": None}
    assert "waiting for the first sample" in text_of(view)


def test_a_stale_view_is_flagged(known_view: dict[str, Any]) -> None:
    assert "stale: last sample 12 s ago" in text_of({**known_view, "sample_age_s": 12.0})


def test_formats() -> None:
    assert (ms(None), ms(0.00123), ms(0.4567), ms(12.3)) == ("—", "1.23", "456.7", "12,300")
    assert (duration(5), duration(65), duration(3725)) == ("5s", "1m 05s", "1h 02m 05s")

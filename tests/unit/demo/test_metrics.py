"""Picking and compacting the Prometheus lines the demo prints."""

from __future__ import annotations

import math

import pytest

from otel_chatbot.demo.metrics import Histogram, compact, counters, histogram_quantile, histograms, key_lines

SCRAPE = """\
# HELP http_server_request_duration_seconds Duration of HTTP server requests.
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{http_route="/chat/{session_id}",le="0.005"} 1.0
http_server_request_duration_seconds_count{error_type="",http_request_method="POST",http_route="/chat/{session_id}",\
network_protocol_version="1.1",otel_scope_name="otel_chatbot.fastapi",otel_scope_schema_url="https://x",\
otel_scope_version="0.1.0",url_scheme="http"} 4.0
http_server_request_duration_seconds_sum{http_route="/chat/{session_id}"} 0.05
gen_ai_client_token_usage_sum{gen_ai_operation_name="chat",gen_ai_provider_name="aws.bedrock",\
gen_ai_token_type="input",otel_scope_name="otel_chatbot.bedrock"} 537.0
gen_ai_client_cost_USD_total{gen_ai_token_type="output",note="say \\"hi\\""} 0.0007000000000000001
target_info{service_name="chatbot-demo"} 1.0
"""


def test_key_lines_are_grouped_by_series_in_order() -> None:
    lines = key_lines(SCRAPE)
    assert [line.split("{")[0] for line in lines] == [
        "http_server_request_duration_seconds_count",
        "gen_ai_client_token_usage_sum",
        "gen_ai_client_cost_USD_total",
    ]


def test_compact_drops_constant_and_empty_labels_and_rounds() -> None:
    first, tokens, cost = key_lines(SCRAPE)
    assert first == (
        'http_server_request_duration_seconds_count{http_request_method="POST",http_route="/chat/{session_id}",'
        'otel_scope_name="otel_chatbot.fastapi"} 4'
    )
    assert tokens.endswith("} 537") and "aws.bedrock" not in tokens
    assert cost == 'gen_ai_client_cost_USD_total{gen_ai_token_type="output",note="say \\"hi\\""} 0.0007'


def test_compact_without_labels_and_odd_input() -> None:
    assert compact("up 1.0") == "up 1"
    assert compact('x{a=""} NaN') == "x nan"
    assert compact("not a sample line {") == "not a sample line {"


def test_key_lines_limit() -> None:
    text = "\n".join(f'gen_ai_client_token_usage_sum{{n="{i}"}} {i}' for i in range(100))
    assert len(key_lines(text, limit=7)) == 7
    assert key_lines("", limit=7) == []


HISTOGRAMS = """\
# TYPE chatbot_websocket_turn_time_to_first_message_seconds histogram
chatbot_websocket_turn_time_to_first_message_seconds_bucket{http_route="/ws/a",le="0.1"} 3.0
chatbot_websocket_turn_time_to_first_message_seconds_bucket{http_route="/ws/a",le="0.5"} 4.0
chatbot_websocket_turn_time_to_first_message_seconds_bucket{http_route="/ws/a",le="+Inf"} 4.0
chatbot_websocket_turn_time_to_first_message_seconds_count{http_route="/ws/a"} 4.0
chatbot_websocket_turn_time_to_first_message_seconds_sum{http_route="/ws/a"} 0.3
chatbot_websocket_turn_time_to_first_message_seconds_bucket{http_route="/ws/b",le="0.1"} 1.0
chatbot_websocket_turn_time_to_first_message_seconds_bucket{http_route="/ws/b",le="0.5"} 1.0
chatbot_websocket_turn_time_to_first_message_seconds_bucket{http_route="/ws/b",le="+Inf"} 2.0
chatbot_websocket_turn_time_to_first_message_seconds_count{http_route="/ws/b"} 2.0
chatbot_websocket_turn_time_to_first_message_seconds_sum{http_route="/ws/b"} 3.05
chatbot_websocket_turn_time_to_first_message_seconds_created{http_route="/ws/b"} 1.7e9
chatbot_websocket_turn_time_to_first_message_seconds_other_bucket{le="0.1"} 99.0
"""


def test_histograms_per_label_and_summed() -> None:
    name = "chatbot_websocket_turn_time_to_first_message_seconds"
    by_route = histograms(HISTOGRAMS, name, by="http_route")
    assert by_route == {
        "/ws/a": Histogram(((0.1, 3.0), (0.5, 4.0), (math.inf, 4.0)), 4.0, 0.3),
        "/ws/b": Histogram(((0.1, 1.0), (0.5, 1.0), (math.inf, 2.0)), 2.0, 3.05),
    }
    (total,) = histograms(HISTOGRAMS, name).values()
    assert total.buckets == ((0.1, 4.0), (0.5, 5.0), (math.inf, 6.0))
    assert (total.count, total.sum) == (6.0, pytest.approx(3.35))
    assert histograms(HISTOGRAMS, "no_such_histogram") == {}


@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        (((0.1, 5.0), (0.5, 10.0), (math.inf, 10.0)), 50, 0.1),
        (((0.1, 5.0), (0.5, 10.0), (math.inf, 10.0)), 75, 0.3),  # halfway through the second bucket
        (((0.1, 5.0), (0.5, 10.0), (math.inf, 10.0)), 100, 0.5),
        (((0.1, 5.0), (0.5, 10.0), (math.inf, 10.0)), 10, 0.02),  # the first bucket starts at 0
        (((0.1, 0.0), (0.2, 4.0), (math.inf, 4.0)), 50, 0.15),  # empty buckets below are skipped
        (((0.1, 5.0), (math.inf, 10.0)), 90, 0.1),  # in +Inf: the highest finite bound
        (((0.1, 0.0), (math.inf, 0.0)), 50, None),
        ((), 50, None),
    ],
)
def test_histogram_quantile_interpolates_as_prometheus(
    buckets: tuple[tuple[float, float], ...], q: float, expected: float | None
) -> None:
    found = histogram_quantile(Histogram(buckets, buckets[-1][1] if buckets else 0.0, 0.0), q)
    assert found == (None if expected is None else pytest.approx(expected))


def test_counters_summed_per_label() -> None:
    text = "\n".join(
        [
            "# TYPE chatbot_feedback_total counter",
            'chatbot_feedback_total{chatbot_feedback_sentiment="positive",label="thumbs_up"} 3.0',
            'chatbot_feedback_total{chatbot_feedback_sentiment="positive",label="stars"} 1.0',
            'chatbot_feedback_total{chatbot_feedback_sentiment="negative",label="thumbs_down"} 2.0',
            'chatbot_feedback_created{chatbot_feedback_sentiment="negative"} 1.7e9',
        ]
    )
    assert counters(text, "chatbot_feedback_total", "chatbot_feedback_sentiment") == {"negative": 2.0, "positive": 4.0}
    assert counters(text, "chatbot_feedback_total", "nothing") == {"": 6.0}
    assert counters("", "chatbot_feedback_total", "x") == {}

"""Picking and compacting the Prometheus lines the demo prints."""

from __future__ import annotations

from otel_chatbot.demo.metrics import compact, key_lines

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

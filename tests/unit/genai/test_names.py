"""Our own names (genai/names.py): convention buckets, no clash with convention metrics, unique."""

from __future__ import annotations

from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

from otel_chatbot.genai import names


def test_bucket_boundaries_match_the_convention() -> None:
    assert tuple(4**i for i in range(14)) == names.TOKEN_USAGE_BUCKETS
    seconds = tuple(round(0.01 * 2**i, 2) for i in range(14))
    assert seconds == names.OPERATION_DURATION_BUCKETS
    assert seconds == names.TIME_TO_FIRST_CHUNK_BUCKETS
    assert seconds == names.TIME_PER_OUTPUT_CHUNK_BUCKETS


def test_our_metric_names_do_not_shadow_convention_metrics() -> None:
    convention = {getattr(gen_ai_metrics, n) for n in dir(gen_ai_metrics) if n.startswith("GEN_AI_")}
    assert "gen_ai.client.token.usage" in convention
    assert names.METRIC_GEN_AI_CLIENT_COST not in convention
    assert names.METRIC_GEN_AI_CLIENT_THROTTLES not in convention


def test_our_attribute_names_are_unique() -> None:
    ours = [v for k, v in vars(names).items() if k.startswith(("AWS_BEDROCK_", "GEN_AI_"))]
    assert len(ours) == len(set(ours))
    assert all(isinstance(v, str) and v == v.lower() for v in ours)

"""The Operator helpers section: from spans the real helpers record and the feedback metrics as scraped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from otel_chatbot import cache_lookup, failover
from otel_chatbot.demo.chatbot.tally import ClientTally
from otel_chatbot.demo.operators import cross_check, operator_helpers, section
from otel_chatbot.demo.spans import facts_from_span
from tests.unit.helpers.helper_kit import Configured

SCOPE = 'otel_scope_name="otel_chatbot.helpers",otel_scope_schema_url="",otel_scope_version="0.1.0"'
FEEDBACK = "chatbot_feedback_total{chatbot_feedback_sentiment"
METRICS = "\n".join(
    [
        "# TYPE chatbot_feedback_total counter",
        f'{FEEDBACK}="positive",gen_ai_evaluation_score_label="thumbs_up",{SCOPE}}} 3.0',
        f'{FEEDBACK}="positive",gen_ai_evaluation_score_label="stars",{SCOPE}}} 1.0',
        f'{FEEDBACK}="negative",gen_ai_evaluation_score_label="thumbs_down",{SCOPE}}} 2.0',
        "# TYPE chatbot_feedback_score histogram",
        f'chatbot_feedback_score_bucket{{gen_ai_evaluation_name="user_feedback",le="0.0",{SCOPE}}} 2.0',
        f'chatbot_feedback_score_bucket{{gen_ai_evaluation_name="user_feedback",le="1.0",{SCOPE}}} 6.0',
        f'chatbot_feedback_score_bucket{{gen_ai_evaluation_name="user_feedback",le="+Inf",{SCOPE}}} 6.0',
        f'chatbot_feedback_score_count{{gen_ai_evaluation_name="user_feedback",{SCOPE}}} 6.0',
        f'chatbot_feedback_score_sum{{gen_ai_evaluation_name="user_feedback",{SCOPE}}} 3.75',
    ]
)


class Throttled(Exception):
    pass


def record(kit: Configured) -> None:
    """Three lookups (one hit), three chains: served at once, served after a switch, exhausted."""
    for found in (None, "answer", None):
        with cache_lookup("semantic", model="us.anthropic.claude-3-5-haiku-20241022-v1:0") as lookup:
            if found:
                lookup.hit(similarity=0.95, input_tokens=100, output_tokens=20)
            else:
                lookup.miss(similarity=0.3)
    for failing in ((), ("aws.bedrock",), ("aws.bedrock", "openai")):
        with failover("chat") as chain:
            for provider in ("aws.bedrock", "openai"):
                try:
                    with chain.attempt(provider=provider, model="m"):
                        if provider in failing:
                            raise Throttled
                    break
                except Throttled:
                    continue


def test_counts_ratios_savings_and_overhead_from_the_helpers_spans(
    configure_helpers: Callable[..., Configured],
) -> None:
    kit = configure_helpers()
    record(kit)
    helpers = operator_helpers([facts_from_span(span) for span in kit.finished()], METRICS)
    cache, chains, feedback = helpers.cache, helpers.failover, helpers.feedback
    assert (cache.lookups, cache.hits, cache.errors, cache.hit_ratio) == (3, 1, 0, 1 / 3)
    assert (cache.saved_input_tokens, cache.saved_output_tokens, cache.hit_similarity_p50) == (100, 20, 0.95)
    assert cache.saved_cost_usd > 0, "priced as the Bedrock model the hit replaced"
    assert (chains.chains, chains.served, chains.exhausted, chains.switched, chains.served_after_switch) == (
        3,
        2,
        1,
        2,
        1,
    )
    assert chains.overhead_p50_s is not None and chains.overhead_p50_s == chains.overhead_max_s
    assert (feedback.by_sentiment, feedback.count, feedback.mean_score) == ({"negative": 2, "positive": 4}, 6, 0.625)
    assert feedback.negative_ratio == 2 / 6


def test_the_section_and_its_cross_check_with_the_clients(configure_helpers: Callable[..., Configured]) -> None:
    kit = configure_helpers()
    record(kit)
    helpers = operator_helpers([facts_from_span(span) for span in kit.finished()], METRICS)
    clients = ClientTally(
        answers=Counter({"bedrock": 1, "openai": 1}),
        cached=1,
        faults=Counter({"failover": 1, "exhausted": 1}),
        exhausted=1,
        feedback=Counter({"positive": 4, "negative": 2}),
    )
    checks = {check.telemetry_side: check for check in cross_check(helpers, clients, "bedrock")}
    assert all(check.equal for check in checks.values()), checks
    assert (checks["cache lookups"].clients, checks["served after a switch"].clients) == (3, 1)
    text = "\n".join(section(helpers, clients).lines)
    assert "3 lookups, 1 hits, 2 misses, 0 errors: hit ratio 33.3 %" in text
    assert "3 chains, 2 served (1 after a switch), 1 exhausted, 2 switched" in text
    assert "all under the 150 ms target" in text
    assert "6 scores, mean 0.625, 4 positive, 0 neutral, 2 negative: negative ratio 33.3 %" in text
    assert "(all equal)" in text
    clients.cached = 0
    assert "MISMATCH" in "\n".join(section(helpers, clients, cut_off=2).lines)


def test_nothing_recorded_renders() -> None:
    helpers = operator_helpers([], "")
    assert helpers.cache.hit_ratio is None and helpers.feedback.mean_score is None
    text = "\n".join(section(helpers).lines)
    assert "0 lookups" in text and "hit ratio -" in text and "overhead" in text and "Cross-check" not in text

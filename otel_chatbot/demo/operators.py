"""The summary's "Operator helpers" section: the semantic cache, provider failover and users' feedback, as exported.

The cache and the failover from their spans: one ``cache_lookup`` span per lookup (its result,
similarity, the tokens and cost a hit saved) and one ``failover`` span per chain (its outcome,
attempts, and for a chain that switched and was served the overhead: chain start to the
start of the attempt that served), so counts and percentiles are exact. Feedback is a log
record (the GenAI ``gen_ai.evaluation.result`` event), which the demo does not keep: its
counts by sentiment and its scores come from the ``chatbot.feedback`` counter and the
``chatbot.feedback.score`` histogram the app served on ``/metrics``.

:func:`cross_check` holds the counts against what the load's clients did and saw: the
answers the app marked ``cached``, the provider that served each default-path answer, the
faults the load injected and the 429s it got back, the scores it sent. Every pair must be equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from otel_chatbot.demo.chatbot.tally import ClientTally
from otel_chatbot.demo.metrics import counters, histograms
from otel_chatbot.demo.spans import SpanFacts
from otel_chatbot.demo.summary import Check, Section, check_lines, format_ms, percentile
from otel_chatbot.helpers import names

# Prometheus names of the feedback instruments (the exporter adds _total to a counter; the score is unitless).
FEEDBACK_COUNTER = "chatbot_feedback_total"
FEEDBACK_SCORE = "chatbot_feedback_score"
SENTIMENT_LABEL = "chatbot_feedback_sentiment"
OVERHEAD_TARGET_S = 0.15
"""The gateway documents' fallback-overhead target (< 150 ms)."""


@dataclass(frozen=True)
class CacheStats:
    lookups: int
    hits: int
    errors: int
    saved_input_tokens: int
    saved_output_tokens: int
    saved_cost_usd: float
    hit_similarity_p50: float | None

    @property
    def hit_ratio(self) -> float | None:
        return self.hits / self.lookups if self.lookups else None


@dataclass(frozen=True)
class FailoverStats:
    chains: int
    served: int
    exhausted: int
    switched: int
    """Chains with more than one attempt."""
    served_after_switch: int
    overhead_p50_s: float | None
    overhead_p95_s: float | None
    overhead_max_s: float | None


@dataclass(frozen=True)
class FeedbackStats:
    by_sentiment: dict[str, int]
    count: int
    score_sum: float

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.count if self.count else None

    @property
    def negative_ratio(self) -> float | None:
        return self.by_sentiment.get(names.SENTIMENT_NEGATIVE, 0) / self.count if self.count else None


@dataclass(frozen=True)
class OperatorHelpers:
    cache: CacheStats
    failover: FailoverStats
    feedback: FeedbackStats


def _cache(facts: Sequence[SpanFacts]) -> CacheStats:
    lookups = [span for span in facts if span.cache_result is not None]
    hits = [span for span in lookups if span.cache_result == names.RESULT_HIT]
    similarity = [span.cache_similarity for span in hits if span.cache_similarity is not None]
    return CacheStats(
        lookups=len(lookups),
        hits=len(hits),
        errors=sum(span.cache_result == names.RESULT_ERROR for span in lookups),
        saved_input_tokens=sum(span.cache_saved_input for span in hits),
        saved_output_tokens=sum(span.cache_saved_output for span in hits),
        saved_cost_usd=sum(span.cache_saved_cost for span in hits),
        hit_similarity_p50=percentile(similarity, 50),
    )


def _failover(facts: Sequence[SpanFacts]) -> FailoverStats:
    chains = [span for span in facts if span.failover_outcome is not None]
    served = [span for span in chains if span.failover_outcome == names.OUTCOME_SERVED]
    overheads = [span.failover_overhead_s for span in served if span.failover_overhead_s is not None]
    return FailoverStats(
        chains=len(chains),
        served=len(served),
        exhausted=sum(span.failover_outcome == names.OUTCOME_EXHAUSTED for span in chains),
        switched=sum(span.failover_attempts > 1 for span in chains),
        served_after_switch=sum(span.failover_attempts > 1 for span in served),
        overhead_p50_s=percentile(overheads, 50),
        overhead_p95_s=percentile(overheads, 95),
        overhead_max_s=max(overheads, default=None),
    )


def _feedback(metrics_text: str) -> FeedbackStats:
    by_sentiment = {key: int(value) for key, value in counters(metrics_text, FEEDBACK_COUNTER, SENTIMENT_LABEL).items()}
    scores = histograms(metrics_text, FEEDBACK_SCORE).get("")
    return FeedbackStats(by_sentiment, int(scores.count) if scores else 0, scores.sum if scores else 0.0)


def operator_helpers(facts: Sequence[SpanFacts], metrics_text: str) -> OperatorHelpers:
    return OperatorHelpers(_cache(facts), _failover(facts), _feedback(metrics_text))


def cross_check(helpers: OperatorHelpers, clients: ClientTally, default_provider: str) -> tuple[Check, ...]:
    """Each count next to what the clients did or saw; ``default_provider``: who answers the default path."""
    cache, failover, feedback = helpers.cache, helpers.failover, helpers.feedback
    asked = sum(clients.answers.values()) + clients.exhausted
    elsewhere = sum(n for provider, n in clients.answers.items() if provider != default_provider)
    sent = Counter(clients.feedback)
    return (
        Check("cache lookups", cache.lookups, "default-path turns answered, or exhausted (429)", asked),
        Check("cache hits", cache.hits, "answers marked cached", clients.cached),
        Check("chains that switched", failover.switched, "turns the load throttled", sum(clients.faults.values())),
        Check(
            "served after a switch",
            failover.served_after_switch,
            f"default-path answers not from {default_provider}",
            elsewhere,
        ),
        Check("chains exhausted", failover.exhausted, "exhausted turns answered 429", clients.exhausted),
        *(
            Check(
                f"feedback {sentiment}",
                feedback.by_sentiment.get(sentiment, 0),
                "sent and taken (204)",
                sent[sentiment],
            )
            for sentiment in (names.SENTIMENT_POSITIVE, names.SENTIMENT_NEUTRAL, names.SENTIMENT_NEGATIVE)
        ),
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def section(
    helpers: OperatorHelpers, clients: ClientTally | None = None, default_provider: str = "bedrock", cut_off: int = 0
) -> Section:
    cache, failover, feedback = helpers.cache, helpers.failover, helpers.feedback
    similarity = "-" if cache.hit_similarity_p50 is None else f"{cache.hit_similarity_p50:.3f}"
    mean = "-" if feedback.mean_score is None else f"{feedback.mean_score:.3f}"
    under = failover.overhead_max_s is not None and failover.overhead_max_s < OVERHEAD_TARGET_S
    target = f"all under the {OVERHEAD_TARGET_S * 1000:.0f} ms target" if under else "target 150 ms"
    lines = [
        f"Semantic cache (cache_lookup spans): {cache.lookups} lookups, {cache.hits} hits, "
        f"{cache.lookups - cache.hits - cache.errors} misses, {cache.errors} errors: "
        f"hit ratio {_percent(cache.hit_ratio)} (hit similarity p50 {similarity})",
        f"  saved {cache.saved_input_tokens} input and {cache.saved_output_tokens} output tokens, "
        f"USD {cache.saved_cost_usd:.6f} (priced as the model the hits replaced)",
        f"Failover (failover spans): {failover.chains} chains, {failover.served} served "
        f"({failover.served_after_switch} after a switch), {failover.exhausted} exhausted, "
        f"{failover.switched} switched",
        f"  overhead (chain start to the attempt that served) p50 {format_ms(failover.overhead_p50_s)} ms, "
        f"p95 {format_ms(failover.overhead_p95_s)} ms, max {format_ms(failover.overhead_max_s)} ms ({target})",
        f"Feedback (chatbot.feedback, chatbot.feedback.score on /metrics): {feedback.count} scores, mean {mean}, "
        + ", ".join(f"{feedback.by_sentiment.get(s, 0)} {s}" for s in ("positive", "neutral", "negative"))
        + f": negative ratio {_percent(feedback.negative_ratio)}",
    ]
    if clients is not None:
        checks = cross_check(helpers, clients, default_provider)
        lines += ["", *check_lines("what the load's clients did and saw", checks, cut_off)]
    return Section("Operator helpers:", tuple(lines))

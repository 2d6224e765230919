"""Names, units and buckets of the operator helpers' signals (cache, failover, feedback).

No semantic convention covers a semantic cache or a provider failover, so those names are
ours (``chatbot.cache.*``, ``chatbot.failover.*``): the project's contract, which the
dashboards, alerts and EMF declarations use, kept here so a future convention can replace
them in one place. Where a convention does define the meaning, its name is used instead
and imported from ``opentelemetry.semconv`` by the module that records it
(``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.token.type``, ``error.type``,
and the GenAI ``gen_ai.evaluation.*`` attributes of user feedback).
"""

from __future__ import annotations

from typing import Final

from otel_chatbot import cardinality

SCOPE: Final = "otel_chatbot.helpers"
"""Instrumentation scope of every helper's spans, metrics and events."""

OTHER: Final = cardinality.OTHER
"""Value a bounded attribute takes past its limit of distinct values (as ``error.type`` does in the conventions)."""

# --- Semantic cache -----------------------------------------------------------------------

CACHE_LOOKUPS: Final = "chatbot.cache.lookups"
"""Counter ({lookup}): cache lookups by :data:`CACHE_NAME` and :data:`CACHE_RESULT`."""

CACHE_LOOKUP_DURATION: Final = "chatbot.cache.lookup.duration"
"""Histogram (s): how long a lookup block ran."""

CACHE_SIMILARITY: Final = "chatbot.cache.similarity"
"""Histogram (1): the best similarity a lookup found, hit or miss (0-1)."""

CACHE_SAVED_TOKENS: Final = "chatbot.cache.saved.tokens"
"""Counter ({token}): tokens a hit did not spend, by ``gen_ai.token.type`` and model."""

CACHE_SAVED_COST: Final = "chatbot.cache.saved.cost"
"""Counter (USD): what those tokens would have cost on the model the hit replaced."""

CACHE_NAME: Final = "chatbot.cache.name"
CACHE_RESULT: Final = "chatbot.cache.result"
RESULT_HIT: Final = "hit"
RESULT_MISS: Final = "miss"
RESULT_ERROR: Final = "error"

CACHE_SAVED_INPUT_TOKENS: Final = "chatbot.cache.saved.input_tokens"
"""Span attribute: input tokens a hit saved (not ``gen_ai.usage.*``: nothing was used)."""
CACHE_SAVED_OUTPUT_TOKENS: Final = "chatbot.cache.saved.output_tokens"
CACHE_SAVED_COST_ATTRIBUTE: Final = "chatbot.cache.saved.cost"
"""Span attribute: USD the hit saved (the metric of the same name sums it)."""

SIMILARITY_BUCKETS: Final[tuple[float, ...]] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
"""0-1, finer around the usual thresholds (0.85 in the gateway documents)."""

LOOKUP_DURATION_BUCKETS: Final[tuple[float, ...]] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
"""In-process lookups take microseconds, embedding a prompt tens of milliseconds."""

# --- Provider failover --------------------------------------------------------------------

FAILOVER_ATTEMPTS: Final = "chatbot.failover.attempts"
"""Counter ({attempt}): attempts by provider, model, :data:`FAILOVER_OUTCOME` and ``error.type``."""

FAILOVER_SWITCHES: Final = "chatbot.failover.switches"
"""Counter ({switch}): moves to the next candidate, from -> to provider, with the failure's ``error.type``."""

FAILOVER_OVERHEAD: Final = "chatbot.failover.overhead"
"""Histogram (s): chain start to the start of the attempt that served, for chains that switched."""

FAILOVER_CHAINS: Final = "chatbot.failover.chains"
"""Counter ({chain}): chains by :data:`FAILOVER_OUTCOME` (``served`` | ``exhausted``)."""

FAILOVER_NAME: Final = "chatbot.failover.name"
FAILOVER_OUTCOME: Final = "chatbot.failover.outcome"
FAILOVER_FROM: Final = "chatbot.failover.from"
"""The provider (``gen_ai.provider.name`` value) of the attempt that failed."""
FAILOVER_TO: Final = "chatbot.failover.to"
"""The provider of the attempt that followed it."""
FAILOVER_ATTEMPT: Final = "chatbot.failover.attempt"
"""Span attribute: the attempt's position in its chain (1-based)."""
FAILOVER_ATTEMPT_COUNT: Final = "chatbot.failover.attempt_count"
"""Span attribute: how many attempts the chain made."""
FAILOVER_OVERHEAD_ATTRIBUTE: Final = "chatbot.failover.overhead"

OUTCOME_SERVED: Final = "served"
"""An attempt returned (its block ended without an exception) / a chain an attempt served."""
OUTCOME_FAILED: Final = "failed"
"""An attempt whose block raised."""
OUTCOME_EXHAUSTED: Final = "exhausted"
"""A chain that ended without any attempt serving."""

FAILOVER_OVERHEAD_BUCKETS: Final[tuple[float, ...]] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
"""Seconds; 0.15 is the gateway documents' fallback-overhead target (< 150 ms)."""

# --- User feedback ------------------------------------------------------------------------

EVALUATION_RESULT_EVENT: Final = "gen_ai.evaluation.result"
"""The GenAI convention's event for the result of evaluating an answer (a log record)."""

FEEDBACK_EVALUATION_NAME: Final = "user_feedback"
"""``gen_ai.evaluation.name`` of feedback given by the app's users."""

FEEDBACK: Final = "chatbot.feedback"
"""Counter ({feedback}): feedback received, by ``gen_ai.evaluation.score.label`` and :data:`FEEDBACK_SENTIMENT`."""

FEEDBACK_SCORE: Final = "chatbot.feedback.score"
"""Histogram (1): the scores (0 worst .. 1 best)."""

FEEDBACK_SENTIMENT: Final = "chatbot.feedback.sentiment"
"""``negative`` (score < 0.5), ``neutral`` (0.5) or ``positive`` (> 0.5): the negative-ratio alert's label."""
SENTIMENT_NEGATIVE: Final = "negative"
SENTIMENT_NEUTRAL: Final = "neutral"
SENTIMENT_POSITIVE: Final = "positive"

FEEDBACK_SCORE_BUCKETS: Final[tuple[float, ...]] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

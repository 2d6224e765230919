"""Operator helpers: what chatbot teams measure by hand, as OpenTelemetry spans, metrics and events.

- :func:`~otel_chatbot.helpers.cache.cache_lookup`: a response cache's lookups, hit ratio,
  similarity, and the tokens and cost its hits saved;
- :func:`~otel_chatbot.helpers.failover.failover`: a chain of provider attempts, its
  switches, its overhead and whether it was served or exhausted;
- :func:`~otel_chatbot.helpers.feedback.record_feedback`: a user's verdict on an answer,
  as the GenAI ``gen_ai.evaluation.result`` event in the answer's trace;
- :func:`~otel_chatbot.helpers.tools.execute_tool`: the app's own tool runs, as the GenAI
  convention's ``execute_tool {name}`` spans and a duration histogram.

Each records into the configuration ``configure()`` made and does nothing without one;
each checks its arguments either way. All are exported from ``otel_chatbot``.
"""

from otel_chatbot.helpers.cache import CacheLookup, cache_lookup
from otel_chatbot.helpers.failover import FailoverAttempt, FailoverChain, failover
from otel_chatbot.helpers.feedback import record_feedback
from otel_chatbot.helpers.tools import ToolExecution, execute_tool

__all__ = [
    "CacheLookup",
    "FailoverAttempt",
    "FailoverChain",
    "ToolExecution",
    "cache_lookup",
    "execute_tool",
    "failover",
    "record_feedback",
]

"""otel_chatbot: an OpenTelemetry distribution for FastAPI chatbot services on AWS Bedrock.

``from otel_chatbot import configure; configure(app)`` or
``opentelemetry-instrument uvicorn app:app`` — same telemetry either way. The public API
is typed (``py.typed``): ``configure()``'s keywords are :class:`SettingsKeywords`.
The operator helpers :func:`cache_lookup`, :func:`failover`, :func:`record_feedback` and
:func:`execute_tool` record into the configuration ``configure()`` made (:mod:`otel_chatbot.helpers`).
"""

from otel_chatbot.config import ConfigError, Settings, SettingsKeywords
from otel_chatbot.helpers import (
    CacheLookup,
    FailoverAttempt,
    FailoverChain,
    ToolExecution,
    cache_lookup,
    execute_tool,
    failover,
    record_feedback,
)
from otel_chatbot.telemetry import Telemetry, configure
from otel_chatbot.version import __version__

__all__ = [
    "CacheLookup",
    "ConfigError",
    "FailoverAttempt",
    "FailoverChain",
    "Settings",
    "SettingsKeywords",
    "Telemetry",
    "ToolExecution",
    "__version__",
    "cache_lookup",
    "configure",
    "execute_tool",
    "failover",
    "record_feedback",
]

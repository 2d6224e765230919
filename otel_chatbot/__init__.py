"""otel_chatbot: an OpenTelemetry distribution for FastAPI chatbot services on AWS Bedrock.

``from otel_chatbot import configure; configure(app)`` or
``opentelemetry-instrument uvicorn app:app`` — same telemetry either way. The public API
is typed (``py.typed``): ``configure()``'s keywords are :class:`SettingsKeywords`.
The operator helpers :func:`cache_lookup`, :func:`failover` and :func:`record_feedback`
record into the configuration ``configure()`` made (:mod:`otel_chatbot.helpers`);
``execute_tool(name, call_id)`` traces the app's own tool runs (``otel_chatbot.tools``).
"""

from otel_chatbot.config import ConfigError, Settings, SettingsKeywords
from otel_chatbot.helpers import (
    CacheLookup,
    FailoverAttempt,
    FailoverChain,
    cache_lookup,
    failover,
    record_feedback,
)
from otel_chatbot.telemetry import Telemetry, configure
from otel_chatbot.tools import ToolExecution, execute_tool
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

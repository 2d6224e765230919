"""otel_chatbot: an OpenTelemetry distribution for FastAPI chatbot services on AWS Bedrock.

``from otel_chatbot import configure; configure(app)`` or
``opentelemetry-instrument uvicorn app:app`` — same telemetry either way. The public API
is typed (``py.typed``): ``configure()``'s keywords are :class:`SettingsKeywords`.
``execute_tool(name, call_id)`` traces the app's own tool runs (``otel_chatbot.tools``).
"""

from otel_chatbot.config import ConfigError, Settings, SettingsKeywords
from otel_chatbot.telemetry import Telemetry, configure
from otel_chatbot.tools import ToolExecution, execute_tool
from otel_chatbot.version import __version__

__all__ = [
    "ConfigError",
    "Settings",
    "SettingsKeywords",
    "Telemetry",
    "ToolExecution",
    "__version__",
    "configure",
    "execute_tool",
]

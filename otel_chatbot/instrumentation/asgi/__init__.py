"""The lean ASGI server instrumentation, one idea per module.

- :mod:`.types` — the ASGI callable shapes, declared once;
- :mod:`.server` — the instruments and options of one configuration, built once;
- :mod:`.request` — one HTTP request or WebSocket connection: its span, its wrappers of
  ``receive``/``send`` and the one path that finishes both;
- :mod:`.lifecycle` — the process around the requests: the lifespan start-up and shutdown;
- :mod:`.middleware` — the middleware that sends each scope to one of the two.
"""

from otel_chatbot.instrumentation.asgi.middleware import TelemetryMiddleware
from otel_chatbot.instrumentation.asgi.server import ServerTelemetry

__all__ = ["ServerTelemetry", "TelemetryMiddleware"]

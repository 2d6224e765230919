"""``otel-chatbot top``: a terminal monitor of the live stats view."""

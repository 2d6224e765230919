"""Entry point for ``python -m otel_chatbot.testing.otlp_sink``."""

from otel_chatbot.testing.otlp_sink.cli import main

raise SystemExit(main())

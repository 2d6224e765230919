"""Entry point for ``python -m examples.otlp_sink``."""

from examples.otlp_sink.cli import main

raise SystemExit(main())

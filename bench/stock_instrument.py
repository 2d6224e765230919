"""Run uvicorn under *stock* OpenTelemetry auto-instrumentation, with otel_chatbot hidden.

``opentelemetry-instrument`` loads every installed package's ``opentelemetry_*`` entry
points, and otel_chatbot (installed in the same venv) registers some of its own, e.g. an
``opentelemetry_pre_instrument`` hook that sets otel_chatbot up whatever distro won.
So "stock" under ``opentelemetry-instrument`` in this venv would not be stock.

This launcher does what ``opentelemetry-instrument``'s ``sitecustomize`` does --
``opentelemetry.instrumentation.auto_instrumentation.initialize()`` (distro, configurators,
pre-instrument hooks, instrumentors) -- but with otel_chatbot's entry points filtered out,
as if the package were not installed, then runs uvicorn in the same process::

    python bench/stock_instrument.py bench.apps.minimal:app --port 8000 ...   # uvicorn arguments
"""

from __future__ import annotations

import sys
from typing import Any

from opentelemetry.instrumentation.auto_instrumentation import _load

_entry_points = _load.entry_points  # type: ignore[attr-defined]


def _without_otel_chatbot(**kwargs: Any) -> list[Any]:
    return [ep for ep in _entry_points(**kwargs) if not ep.value.startswith("otel_chatbot")]


_load.entry_points = _without_otel_chatbot  # type: ignore[attr-defined,assignment]


def main() -> None:
    from opentelemetry.instrumentation.auto_instrumentation import initialize

    initialize()
    from uvicorn.main import main as uvicorn_main

    sys.argv = ["uvicorn", *sys.argv[1:]]
    uvicorn_main()


if __name__ == "__main__":
    main()

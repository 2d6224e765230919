"""Append-only JSON-lines log of everything received (handy to follow a demo)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TextIO

from otel_chatbot.testing.otlp_sink.jsonable import json_lines
from otel_chatbot.testing.otlp_sink.signals import Batch


class JsonlWriter:
    """Writes each accepted batch as JSON lines, flushed per batch so ``tail -f`` works."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._file: TextIO | None = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 - open for the sink's life

    def write(self, batch: Batch) -> None:
        if not batch.records:
            return
        text = json_lines(batch.signal, batch.records)
        with self._lock:
            if self._file is not None:
                self._file.write(text)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

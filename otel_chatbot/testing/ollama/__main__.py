"""CLI: ``python -m otel_chatbot.testing.ollama --host 127.0.0.1 --port 0``.

Prints ``listening on http://HOST:PORT`` once bound (flushed, so a parent process can read the
port chosen for ``--port 0``) and serves until SIGTERM or SIGINT, then exits 0. Ollama
clients take ``http://HOST:PORT``; OpenAI clients ``base_url=http://HOST:PORT/v1``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from otel_chatbot.testing.ollama.server import OllamaServer
from otel_chatbot.testing.standin.cli import serve


def main(argv: Sequence[str] | None = None) -> int:
    return serve(OllamaServer, "python -m otel_chatbot.testing.ollama", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

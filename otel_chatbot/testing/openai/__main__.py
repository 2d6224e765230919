"""CLI: ``python -m otel_chatbot.testing.openai --host 127.0.0.1 --port 0``.

Prints ``listening on http://HOST:PORT`` once bound (flushed, so a parent process can read the
port chosen for ``--port 0``) and serves until SIGTERM or SIGINT, then exits 0. OpenAI clients
take ``base_url=http://HOST:PORT/v1``; Azure OpenAI clients ``azure_endpoint=http://HOST:PORT``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from otel_chatbot.testing.openai.server import OpenAIServer
from otel_chatbot.testing.standin.cli import serve


def main(argv: Sequence[str] | None = None) -> int:
    return serve(OpenAIServer, "python -m otel_chatbot.testing.openai", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

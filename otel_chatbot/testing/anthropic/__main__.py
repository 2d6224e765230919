"""CLI: ``python -m otel_chatbot.testing.anthropic --host 127.0.0.1 --port 0``.

Prints ``listening on http://HOST:PORT`` once bound (flushed, so a parent process can read the
port chosen for ``--port 0``) and serves until SIGTERM or SIGINT, then exits 0. Anthropic
clients take ``base_url=http://HOST:PORT``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from otel_chatbot.testing.anthropic.server import AnthropicServer
from otel_chatbot.testing.standin.cli import serve


def main(argv: Sequence[str] | None = None) -> int:
    return serve(AnthropicServer, "python -m otel_chatbot.testing.anthropic", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())

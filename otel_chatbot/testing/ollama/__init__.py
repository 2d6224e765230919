"""A local Ollama for your tests, the demo and the compose stack: native ``/api/`` and OpenAI-compatible ``/v1/``.

Plain HTTP clients (httpx, aiohttp, the ``ollama`` package) and OpenAI clients with
``base_url=server.openai_base_url`` work against it. Streams are NDJSON and on by default, as
Ollama's are. Answers are deterministic, the tokens it reported are kept in a ledger
(``server.ledger``) and faults are injected on cue (``server.inject("stream_cut")``). Standard
library only. The paths, the deterministic answers and the faults are listed in ``README.md``
beside this file; ``python -m otel_chatbot.testing.ollama --port 0`` serves it from a process.
"""

from otel_chatbot.testing.ollama.server import OllamaServer
from otel_chatbot.testing.standin.ledger import LedgerEntry

__all__ = ["LedgerEntry", "OllamaServer"]

"""A local OpenAI-compatible server (and Azure OpenAI resource) for your tests, the demo and the compose stack.

Unmodified ``openai`` SDK clients work against it -- ``OpenAI(**server.client_kwargs())``,
``AzureOpenAI(**server.azure_kwargs())``, sync and async, streamed or not -- as do plain HTTP
clients. Answers are deterministic, the tokens it reported are kept in a ledger
(``server.ledger``) and faults are injected on cue (``server.inject("rate_limit")``). Standard
library only. The paths, the deterministic answers and the faults are listed in ``README.md``
beside this file; ``python -m otel_chatbot.testing.openai --port 0`` serves it from a process.
"""

from otel_chatbot.testing.openai.server import AzureClientKwargs, OpenAIClientKwargs, OpenAIServer
from otel_chatbot.testing.standin.ledger import LedgerEntry

__all__ = ["AzureClientKwargs", "LedgerEntry", "OpenAIClientKwargs", "OpenAIServer"]

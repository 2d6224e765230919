"""A local Anthropic Messages API for your tests, the demo and the compose stack.

Unmodified ``anthropic`` SDK clients work against it -- ``Anthropic(**server.client_kwargs())``,
sync and async, ``messages.create(stream=True)`` and ``messages.stream(...)``, tool use -- as
do plain HTTP clients. Answers are deterministic, the tokens it reported are kept in a ledger
(``server.ledger``) and faults are injected on cue (``server.inject("overloaded")``). Standard
library only. The deterministic answers and the faults are listed in ``README.md`` beside this
file; ``python -m otel_chatbot.testing.anthropic --port 0`` serves it from a process.
:mod:`.messages` also serves the Bedrock stand-in's Claude bodies.
"""

from otel_chatbot.testing.anthropic.server import AnthropicClientKwargs, AnthropicServer
from otel_chatbot.testing.standin.ledger import LedgerEntry

__all__ = ["AnthropicClientKwargs", "AnthropicServer", "LedgerEntry"]

"""A local Bedrock-compatible server for your tests, the demo, the benchmarks and the compose stack.

Unmodified boto3 / aiobotocore ``bedrock-runtime`` and ``bedrock-agent-runtime`` clients work
against it (``boto3.client("bedrock-runtime", **server.client_kwargs())``); answers are
deterministic, the tokens it reported are kept in a ledger (``server.ledger.totals()``), and
faults are injected on cue (``server.inject("throttle")``). Standard library only.
The operations, the deterministic answers and the faults are listed in ``README.md`` beside
this file; ``python -m otel_chatbot.testing.bedrock --port 0`` serves it from a process.
"""

from otel_chatbot.testing.bedrock.server import BedrockServer, ClientKwargs
from otel_chatbot.testing.standin.ledger import LedgerEntry

__all__ = ["BedrockServer", "ClientKwargs", "LedgerEntry"]

"""A local Bedrock-compatible server for demos, end-to-end tests and benchmarks.

Unmodified boto3 / aiobotocore ``bedrock-runtime`` and ``bedrock-agent-runtime`` clients work
against it through ``endpoint_url``; answers are deterministic, token totals are kept in a
ledger, and faults can be injected on cue. Standard library only.
"""

from otel_chatbot.testing.bedrock.server import BedrockServer

__all__ = ["BedrockServer"]

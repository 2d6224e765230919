"""Pure domain logic of GenAI telemetry: what a call asked for and got, what it cost.

Functions here take what the caller passed and the SDK returned (parameter dicts,
response dicts, raw bodies, headers, stream events) and return frozen values with
``attributes()`` dicts named by the OpenTelemetry GenAI semantic conventions. No
OpenTelemetry SDK objects, no I/O at import; the wiring decides what to record and when.

- :mod:`.types`: ``GenAIRequest`` / ``GenAIResponse`` / ``TokenUsage``, provider-neutral;
- :mod:`.operations`: the row type of an operation table (``Operation``, ``StreamSpec``);
- :mod:`.bedrock_operations`: the Bedrock table, over the parsers of :mod:`.bedrock`,
  :mod:`.families`, :mod:`.agents` and :mod:`.streams`;
- :mod:`.content`, :mod:`.redaction`: opt-in message capture; :mod:`.pricing`: cost;
  :mod:`.names`: the names no convention defines yet.

The names below are the ones the wiring uses (a test keeps each one in use).
"""

from __future__ import annotations

from .bedrock import is_throttling
from .pricing import Cost, PriceTable
from .redaction import Redactor
from .types import GenAIRequest, GenAIResponse

__all__ = [
    "Cost",
    "GenAIRequest",
    "GenAIResponse",
    "PriceTable",
    "Redactor",
    "is_throttling",
]

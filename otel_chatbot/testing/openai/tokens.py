"""The token counts an OpenAI-speaking server reports, from the deterministic model's usage.

OpenAI's ``prompt_tokens`` / ``input_tokens`` include the cached prefix; ``cached_tokens`` says
how many of them were cached (whole ``CACHE_INCREMENT`` steps); writing to the cache is not
reported apart. The ledger records exactly these numbers: ``input_tokens`` = prompt tokens,
``cache_read_input_tokens`` = cached tokens, ``cache_write_input_tokens`` = 0.
"""

from __future__ import annotations

from otel_chatbot.testing.openai.prompts import cached_tokens
from otel_chatbot.testing.standin.usage import Usage


def reported(usage: Usage) -> Usage:
    """``usage`` as OpenAI words it (see the module docstring)."""
    prompt = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_write_input_tokens
    return Usage(prompt, usage.output_tokens, cached_tokens(usage.cache_read_input_tokens), 0)

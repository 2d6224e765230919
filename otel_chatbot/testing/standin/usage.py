"""Token usage of one model invocation, shared by response bodies, headers and the ledger.

Keeping a single value object is what guarantees that the numbers a client reads in a body,
a header or a stream's metadata are exactly the numbers the ledger adds up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Tokens reported for one invocation, as its provider counts them.

    Bedrock and Anthropic: ``input_tokens`` excludes the cached prefix (reported as cache read or
    write tokens). OpenAI (and what speaks like it): ``input_tokens`` is ``prompt_tokens``, cached
    tokens included. Each stand-in's README says which wire field feeds which field here.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Bedrock's ``totalTokens``: input, output and both cache counts added together."""
        return self.input_tokens + self.output_tokens + self.cache_read_input_tokens + self.cache_write_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_write_input_tokens + other.cache_write_input_tokens,
        )

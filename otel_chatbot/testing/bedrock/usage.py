"""Token usage of one model invocation, shared by response bodies, headers and the ledger.

Keeping a single value object is what guarantees that the numbers a client reads in a body,
a header or a stream's metadata are exactly the numbers the ledger adds up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Tokens reported for one invocation; ``input_tokens`` excludes cached prefix tokens."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Bedrock's ``totalTokens``: input, output and both cache counts added together."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_input_tokens
            + self.cache_write_input_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_write_input_tokens + other.cache_write_input_tokens,
        )

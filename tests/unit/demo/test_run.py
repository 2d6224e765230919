"""The demo's Bedrock cross-check line: the server's own ledger, input counted as the convention counts it."""

from __future__ import annotations

from otel_chatbot.demo.run import ledger_line


def test_ledger_input_includes_cache_reads_and_writes() -> None:
    totals = {
        "calls": 5,
        "input_tokens": 70,  # the stand-in, like Bedrock, reports input without the cached prefix
        "output_tokens": 40,
        "cache_read_input_tokens": 300,
        "cache_write_input_tokens": 100,
        "errors": {},
    }
    assert ledger_line(totals) == (
        "the Bedrock server itself counted 5 calls, 470 input (300 cache read, 100 cache write) and 40 output tokens"
    )

"""The system blocks: a cache point only with the handbook, after it, and the same prefix every time."""

from __future__ import annotations

import json

from otel_chatbot.demo.chatbot.handbook import SYSTEM_PROMPT, system_blocks


def test_without_the_handbook_there_is_no_cache_point() -> None:
    assert system_blocks(False) == [{"text": SYSTEM_PROMPT}]


def test_the_cache_point_closes_a_prefix_that_never_changes() -> None:
    blocks = system_blocks(True)
    assert blocks[-1] == {"cachePoint": {"type": "default"}}
    assert all("cachePoint" not in block for block in blocks[:-1])
    # Bedrock reads the cache only for a byte-identical prefix: nothing per request may slip in.
    assert json.dumps(system_blocks(True)) == json.dumps(blocks)
    blocks.append({"text": "mutated by a caller"})
    assert len(system_blocks(True)) == 3

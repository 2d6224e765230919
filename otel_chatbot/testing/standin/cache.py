"""In-memory emulation of Bedrock prompt caching.

Real Bedrock writes a marked prompt prefix to its cache on first use and reads it on later
requests with the same prefix. Emulating that (per model, keyed by the prefix text) lets
consumers see both ``cacheWriteInputTokens`` and ``cacheReadInputTokens`` deterministically:
the first request with a prefix writes, every later one reads, until ``clear()``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict


class PromptCache:
    """Thread-safe, bounded set of cached prefixes (no TTL, so results never depend on time)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def hit_or_store(self, scope: str, prefix: tuple[str, ...]) -> bool:
        """Return True when the prefix was cached already; otherwise cache it and return False."""
        digest = hashlib.sha256()
        digest.update(scope.encode("utf-8"))
        for part in prefix:
            digest.update(b"\x00")
            digest.update(part.encode("utf-8"))
        key = digest.hexdigest()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return True
            self._entries[key] = None
            if len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
            return False

    def clear(self) -> None:
        """Forget every prefix, e.g. on ``POST /__control/reset``."""
        with self._lock:
            self._entries.clear()

"""An in-process semantic cache: the answer to a question close enough to one asked before.

Similarity is the cosine of the two questions' word-count vectors (lower-cased words, a few
stop words left out): no model to download, deterministic, enough to recognise a question
asked again in other words. A lookup returns the best match and its similarity, so a miss
still tells how close the nearest question came (what ``chatbot.cache.similarity`` shows).
Bounded (least recently used entries go first; a lookup scans them all, ~256 entries) and
shared by threads.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.85
"""The gateway documents' similarity threshold."""

_WORD = re.compile(r"[a-z0-9']+")
_STOP_WORDS = frozenset({"a", "an", "the", "is", "are", "to", "of", "my", "me", "i", "you", "your", "please", "can"})


@dataclass(frozen=True)
class CachedAnswer:
    """What a model answered, and the tokens it took: what a hit saves."""

    reply: str
    stop_reason: str | None
    input_tokens: int
    output_tokens: int


def words(text: str) -> Counter[str]:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS)


def cosine(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two word counts, 0 (nothing shared) to 1 (the same words, as often)."""
    if not a or not b:
        return 0.0
    dot = sum(count * b[word] for word, count in a.items())
    return min(1.0, dot / (math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values()))))


class SemanticCache:
    """Answers by question; :meth:`lookup` finds the most similar question at or above ``threshold``."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, capacity: int = 256) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.threshold = threshold
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[Counter[str], CachedAnswer]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, question: str) -> tuple[CachedAnswer | None, float]:
        """(the answer, its similarity) for a hit; (None, the best similarity found) for a miss."""
        asked = words(question)
        best_key, best = None, 0.0
        with self._lock:
            for key, (known, _) in self._entries.items():
                similarity = cosine(asked, known)
                if similarity > best:
                    best_key, best = key, similarity
            if best_key is None or best < self.threshold:
                return None, best
            self._entries.move_to_end(best_key)
            return self._entries[best_key][1], best

    def store(self, question: str, answer: CachedAnswer) -> None:
        with self._lock:
            self._entries[question] = (words(question), answer)
            self._entries.move_to_end(question)
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

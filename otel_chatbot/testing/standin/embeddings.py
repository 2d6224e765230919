"""Deterministic embedding vectors: the same text always gets the same unit vector.

A vector is drawn from a generator seeded with the text's SHA-256, then scaled to length 1, so
similarity search over stand-in embeddings behaves (identical texts match exactly) without a
model. Token ids (OpenAI accepts them as input) are embedded through their decimal text.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct

MAX_DIMENSIONS = 3072


def embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector of ``dimensions`` floats (rounded to float32 precision), a pure function of ``text``."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    generator = random.Random(seed)
    values = [generator.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    packed = struct.pack(f"<{dimensions}f", *(value / norm for value in values))
    return list(struct.unpack(f"<{dimensions}f", packed))


def as_base64(vector: list[float]) -> str:
    """OpenAI's ``encoding_format: "base64"``: little-endian float32 values, base64 encoded."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")

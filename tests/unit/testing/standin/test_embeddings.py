"""Embedding vectors: a pure function of the text, unit length, float32 on the wire."""

from __future__ import annotations

import base64
import struct

import pytest

from otel_chatbot.testing.standin.embeddings import as_base64, embedding


def test_the_same_text_gets_the_same_unit_vector() -> None:
    vector = embedding("hello world", 16)
    assert vector == embedding("hello world", 16) != embedding("hello there", 16)
    assert sum(value * value for value in vector) == pytest.approx(1.0, rel=1e-6)


def test_base64_is_little_endian_float32() -> None:
    vector = embedding("x", 4)
    assert list(struct.unpack("<4f", base64.b64decode(as_base64(vector)))) == vector

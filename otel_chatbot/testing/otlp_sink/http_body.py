"""Reading and decoding an HTTP request body (length-delimited or chunked, maybe gzipped)."""

from __future__ import annotations

import gzip
import zlib
from email.message import Message as Headers
from io import BufferedIOBase


class BodyError(ValueError):
    """The body could not be read or decompressed."""


def read_body(headers: Headers, rfile: BufferedIOBase) -> bytes:
    """The raw body, honouring Content-Length or chunked transfer encoding."""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return _read_chunked(rfile)
    try:
        length = int(headers.get("Content-Length", "0"))
    except ValueError as exc:
        raise BodyError("bad Content-Length") from exc
    body = rfile.read(length) if length > 0 else b""
    if len(body) != length:
        raise BodyError("body shorter than Content-Length")
    return body


def decompress(headers: Headers, body: bytes) -> bytes:
    """Undo Content-Encoding (OTLP exporters use gzip; deflate is cheap to accept too)."""
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise BodyError(f"cannot {encoding}-decode body: {exc}") from exc
    if encoding not in ("", "identity"):
        raise BodyError(f"unsupported Content-Encoding {encoding!r}")
    return body


def _read_chunked(rfile: BufferedIOBase) -> bytes:
    parts: list[bytes] = []
    while True:
        line = rfile.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise BodyError("bad chunk size") from exc
        if size == 0:
            break
        parts.append(rfile.read(size))
        rfile.readline(1024)  # CRLF after the chunk
    while rfile.readline(1024).strip():  # trailers up to the blank line
        pass
    return b"".join(parts)

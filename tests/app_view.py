"""What an app sees of an SDK call, in a comparable form: to run a scenario without and with the distro.

A scenario is the app's own code: it makes a call and consumes the answer as an app would
(reads the body, iterates the stream). :func:`seen` runs it and records everything the app
got: the return value, each item a stream yielded, and the exception that ended it (its
module, class and message), with what differs on every call anyway (request ids, dates,
latencies, uuids) masked. Two runs of the same scenario against the same deterministic
stand-in must then be equal, with the distro or without it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IDS = re.compile(r"\b(req|msg|chatcmpl|resp|call|toolu|rs|fc|cmpl|emb)([_-])[0-9A-Za-z_-]+")
_JSON_VOLATILE = re.compile(
    r'"(id|created|created_at|system_fingerprint|obfuscation|[a-z_]*duration)":("[^"]*"|[0-9.]+)'
)
_PORT = re.compile(r"127\.0\.0\.1:\d+")
_CHECKSUM = re.compile(r"0x[0-9a-f]{8}\b")
_VOLATILE_KEYS = re.compile(
    r"(latency|date|time|_at$|created|requestid|request_id|obfuscation|system_fingerprint|^id$|^x-)", re.IGNORECASE
)


def mask(value: Any) -> Any:
    """``value`` with the parts every call makes anew replaced, recursively; SDK models as their dicts."""
    if hasattr(value, "model_dump"):
        return {"<model>": type(value).__qualname__, **mask(value.model_dump())}
    if isinstance(value, dict):
        return {k: ("<volatile>" if _VOLATILE_KEYS.search(str(k)) else mask(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, bytes):
        try:  # a JSON document (a Bedrock chunk, a body) is masked field by field
            return {"<json>": mask(json.loads(value))}
        except ValueError:
            return mask_text(value.decode("utf-8", "replace"))
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text: str) -> str:
    text = _CHECKSUM.sub("0x<crc>", _UUID.sub("<uuid>", text))  # a frame's CRC covers its latencies
    text = _JSON_VOLATILE.sub(r'"\1":"<volatile>"', text)  # JSON seen as text: an SSE line, a cut body
    return _PORT.sub("127.0.0.1:<port>", _IDS.sub(r"\1\2<id>", text))


def failure(items: list[Any]) -> tuple[str, str, str, str] | None:
    """The exception that ended a run (see :func:`seen`), or None if it returned."""
    last = items[-1] if items else None
    return last if isinstance(last, tuple) and last[:1] == ("raised",) else None


def raised(exc: BaseException) -> tuple[str, str, str, str]:
    """The app's view of an exception: where its class lives, its name and its message."""
    return ("raised", type(exc).__module__, type(exc).__qualname__, mask_text(str(exc)))


class Seen:
    """What one run of a scenario showed the app, item by item."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def add(self, value: Any) -> Any:
        self.items.append(mask(value))
        return value

    def each(self, stream: Iterable[Any]) -> None:
        """Iterate ``stream`` as the app does, keeping every item (an exception ends it: :func:`seen` keeps that)."""
        for item in stream:
            self.add(item)

    async def each_async(self, stream: Any) -> None:
        async for item in stream:
            self.add(item)

    async def joined_async(self, chunks: Any) -> None:
        """Bytes read in chunks whose boundaries are the network's: kept joined (also when reading breaks)."""
        data: list[bytes] = []
        try:
            async for chunk in chunks:
                data.append(chunk)
        finally:
            self.add(b"".join(data))


def seen(scenario: Callable[[Seen], Any]) -> list[Any]:
    """Run ``scenario``; everything the app saw, ending with its return value or its exception."""
    record = Seen()
    try:
        record.add(scenario(record))
    except Exception as exc:
        record.items.append(raised(exc))
    return record.items


@dataclass
class WithAndWithout:
    """One scenario run uninstrumented, then instrumented: what the app saw each time, and the telemetry."""

    bare: list[Any]
    instrumented: list[Any]
    kit: Any
    still_open: list[str]
    logged: list[str]
    """Messages our loggers (``otel_chatbot.*``) wrote during the instrumented run."""


def with_and_without(
    kit_factory: Callable[..., Any], caplog: Any, run: Callable[[], list[Any]], **settings: Any
) -> WithAndWithout:
    """``run`` (which returns :func:`seen`) bare, then under a kit of ``settings`` with every library patched."""
    bare = run()
    from tests.configured import OpenSpans

    kit = kit_factory(**settings)
    open_spans = OpenSpans()
    kit.instrumentations.pipelines.tracer_provider.add_span_processor(open_spans)
    kit.instrumentations.apply_libraries(patch_all_apps=False)
    with caplog.at_level(logging.INFO, logger="otel_chatbot"):
        instrumented = run()
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("otel_chatbot")]
    return WithAndWithout(bare, instrumented, kit, open_spans.still_open(), logged)

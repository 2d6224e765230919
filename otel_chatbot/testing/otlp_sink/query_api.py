"""The ``/__sink/*`` JSON endpoints, for users in another process (benchmark, demo, e2e)."""

from __future__ import annotations

import json
from dataclasses import asdict
from urllib.parse import parse_qs

from otel_chatbot.testing.otlp_sink.behaviour import Behaviour
from otel_chatbot.testing.otlp_sink.jsonable import dumps
from otel_chatbot.testing.otlp_sink.receiver import Receiver
from otel_chatbot.testing.otlp_sink.records import LogEntry, Record
from otel_chatbot.testing.otlp_sink.signals import LOGS, METRICS, TRACES

PREFIX = "/__sink/"

_RECORD_ROUTES = {"spans": TRACES, "metrics": METRICS, "logs": LOGS}


def handle_query(receiver: Receiver, method: str, route: str, query: str, body: bytes) -> tuple[int, bytes]:
    """Answer one ``/__sink/<route>`` request with (HTTP status, JSON body).

    GET stats | spans | metrics | logs | behaviour (``?name=`` filters spans and
    metrics by name, logs by event name);
    POST reset | behaviour (body: Behaviour fields as JSON).
    """
    store = receiver.store
    if method == "GET" and route == "stats":
        return 200, dumps(store.stats())
    if method == "GET" and route in _RECORD_ROUTES:
        names = parse_qs(query).get("name")
        records = store.records(_RECORD_ROUTES[route])
        if names:
            records = [r for r in records if _name(r) in names]
        return 200, dumps(records)
    if method == "GET" and route == "behaviour":
        return 200, dumps(asdict(receiver.behaviour))
    if method == "POST" and route == "reset":
        store.reset()
        return 200, dumps({"reset": True})
    if method == "POST" and route == "behaviour":
        try:
            receiver.behaviour = Behaviour(**json.loads(body or b"{}"))
        except (ValueError, TypeError) as exc:
            return 400, dumps({"error": str(exc)})
        return 200, dumps(asdict(receiver.behaviour))
    return 404, dumps({"error": f"no {method} {PREFIX}{route}"})


def _name(record: Record) -> str:
    return record.event_name if isinstance(record, LogEntry) else record.name

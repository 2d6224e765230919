"""Transport-neutral handling of one decoded export request."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from otel_chatbot.testing.otlp_sink.behaviour import Behaviour
from otel_chatbot.testing.otlp_sink.jsonl import JsonlWriter
from otel_chatbot.testing.otlp_sink.signals import SignalSpec
from otel_chatbot.testing.otlp_sink.store import Store


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # answer success
    REFUSED = "refused"  # answer with behaviour.fail_with
    ABANDONED = "abandoned"  # nobody is waiting any more: do not answer


class Receiver:
    """Applies the current :class:`Behaviour`, then counts and stores the request.

    HTTP and gRPC both go through here, so both transports count identically.
    """

    def __init__(self, store: Store, jsonl: JsonlWriter | None = None) -> None:
        self.store = store
        self.behaviour = Behaviour()  # replaced wholesale, so readers never see half an update
        self.stopping = threading.Event()
        self._jsonl = jsonl

    def receive(
        self, spec: SignalSpec[Any], request: Message, client_waiting: Callable[[], bool]
    ) -> tuple[Outcome, Behaviour]:
        behaviour = self.behaviour
        if behaviour.delay_s > 0:
            self.stopping.wait(behaviour.delay_s)
            if self.stopping.is_set() or not client_waiting():
                self.store.note("abandoned")
                return Outcome.ABANDONED, behaviour
        if behaviour.fail_with is not None:
            self.store.note("refused")
            return Outcome.REFUSED, behaviour
        batch = spec.batch(request, flatten=self.store.keep or self._jsonl is not None)
        self.store.add(batch)
        if self._jsonl is not None:
            self._jsonl.write(batch)
        return Outcome.ACCEPTED, behaviour

    def reject(self) -> None:
        """Count an undecodable request."""
        self.store.note("rejected")

    def close(self) -> None:
        """Release the JSONL file, if any."""
        if self._jsonl is not None:
            self._jsonl.close()

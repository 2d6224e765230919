"""The ``anthropic`` SDK's own spans, turned off through its public ``open_telemetry`` client option.

anthropic 2.x starts a CLIENT span (``anthropic.messages.create``, scope
``com.anthropic.sdk.python``) for every API call whenever a tracer provider is set, and
makes the HTTP request its child. Our httpx2 instrumentation already makes that request
the call's one GenAI span, named by the convention (``chat {model}``) and feeding the
GenAI metrics; the SDK's span would be a second CLIENT span around it. So each client is
constructed with ``traces.enabled`` off: when the app passes no option, with
``{"traces": {"enabled": False}}``; when it passes its own, with that option and traces off
(its other fields kept). ``copy()`` / ``with_options()`` with an option get the same
treatment; without one a copy keeps its client's (already off). No environment variable
is written and no private name is used.

Only clients constructed while the configuration is active are changed: build clients
after ``configure()`` (``opentelemetry-instrument`` does so before the app is imported).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from otel_chatbot.guard import report

_log = logging.getLogger("otel_chatbot")

OPTION = "open_telemetry"


def without_traces(option: object) -> object:
    """``option`` (the SDK's ``OpenTelemetryClientOption``) with the client's spans off, the rest kept."""
    if option is None or option is True:
        return {"traces": {"enabled": False}}
    if option is False or not isinstance(option, Mapping):
        return option
    traces = option.get("traces")
    kept = dict(traces) if isinstance(traces, Mapping) else {}
    return {**option, "traces": {**kept, "enabled": False}}


class AnthropicSpansOff:
    """Wraps the constructors and copy methods of ``Anthropic`` and ``AsyncAnthropic``; reverted at shutdown."""

    def __init__(self) -> None:
        self._originals: list[tuple[type[Any], str, Any]] = []

    def apply(self) -> None:
        import anthropic

        if self._originals:
            return
        for cls in (anthropic.Anthropic, anthropic.AsyncAnthropic):
            for name, wrap in (("__init__", _constructor), ("copy", _copy), ("with_options", _copy)):
                original = cls.__dict__.get(name)
                if original is None:
                    continue
                self._originals.append((cls, name, original))
                setattr(cls, name, wrap(original))

    def revert(self) -> None:
        for cls, name, original in reversed(self._originals):
            setattr(cls, name, original)
        self._originals = []


def _constructor(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(client: Any, *args: Any, **kwargs: Any) -> None:
        try:
            kwargs[OPTION] = without_traces(kwargs.get(OPTION))
        except Exception as exc:
            report("anthropic client options", exc)
        original(client, *args, **kwargs)

    return __init__


def _copy(original: Callable[..., Any]) -> Callable[..., Any]:
    def copy(client: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            if kwargs.get(OPTION) is not None:
                kwargs[OPTION] = without_traces(kwargs[OPTION])
        except Exception as exc:
            report("anthropic client options", exc)
        return original(client, *args, **kwargs)

    return copy

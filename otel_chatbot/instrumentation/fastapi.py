"""Put :class:`TelemetryMiddleware` around a FastAPI/Starlette app's middleware stack.

Wrapping ``build_middleware_stack`` places the middleware outside Starlette's
``ServerErrorMiddleware``, so a request that crashes is still seen with its 500 status.
``configure(app)`` wraps one app; ``opentelemetry-instrument`` wraps the class so every
app built later is covered. Both install the same middleware, hence the same telemetry.
Mounted sub-applications are wrapped too but pass requests through (one span each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from otel_chatbot.compat import fastapi_native_telemetry_off
from otel_chatbot.instrumentation.asgi import ServerTelemetry, TelemetryMiddleware
from otel_chatbot.instrumentation.routes import RouteResolver

_MARK = "_otel_chatbot_telemetry"


def silence_native_telemetry(app: Any) -> None:
    """Turn off FastAPI's built-in telemetry for an app we instrument.

    FastAPI (0.16x+) records its own server span, ``http.server.request.duration`` and
    operation spans whenever global providers exist, in ``FastAPI.__call__`` — outside
    any middleware. Beside ours that would double every span and metric point, and its
    operation spans cost ~100 µs per request. Where FastAPI keeps the switches is its
    own business: :func:`otel_chatbot.compat.fastapi_native_telemetry_off`.
    """
    fastapi_native_telemetry_off(app)


def instrument_app(app: Any, telemetry: ServerTelemetry) -> bool:
    """Instrument one app; False when it already was (configure() is idempotent)."""
    if getattr(app, _MARK, None) is not None:
        return False
    silence_native_telemetry(app)
    original: Callable[[], Any] = app.build_middleware_stack

    def build_middleware_stack() -> Any:
        return TelemetryMiddleware(original(), telemetry, RouteResolver(app))

    app.build_middleware_stack = build_middleware_stack
    setattr(app, _MARK, telemetry)
    app.middleware_stack = None  # rebuilt on the next request, with us outside
    return True


def uninstrument_app(app: Any) -> None:
    if getattr(app, _MARK, None) is None:
        return
    del app.build_middleware_stack  # the instance attribute; the class method shows through again
    delattr(app, _MARK)
    app.middleware_stack = None


class ClassPatch:
    """Instrument every Starlette app, FastAPI included, built from now on.

    FastAPI overrides ``build_middleware_stack`` without calling Starlette's, so each
    class that defines the method itself is patched.
    """

    def __init__(self, telemetry: ServerTelemetry) -> None:
        self.telemetry = telemetry
        self._originals: list[tuple[type, Callable[..., Any]]] = []

    def apply(self, cls: type) -> None:
        """Patch ``cls`` if it defines ``build_middleware_stack`` itself (once)."""
        if "build_middleware_stack" in vars(cls) and all(owner is not cls for owner, _ in self._originals):
            original = vars(cls)["build_middleware_stack"]
            setattr(cls, "build_middleware_stack", self._wrap(original))  # noqa: B010
            self._originals.append((cls, original))

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        telemetry = self.telemetry

        def build_middleware_stack(app: Any) -> Any:
            stack = original(app)
            if getattr(app, _MARK, None) is not None:  # configure(app) wrapped this one itself
                return stack
            silence_native_telemetry(app)
            return TelemetryMiddleware(stack, telemetry, RouteResolver(app))

        return build_middleware_stack

    def revert(self) -> None:
        for cls, original in reversed(self._originals):
            setattr(cls, "build_middleware_stack", original)  # noqa: B010
        self._originals = []

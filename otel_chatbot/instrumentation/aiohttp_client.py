"""aiohttp client: a ``TraceConfig`` (aiohttp's public tracing hooks) added to every session."""

from __future__ import annotations

from typing import Any

from otel_chatbot.guard import report
from otel_chatbot.instrumentation.http_client import ClientTelemetry, OutgoingCall


class AiohttpInstrumentation:
    def __init__(self, telemetry: ClientTelemetry) -> None:
        self.telemetry = telemetry
        self._original_init: Any = None

    def trace_config(self) -> Any:
        import aiohttp

        telemetry = self.telemetry

        async def on_start(session: Any, ctx: Any, params: Any) -> None:
            try:
                carrier: dict[str, str] = {}
                ctx.otel_call = telemetry.start(params.method, str(params.url), carrier)
                for key, value in carrier.items():
                    params.headers[key] = value
            except Exception as exc:
                ctx.otel_call = None
                report("aiohttp request start", exc)

        async def on_end(session: Any, ctx: Any, params: Any) -> None:
            call: OutgoingCall | None = getattr(ctx, "otel_call", None)
            if call is not None:
                try:
                    version = params.response.version
                    call.end(params.response.status, f"{version.major}.{version.minor}" if version else None)
                except Exception as exc:
                    report("aiohttp request end", exc)

        async def on_exception(session: Any, ctx: Any, params: Any) -> None:
            call: OutgoingCall | None = getattr(ctx, "otel_call", None)
            if call is not None:
                try:
                    call.end(error=params.exception)
                except Exception as exc:
                    report("aiohttp request error", exc)

        config = aiohttp.TraceConfig()
        config.on_request_start.append(on_start)
        config.on_request_end.append(on_end)
        config.on_request_exception.append(on_exception)
        config.freeze()
        return config

    def apply(self) -> None:
        import aiohttp

        if self._original_init is not None:
            return
        original = aiohttp.ClientSession.__init__
        shared_config = self.trace_config()

        def __init__(session: Any, *args: Any, **kwargs: Any) -> None:
            try:
                configs = list(kwargs.get("trace_configs") or [])
                configs.append(shared_config)
                kwargs["trace_configs"] = configs
            except Exception as exc:
                report("aiohttp session", exc)
            original(session, *args, **kwargs)

        self._original_init = original
        setattr(aiohttp.ClientSession, "__init__", __init__)  # noqa: B010

    def revert(self) -> None:
        import aiohttp

        if self._original_init is not None:
            setattr(aiohttp.ClientSession, "__init__", self._original_init)  # noqa: B010
            self._original_init = None

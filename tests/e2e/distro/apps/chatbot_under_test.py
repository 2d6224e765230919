"""The example chatbot plus what a real service has and the example lacks: a log line per request.

The end-to-end tests need Python ``logging`` records emitted while a request is being
served, to check that they reach the collector carrying that request's trace and span
ids. Everything else is ``otel_chatbot.demo.chatbot.app`` unchanged (``CHATBOT_CONFIGURE_IN_CODE=1``
still switches on the in-code ``configure(app)`` path). Run with
``uvicorn --app-dir tests/e2e/distro/apps chatbot_under_test:app``.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from otel_chatbot.demo.chatbot.app import app

log = logging.getLogger("chatbot.requests")


class LogEachRequest:
    """Plain ASGI middleware: one WARNING record per HTTP request, before the app runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            log.warning("handling %s %s", scope["method"], scope["path"])
        await self.app(scope, receive, send)


app.add_middleware(LogEachRequest)

__all__ = ["app"]

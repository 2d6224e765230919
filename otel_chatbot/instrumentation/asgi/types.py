"""The ASGI 3 callable shapes (a scope, ``receive`` and ``send``), declared once for the package.

Values inside a scope or message are whatever the server put there, hence ``Any``; these
types stay internal to the instrumentation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

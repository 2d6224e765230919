"""Find the route template (``/chat/{session_id}``) of a request after routing.

Starlette's router stores the matched route in ``scope["route"]``. For a request that
went through mounted sub-applications the prefix in ``root_path`` is the raw path, so
the mount templates are found by matching the mounts again (rare; cached, bounded).
A request no route matched gets no template: raw paths never become attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_chatbot.instrumentation.asgi.types import Scope

_CACHE_LIMIT = 1024


class RouteResolver:
    """The route templates of one app (its mounts are matched again only for mounted requests)."""

    def __init__(self, app: object) -> None:
        self.app = app
        self._mount_cache: dict[str, str | None] = {}

    def template(self, scope: Scope) -> str | None:
        route = scope.get("route")
        path = getattr(route, "path", None) if route is not None else None
        if not isinstance(path, str) or not path:
            return None
        if "app_root_path" not in scope or scope.get("root_path", "") == scope["app_root_path"]:
            return path
        prefix = self._mount_prefix(_strip(scope["path"], scope["app_root_path"]))
        return (prefix + path) if prefix is not None else None

    def _mount_prefix(self, path: str) -> str | None:
        cache = self._mount_cache
        if path in cache:
            return cache[path]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        found = cache[path] = mount_templates(getattr(self.app, "routes", ()), path)
        return found


def _strip(path: str, root: str) -> str:
    return path[len(root) :] if root and path.startswith(root) else path


def mount_templates(routes: Sequence[Any], path: str) -> str | None:
    """The concatenated templates of the mounts ``path`` passes through, or None."""
    from starlette.routing import Match, Mount

    for route in routes:
        if not isinstance(route, Mount):
            continue
        match, child = route.matches({"type": "http", "path": path, "root_path": ""})
        if match is Match.FULL:
            remaining = path[len(child.get("root_path", "")) :] or "/"
            deeper = mount_templates(route.routes, remaining)
            return route.path + (deeper or "")
    return None

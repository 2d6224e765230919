"""Keep errors inside the distro from reaching the app, and its logs bounded.

Every call from the app into our code runs under :func:`guarded` (or the
:func:`internal` decorator): an exception is logged once per place and swallowed,
unless the process asked to see internal errors loudly (tests do).

A warning keyed by a value from outside (a model id, an attribute key) is logged
through :class:`BoundedOnce`: once per value for the first few values, then one line
saying the rest are not logged. Places are finite, outside values are not.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

_log = logging.getLogger("otel_chatbot")

P = ParamSpec("P")
R = TypeVar("R")


class _GuardState:
    """Process-wide switch and the set of places that already logged."""

    def __init__(self) -> None:
        self.raise_errors = False
        self.logged: set[str] = set()
        self.lock = threading.Lock()

    def first_time(self, where: str) -> bool:
        with self.lock:
            if where in self.logged:
                return False
            self.logged.add(where)
            return True


STATE = _GuardState()


def set_raise_internal_errors(value: bool) -> None:
    STATE.raise_errors = value


def report(where: str, exc: BaseException) -> None:
    """Log an internal error once per ``where``; re-raise when asked to."""
    if STATE.raise_errors:
        raise exc
    if STATE.first_time(where):
        _log.warning(
            "otel_chatbot: internal error in %s; telemetry for this call is incomplete, the app is "
            "unaffected (further errors here are not logged)",
            where,
            exc_info=exc,
        )


@contextmanager
def guarded(where: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # the point of the guard
        report(where, exc)


def internal(where: str, default: R) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a telemetry helper so its errors return ``default`` instead of raising."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                report(where, exc)
                return default

        return wrapper

    return decorate


class BoundedOnce:
    """Log once per distinct outside value, for the first ``limit`` values, then once more and stop.

    "Once per model id" is unbounded when the ids come from requests: 1,000 model ids made
    1,000 warnings. Here the first ``limit`` distinct keys each log their message once;
    the next new key logs one line saying that further ``what`` are not logged; after
    that nothing is logged and no key is remembered (memory stays bounded too).
    :attr:`suppressed` counts the occurrences left unsaid.

    Usage, at module level beside the logger::

        _UNPRICED = BoundedOnce(_log, "models without a price")
        ...
        _UNPRICED.warning(model_id, "otel_chatbot: no price for model %s; its cost is not recorded", model_id)
    """

    def __init__(self, logger: logging.Logger, what: str, limit: int = 10) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError(f"BoundedOnce limit must be an int >= 0, got {limit!r}")
        if not isinstance(logger, logging.Logger):
            raise TypeError(f"BoundedOnce needs a logging.Logger, got {type(logger).__name__}")
        self._logger = logger
        self.what = what
        self.limit = limit
        self._seen: set[Hashable] = set()
        self._closed = False
        self.suppressed = 0
        self._lock = threading.Lock()

    def first(self, key: Hashable) -> bool:
        """Whether ``key`` is new and within the limit (the caller logs); False otherwise."""
        with self._lock:
            if key in self._seen:
                self.suppressed += 1
                return False
            if len(self._seen) < self.limit:
                self._seen.add(key)
                return True
            self.suppressed += 1
            if self._closed:
                return False
            self._closed = True
        self._logger.warning("otel_chatbot: more than %d %s; further ones are not logged", self.limit, self.what)
        return False

    def log(self, level: int, key: Hashable, msg: str, *args: object, exc_info: BaseException | None = None) -> bool:
        """Log ``msg % args`` at ``level`` if :meth:`first` says so; return whether it was logged."""
        if not self.first(key):
            return False
        self._logger.log(level, msg, *args, exc_info=exc_info)
        return True

    def warning(self, key: Hashable, msg: str, *args: object) -> bool:
        return self.log(logging.WARNING, key, msg, *args)


class OncePerMessage(logging.Filter):
    """A filter for another library's logger: each message template passes once, repeats are counted.

    Upstream's OTLP encoder logs ``Failed to encode key ...`` on every occurrence (with a
    traceback); attached to its logger this keeps the first and drops the rest. The
    template (``record.msg``), not the formatted text, is the key: keys and values vary.
    """

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, str]] = set()
        self.suppressed = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        template = (record.name, str(record.msg))
        with self._lock:
            if template in self._seen:
                self.suppressed += 1
                return False
            self._seen.add(template)
        return True

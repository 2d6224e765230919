"""Keep errors inside the distro from reaching the app.

Every call from the app into our code runs under :func:`guarded` (or the
:func:`internal` decorator): an exception is logged once per place and swallowed,
unless the process asked to see internal errors loudly (tests do).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
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

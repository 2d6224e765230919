"""Python ``logging`` records → OTLP log records carrying the active trace and span ids.

One handler on the root logger, added once per configuration; records from the SDK
and the distro itself are skipped so an export failure cannot feed on itself.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider

from otel_chatbot.guard import report
from otel_chatbot.version import __version__

_SEVERITY = {
    logging.DEBUG: SeverityNumber.DEBUG,
    logging.INFO: SeverityNumber.INFO,
    logging.WARNING: SeverityNumber.WARN,
    logging.ERROR: SeverityNumber.ERROR,
    logging.CRITICAL: SeverityNumber.FATAL,
}
_SKIPPED_PREFIXES = ("opentelemetry", "otel_chatbot")
# LogRecord attributes that are the record's own machinery, not user "extra" data.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}


def severity_of(levelno: int) -> SeverityNumber:
    if levelno in _SEVERITY:
        return _SEVERITY[levelno]
    below = [level for level in _SEVERITY if level <= levelno]
    return _SEVERITY[max(below)] if below else SeverityNumber.TRACE


class OtlpLogHandler(logging.Handler):
    def __init__(self, logger_provider: LoggerProvider, level: int) -> None:
        super().__init__(level)
        self._provider = logger_provider
        self._loggers: dict[str, Any] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_SKIPPED_PREFIXES):
            return
        try:
            logger = self._loggers.get(record.name)
            if logger is None:
                logger = self._loggers[record.name] = self._provider.get_logger(record.name, __version__)
            attributes: dict[str, Any] = {
                "code.file.path": record.pathname,
                "code.function.name": record.funcName,
                "code.line.number": record.lineno,
            }
            for key, value in vars(record).items():
                if key not in _RESERVED and isinstance(value, (str, int, float, bool)):
                    attributes[key] = value
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                attributes["exception.type"] = type(exc).__qualname__
                attributes["exception.message"] = str(exc)
                attributes["exception.stacktrace"] = "".join(traceback.format_exception(exc))
            logger.emit(
                timestamp=int(record.created * 1e9),
                severity_number=severity_of(record.levelno),
                severity_text=record.levelname,
                body=record.getMessage(),
                attributes=attributes,
            )
        except Exception as exc:  # logged once, not once per record (handleError prints every time)
            report("the OTLP log handler", exc)

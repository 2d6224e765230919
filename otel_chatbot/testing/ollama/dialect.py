"""Ollama's errors: ``{"error": "<message>"}`` with the status, also as a line inside an NDJSON stream.

Ollama's own server has no rate limits, but the proxies and hosted Ollama endpoints chatbots
put in front of it do; their 429 (with ``retry-after``) and Ollama's 503 "server busy" are the
faults a client meets.
"""

from __future__ import annotations

import math

from otel_chatbot.testing.standin.api import ApiError, Dialect
from otel_chatbot.testing.standin.faults import Fault
from otel_chatbot.testing.standin.frames import NDJSON_CONTENT_TYPE, ndjson_line

BUSY = "server busy, please try again.  maximum pending requests exceeded"


class OllamaDialect(Dialect):
    stream_content_type = NDJSON_CONTENT_TYPE

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
        return ApiError(status, {"error": message})

    def bad_json(self) -> ApiError:
        return self.error(400, "invalid character looking for beginning of value")

    def no_route(self, method: str, path: str) -> ApiError:
        return self.error(404, "404 page not found")

    def model_not_found(self, model: str) -> ApiError:
        return self.error(404, f'model "{model}" not found, try pulling it first')

    def fault_error(self, fault: Fault) -> ApiError | None:
        message = fault.params.get("message") or ""
        if fault.name == "rate_limit":
            error = self.error(429, message or "too many requests, please retry later")
            error.headers["retry-after"] = str(math.ceil(fault.params["retry_after_s"]))
            return error
        if fault.name == "server_error":
            return self.error(500, message or "an error was encountered while running the model")
        if fault.name == "overloaded":
            return self.error(503, message or BUSY)
        return None

    def stream_error(self, message: str, position: int) -> tuple[bytes, str]:
        return ndjson_line({"error": message or "an error was encountered while running the model"}), "stream_error"

"""Anthropic's error shape and headers.

Errors are ``{"type": "error", "error": {"type", "message"}}`` with the type fixed by the status
(429 ``rate_limit_error``, 529 ``overloaded_error``...; the SDK picks ``RateLimitError``,
``OverloadedError``... by status). A failure inside a stream is an ``event: error`` with the
same body, after which the stream ends (the SDK raises ``APIStatusError``). Every answer
reports the rate-limit state in ``anthropic-ratelimit-*`` headers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from otel_chatbot.testing.standin.api import ApiError, Dialect, Request
from otel_chatbot.testing.standin.faults import Fault
from otel_chatbot.testing.standin.frames import sse_frame

REQUEST_LIMIT = 4_000
TOKEN_LIMIT = 2_000_000
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
OVERLOADED = "Overloaded"


def error_document(error_type: str, message: str) -> dict[str, object]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _reset_time(seconds: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


class AnthropicDialect(Dialect):
    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
        return ApiError(status, error_document(ERROR_TYPES.get(status, "api_error"), message))

    def bad_json(self) -> ApiError:
        return self.error(400, "There was an error parsing the body of your request as JSON.")

    def no_route(self, method: str, path: str) -> ApiError:
        return self.error(404, "Not Found")

    def model_not_found(self, model: str) -> ApiError:
        return self.error(404, f"model: {model}")

    def fault_error(self, fault: Fault) -> ApiError | None:
        message = fault.params.get("message") or ""
        if fault.name == "rate_limit":
            wait = math.ceil(fault.params["retry_after_s"])  # Anthropic sends whole seconds only
            message = message or (
                f"This request would exceed the rate limit for your organization of {REQUEST_LIMIT} requests "
                "per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits."
            )
            error = self.error(429, message)
            error.headers.update(
                {
                    "retry-after": str(wait),
                    "anthropic-ratelimit-requests-remaining": "0",
                    "anthropic-ratelimit-requests-reset": _reset_time(wait),
                }
            )
            return error
        if fault.name == "server_error":
            return self.error(500, message or "Internal server error")
        if fault.name == "overloaded":
            return self.error(529, message or OVERLOADED)
        return None

    def stream_error(self, message: str, position: int) -> tuple[bytes, str]:
        document = error_document("overloaded_error", message or OVERLOADED)
        return sse_frame(document, event="error"), "overloaded_error"

    def answer_headers(self, request: Request) -> dict[str, str]:
        reset = _reset_time(60)
        return {
            "anthropic-ratelimit-requests-limit": str(REQUEST_LIMIT),
            "anthropic-ratelimit-requests-remaining": str(REQUEST_LIMIT - 1),
            "anthropic-ratelimit-requests-reset": reset,
            "anthropic-ratelimit-tokens-limit": str(TOKEN_LIMIT),
            "anthropic-ratelimit-tokens-remaining": str(TOKEN_LIMIT),
            "anthropic-ratelimit-tokens-reset": reset,
        }

"""OpenAI's error shapes and headers, and Azure OpenAI's and Ollama's variants of them.

OpenAI answers errors as ``{"error": {"message", "type", "param", "code"}}`` (the SDK picks its
exception class by status: 429 ``RateLimitError``, 500 ``InternalServerError``...), reports its
rate-limit state in ``x-ratelimit-*`` headers on every answer and asks clients to wait with
``retry-after``. A failure inside a Chat Completions stream is a ``data: {"error": {...}}`` event
(the SDK raises ``APIError``); inside a Responses stream it is a typed ``error`` event.
"""

from __future__ import annotations

import copy
import math
import uuid

from otel_chatbot.testing.standin.api import ApiError, Dialect, Request, retry_after
from otel_chatbot.testing.standin.faults import Fault
from otel_chatbot.testing.standin.frames import sse_frame

# A fresh account's limits; every answer reports one request and no tokens used, so the
# headers are the same on every call (a 429 reports the limit reached instead).
REQUEST_LIMIT = 10_000
TOKEN_LIMIT = 10_000_000
SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"
OVERLOADED_MESSAGE = "The engine is currently overloaded, please try again later."


def _error_type(status: int) -> str:
    if status == 429:
        return "requests"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_document(
    message: str, error_type: str, code: str | None = None, param: str | None = None
) -> dict[str, object]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


class OpenAIDialect(Dialect):
    """api.openai.com; ``typed_stream_errors`` for the Responses API's ``event: error``."""

    def __init__(self, *, typed_stream_errors: bool = False) -> None:
        self.typed_stream_errors = typed_stream_errors

    def typed(self) -> OpenAIDialect:
        """This dialect for the Responses API, whose in-stream errors are typed ``error`` events."""
        clone = copy.copy(self)
        clone.typed_stream_errors = True
        return clone

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
        return ApiError(status, error_document(message, _error_type(status), code, param))

    def model_not_found(self, model: str) -> ApiError:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return self.error(404, message, code="model_not_found")

    def fault_error(self, fault: Fault) -> ApiError | None:
        message = fault.params.get("message") or ""
        if fault.name == "rate_limit":
            wait = fault.params["retry_after_s"]
            model = fault.selectors.get("model") or "this model"
            message = message or (
                f"Rate limit reached for {model} on requests per min (RPM): Limit {REQUEST_LIMIT}, "
                f"Used {REQUEST_LIMIT}, Requested 1. Please try again in {wait:g}s."
            )
            error = self.error(429, message, code="rate_limit_exceeded")
            error.headers.update(retry_after(wait))
            error.headers.update({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": f"{wait:g}s"})
            return error
        if fault.name == "server_error":
            return self.error(500, message or SERVER_ERROR_MESSAGE)
        if fault.name == "overloaded":
            return self.error(503, message or OVERLOADED_MESSAGE)
        return None

    def stream_error(self, message: str, position: int) -> tuple[bytes, str]:
        message = message or SERVER_ERROR_MESSAGE
        if self.typed_stream_errors:
            event = {"type": "error", "code": "server_error", "message": message, "param": None}
            return sse_frame({**event, "sequence_number": position}, event="error"), "server_error"
        return sse_frame(error_document(message, "server_error")), "server_error"

    def answer_headers(self, request: Request) -> dict[str, str]:
        return {
            "openai-version": "2020-10-01",
            "openai-processing-ms": str(request.clock.elapsed_ms()),
            "x-ratelimit-limit-requests": str(REQUEST_LIMIT),
            "x-ratelimit-limit-tokens": str(TOKEN_LIMIT),
            "x-ratelimit-remaining-requests": str(REQUEST_LIMIT - 1),
            "x-ratelimit-remaining-tokens": str(TOKEN_LIMIT),
            "x-ratelimit-reset-requests": "6ms",
            "x-ratelimit-reset-tokens": "0s",
        }


class AzureDialect(OpenAIDialect):
    """Azure OpenAI: ``{"error": {"code", "message"}}``, ``apim-request-id``, ``retry-after-ms``."""

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
        return ApiError(status, {"error": {"code": code or str(status), "message": message, "param": param}})

    def model_not_found(self, model: str) -> ApiError:
        message = (
            "The API deployment for this resource does not exist. If you created the deployment "
            "within the last 5 minutes, please wait a moment and try again."
        )
        return self.error(404, message, code="DeploymentNotFound")

    def fault_error(self, fault: Fault) -> ApiError | None:
        if fault.name != "rate_limit":
            return super().fault_error(fault)
        wait = fault.params["retry_after_s"]
        message = fault.params.get("message") or (
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded the call rate "
            f"limit of your current pricing tier. Please retry after {math.ceil(wait)} seconds."
        )
        error = self.error(429, message)
        error.headers.update(retry_after(wait))
        return error

    def answer_headers(self, request: Request) -> dict[str, str]:
        return {
            "apim-request-id": str(uuid.uuid4()),
            "x-ms-region": "East US",
            "x-ratelimit-remaining-requests": str(REQUEST_LIMIT - 1),
            "x-ratelimit-remaining-tokens": str(TOKEN_LIMIT),
        }


class OllamaCompatDialect(OpenAIDialect):
    """Ollama's ``/v1/``: OpenAI's error shape with Ollama's wording; no rate-limit headers."""

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None) -> ApiError:
        error_type = "api_error" if status >= 500 else "invalid_request_error"
        if status == 404:
            error_type = "not_found_error"
        return ApiError(status, error_document(message, error_type, code, param))

    def model_not_found(self, model: str) -> ApiError:
        return self.error(404, f'model "{model}" not found, try pulling it first')

    def answer_headers(self, request: Request) -> dict[str, str]:
        return {}

"""Modeled Bedrock errors in the rest-json protocol (status code + ``x-amzn-ErrorType``).

botocore picks the exception class from the ``x-amzn-ErrorType`` header and the JSON
``message``; sending exactly those lets unmodified clients raise the real modeled exceptions
(``client.exceptions.ThrottlingException`` and friends).
"""

from __future__ import annotations

STATUS_BY_CODE: dict[str, int] = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "UnknownOperationException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

MALFORMED_INPUT = "Malformed input request, please reformat your input and try again."


class ApiError(Exception):
    """An error response; raised anywhere while handling a request, rendered by the server."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """HTTP status botocore's service model associates with this error code."""
        return STATUS_BY_CODE.get(self.code, 400)


def validation(message: str = MALFORMED_INPUT) -> ApiError:
    """The 400 every malformed body gets, as Bedrock words it."""
    return ApiError("ValidationException", message)

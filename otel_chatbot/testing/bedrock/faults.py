"""Bedrock's faults: modeled errors, broken bodies, streams that stop, exception events, corrupt frames, slowness.

The queue and the validation are the stand-ins' shared ones (:mod:`otel_chatbot.testing.standin.faults`);
this module is the table of what Bedrock offers, aimed by ``operation`` and ``model`` (the ledger key).
"""

from __future__ import annotations

from otel_chatbot.testing.bedrock.routes import OPERATIONS
from otel_chatbot.testing.standin.faults import Fault, FaultCatalogue, FaultSpec

# fault name -> (error code, default message) for faults answered with an error response.
ERROR_FAULTS: dict[str, tuple[str, str]] = {
    "throttle": ("ThrottlingException", "Too many requests, please wait before trying again."),
    "server_error": ("InternalServerException", "The server encountered an internal error."),
    "unavailable": ("ServiceUnavailableException", "Bedrock is unable to process your request."),
    "timeout": ("ModelTimeoutException", "Model has timed out in processing the request."),
    "not_found": ("ResourceNotFoundException", "The requested resource could not be found."),
    "validation": ("ValidationException", "Injected validation failure."),
    "access_denied": ("AccessDeniedException", "User is not authorized to perform this action."),
}

STREAM_EXCEPTIONS = frozenset(
    {
        "internalServerException",
        "modelStreamErrorException",
        "modelTimeoutException",
        "serviceUnavailableException",
        "throttlingException",
        "validationException",
        "dependencyFailedException",
        "badGatewayException",
    }
)

CATALOGUE = FaultCatalogue(
    [
        *(FaultSpec(name, {"message": message}) for name, (_, message) in ERROR_FAULTS.items()),
        FaultSpec("malformed", applies="body"),
        FaultSpec("body_cut", applies="body"),
        FaultSpec("slow", {"delay_s": 1.0, "chunk_delay_s": 0.0}),
        FaultSpec("stream_cut", {"after_events": 1}, applies="stream"),
        FaultSpec(
            "stream_exception",
            {
                "after_events": 1,
                "exception": "throttlingException",
                "message": "Too many requests, please wait before trying again.",
            },
            applies="stream",
            choices={"exception": STREAM_EXCEPTIONS},
        ),
        FaultSpec("bad_crc", {"after_events": 1}, applies="stream"),
    ],
    selectors={"operation": OPERATIONS, "model": None},
)


def error_code(fault: Fault) -> str | None:
    """The modeled error an error fault answers with."""
    found = ERROR_FAULTS.get(fault.name)
    return found[0] if found else None

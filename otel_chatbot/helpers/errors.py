"""The ``error.type`` the helpers record for an exception from the app's block."""

from __future__ import annotations


def error_type_of(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError (``ThrottlingException``), else the class name.

    An app that translates the SDK's errors into its own (``raise ApiError(...) from exc``)
    still reports the code of the error it was raised from. botocore is not imported: an
    error is recognised by its ``response`` dict, as the botocore instrumentation does.
    """
    from otel_chatbot.instrumentation.botocore import error_type_of as aws_error_type_of

    cause = error.__cause__
    if cause is not None and not _has_aws_code(error) and _has_aws_code(cause):
        return aws_error_type_of(cause)
    return aws_error_type_of(error)


def _has_aws_code(error: BaseException) -> bool:
    response = getattr(error, "response", None)
    return isinstance(response, dict) and isinstance((response.get("Error") or {}).get("Code"), str)

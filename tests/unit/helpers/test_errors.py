"""error_type_of(): the AWS error code, also through an app's own error raised from it, else the class."""

from __future__ import annotations

from botocore.exceptions import ClientError

from otel_chatbot.helpers.errors import error_type_of


class ApiError(Exception):
    pass


def raised_from(cause: BaseException) -> ApiError:
    try:
        raise ApiError("translated") from cause
    except ApiError as error:
        return error


def test_the_aws_code_the_class_or_the_code_of_the_cause() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Converse")
    assert error_type_of(throttled) == "ThrottlingException"
    assert error_type_of(raised_from(throttled)) == "ThrottlingException"
    assert error_type_of(raised_from(KeyError("x"))) == "ApiError"
    assert error_type_of(TimeoutError()) == "TimeoutError"

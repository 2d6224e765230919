"""Credential query parameters are redacted in url.query and url.full; the rest is left as it came."""

from __future__ import annotations

import pytest

from otel_chatbot.instrumentation.http_semconv import redact_query

CASES = [
    # the semantic conventions' own list
    ("AWSAccessKeyId=AKIAEXAMPLE&Expires=1", "AWSAccessKeyId=REDACTED&Expires=1"),
    ("Signature=abc&x=1", "Signature=REDACTED&x=1"),
    ("sv=2022&sig=abc%2Bdef", "sv=2022&sig=REDACTED"),
    ("X-Goog-Signature=abc&X-Goog-Credential=me", "X-Goog-Signature=REDACTED&X-Goog-Credential=REDACTED"),
    # AWS SigV4 presigned URLs
    (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101&X-Amz-Date=20260101T000000Z"
        "&X-Amz-Security-Token=FwoG&X-Amz-Signature=f00d&X-Amz-SignedHeaders=host",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20260101T000000Z"
        "&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&X-Amz-SignedHeaders=host",
    ),
    ("x-amz-signature=f00d", "x-amz-signature=REDACTED"),
    # credentials by name, any case, "-" or "_"
    ("user=ann&password=hunter2", "user=ann&password=REDACTED"),
    ("passwd=x&pwd=y", "passwd=REDACTED&pwd=REDACTED"),
    ("secret=s&client_secret=c", "secret=REDACTED&client_secret=REDACTED"),
    (
        "api_key=1&apikey=2&api-key=3&ApiKey=4&API_KEY=5&key=6",
        "api_key=REDACTED&apikey=REDACTED&api-key=REDACTED&ApiKey=REDACTED&API_KEY=REDACTED&key=REDACTED",
    ),
    (
        "token=t&access_token=a&refresh_token=r&id_token=i",
        "token=REDACTED&access_token=REDACTED&refresh_token=REDACTED&id_token=REDACTED",
    ),
    ("auth=a&Authorization=Bearer%20x&session_token=s", "auth=REDACTED&Authorization=REDACTED&session_token=REDACTED"),
    # percent-encoded or plus-encoded names are still names
    ("pass%77ord=x&api%5Fkey=y&api+key=z", "pass%77ord=REDACTED&api%5Fkey=REDACTED&api+key=z"),
    # empty values are redacted too; names without a value, other names and order stay
    ("token=&q=hello+world&token", "token=REDACTED&q=hello+world&token"),
    ("q=password&tokens=3&monkey=1", "q=password&tokens=3&monkey=1"),
    ("a=1&&b=2", "a=1&&b=2"),
    ("", ""),
    ("no-equals-sign", "no-equals-sign"),
    ("password=a=b", "password=REDACTED"),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_redact_query(query: str, expected: str) -> None:
    assert redact_query(query) == expected

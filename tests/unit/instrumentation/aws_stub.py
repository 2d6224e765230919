"""Real boto3 clients answered in-process: a ``before-send`` handler hands botocore canned HTTP responses.

botocore emits ``before-send`` right before its HTTP layer would send the signed request and
uses the ``AWSResponse`` a handler returns instead. Everything else of a real call runs:
parameter validation, serialization, signing, ``_make_api_call`` (what our patch wraps),
response parsing (JSON, event streams, streaming bodies) and error handling. No socket, so a
call takes well under a millisecond.
"""

from __future__ import annotations

import io
import json
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled
from urllib3.response import HTTPResponse

from otel_chatbot.testing.bedrock.eventstream import event_frame, exception_frame

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
REQUEST_ID = "req-0001"


def aws_client(service: str) -> Any:
    """A real boto3 client of ``service`` with test credentials; pair it with :class:`AwsStub`."""
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=f"https://{service}.us-east-1.amazonaws.test",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=NO_RETRY,
    )


def _raw(data: bytes, headers: Mapping[str, str], status: int) -> HTTPResponse:
    return HTTPResponse(body=io.BytesIO(data), headers=dict(headers), status=status, preload_content=False)


class AwsStub:
    """Answers ``client``'s requests in order from the replies queued with its methods.

    ``sent`` keeps each request botocore signed; ``http_enabled_at_send`` what upstream's
    ``is_http_instrumentation_enabled()`` said while the SDK was sending it (what an HTTP
    client instrumentation would see).
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._replies: deque[tuple[int, dict[str, str], bytes]] = deque()
        self.sent: list[Any] = []
        self.http_enabled_at_send: list[bool] = []

    def json(self, payload: Mapping[str, Any], *, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        """A JSON answer (Converse, ApplyGuardrail, Retrieve, RetrieveAndGenerate)."""
        body = json.dumps(payload).encode()
        self.raw(body, status=status, headers={"content-type": "application/json", **(headers or {})})

    def raw(self, body: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        """A body as it is (InvokeModel's model-specific JSON, with its ``X-Amzn-Bedrock-*`` headers)."""
        self._replies.append((status, {"x-amzn-RequestId": REQUEST_ID, **(headers or {})}, body))

    def events(self, events: Sequence[tuple[str, Mapping[str, Any]]], *, exception: str | None = None) -> None:
        """An event stream of ``(event type, payload)`` frames, optionally ending in a modeled exception."""
        frames = b"".join(event_frame(kind, payload) for kind, payload in events)
        if exception is not None:
            frames += exception_frame(exception, "stream failed")
        self.raw(frames, headers={"content-type": "application/vnd.amazon.eventstream"})

    def error(self, code: str, *, status: int = 400, message: str = "rejected") -> None:
        """An AWS error answer (``ClientError`` with ``Error.Code == code``)."""
        self.json({"message": message}, status=status, headers={"x-amzn-ErrorType": code})

    def _send(self, request: Any, **kwargs: Any) -> AWSResponse:
        self.sent.append(request)
        self.http_enabled_at_send.append(is_http_instrumentation_enabled())
        status, headers, body = self._replies.popleft()
        return AWSResponse(request.url, status, headers, _raw(body, headers, status))


@contextmanager
def stubbed(client: Any) -> Iterator[AwsStub]:
    """Answer ``client``'s requests from a fresh :class:`AwsStub` inside the block."""
    stub = AwsStub(client)
    client.meta.events.register("before-send", stub._send)
    try:
        yield stub
    finally:
        client.meta.events.unregister("before-send", stub._send)

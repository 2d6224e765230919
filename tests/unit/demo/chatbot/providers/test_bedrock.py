"""The Bedrock provider's pure parts: Converse request bodies and error translation."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError

from otel_chatbot.demo.chatbot.handbook import HANDBOOK, SYSTEM_PROMPT
from otel_chatbot.demo.chatbot.providers import Prompt
from otel_chatbot.demo.chatbot.providers.bedrock import converse_messages, converse_system, translate
from otel_chatbot.demo.chatbot.schemas import Turn

TURNS = [Turn(role="user", text="hi"), Turn(role="assistant", text="hello"), Turn(role="user", text="returns?")]


def test_converse_bodies_and_the_handbooks_cache_point() -> None:
    assert converse_messages(Prompt(SYSTEM_PROMPT, TURNS)) == [
        {"role": "user", "content": [{"text": "hi"}]},
        {"role": "assistant", "content": [{"text": "hello"}]},
        {"role": "user", "content": [{"text": "returns?"}]},
    ]
    assert converse_system(Prompt(SYSTEM_PROMPT, TURNS)) == [{"text": SYSTEM_PROMPT}]
    assert converse_system(Prompt(SYSTEM_PROMPT, TURNS, HANDBOOK)) == [
        {"text": SYSTEM_PROMPT},
        {"text": HANDBOOK},
        {"cachePoint": {"type": "default"}},
    ]


def test_translate_client_errors() -> None:
    throttled = translate(ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Converse"))
    assert throttled is not None and (throttled.status, throttled.code, throttled.message) == (
        429,
        "ThrottlingException",
        "slow",
    )
    odd = translate(ClientError({"Error": {"Code": "Weird"}}, "Converse"))
    assert odd is not None and odd.status == 502
    down = translate(EndpointConnectionError(endpoint_url="http://x"))
    assert down is not None and (down.status, down.code) == (502, "EndpointConnectionError")
    assert translate(KeyError("not a Bedrock error")) is None

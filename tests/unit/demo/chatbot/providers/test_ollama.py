"""The Ollama provider's pure parts: the /api/chat body, NDJSON lines, error answers."""

from __future__ import annotations

import httpx
import pytest

from otel_chatbot.demo.chatbot.providers import Delta, Prompt
from otel_chatbot.demo.chatbot.providers.ollama import OllamaError, deltas_of, error_message, request_body, translate
from otel_chatbot.demo.chatbot.schemas import Turn


def test_the_chat_body() -> None:
    body = request_body("llama3.2", Prompt("Be brief.", [Turn(role="user", text="hi")], "Context."), stream=True)
    assert body == {
        "model": "llama3.2",
        "messages": [{"role": "system", "content": "Be brief.\n\nContext."}, {"role": "user", "content": "hi"}],
        "stream": True,
        "options": {"num_predict": 512, "temperature": 0.5},
    }


def test_ndjson_lines() -> None:
    assert deltas_of('{"model":"m","message":{"role":"assistant","content":"Hel"},"done":false}') == [Delta(text="Hel")]
    assert deltas_of("") == []
    last = '{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",'
    last += '"prompt_eval_count":26,"eval_count":9}'
    assert deltas_of(last) == [Delta(stop_reason="stop"), Delta(input_tokens=26, output_tokens=9)]
    with pytest.raises(OllamaError) as caught:
        deltas_of('{"error":"model unloaded"}')
    error = translate(caught.value)
    assert error is not None and (error.code, error.message, error.status) == ("OllamaError", "model unloaded", 502)


def test_error_answers() -> None:
    assert error_message(b'{"error":"model \\"x\\" not found, try pulling it first"}').startswith('model "x" not found')
    assert error_message(b"<html>bad gateway</html>") == "<html>bad gateway</html>"
    missing = translate(OllamaError(404, "not found"))
    assert missing is not None and missing.status == 404
    refused = translate(httpx.ConnectError("refused"))
    assert refused is not None and (refused.code, refused.status) == ("ConnectError", 502)
    malformed = translate(ValueError("Expecting value"))
    assert malformed is not None and malformed.code == "MalformedResponse"
    assert translate(KeyError("x")) is None

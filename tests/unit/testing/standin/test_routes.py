"""Path templates: labels decoded per segment, method and length must match."""

from __future__ import annotations

from otel_chatbot.testing.standin.routes import RouteTable

TABLE = RouteTable(
    [
        ("POST", "/openai/deployments/{deployment}/chat/completions", "azure-chat"),
        ("POST", "/v1/chat/completions", "chat"),
        ("GET", "/v1/models/{model}", "model"),
    ]
)


def test_match() -> None:
    assert TABLE.match("POST", "/v1/chat/completions?x=1") == ("chat", {})
    assert TABLE.match("POST", "/openai/deployments/my%2Fdep/chat/completions?api-version=1") == (
        "azure-chat",
        {"deployment": "my/dep"},
    )
    assert TABLE.match("GET", "/v1/models/gpt-4o") == ("model", {"model": "gpt-4o"})


def test_no_match() -> None:
    assert TABLE.match("GET", "/v1/chat/completions") is None
    assert TABLE.match("GET", "/v1/models/") is None  # an empty label is no label
    assert TABLE.match("POST", "/v1/chat/completions/extra") is None

"""Request and response bodies of the chatbot API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from otel_chatbot.demo.chatbot.config import ProviderName


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    model: str | None = Field(default=None, description="The provider's model id; its default if unset.")
    provider: ProviderName | None = Field(
        default=None, description="Who answers (bedrock, openai, anthropic, ollama); the service default if unset."
    )
    handbook: bool = Field(
        default=False, description="Answer from the shop handbook (a long system prompt the provider caches)."
    )


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class ChatReply(BaseModel):
    session_id: str
    provider: str
    model: str
    reply: str
    stop_reason: str | None = None
    usage: Usage
    cached: bool = Field(default=False, description="Answered from the semantic cache (usage: what it saved).")


class FeedbackRequest(BaseModel):
    trace_id: str = Field(description="The X-Trace-Id the answer came with.")
    score: float = Field(ge=0, le=1, description="0 (worst) to 1 (best): a thumbs down is 0, up is 1.")
    label: str | None = Field(default=None, max_length=64)
    comment: str | None = Field(default=None, max_length=2000)


class AgentRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)


class AgentReply(BaseModel):
    session_id: str
    agent_id: str
    reply: str
    usage: Usage


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    text: str


class History(BaseModel):
    session_id: str
    turns: list[Turn]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    bedrock: str
    provider: str
    """The default provider."""


class ModelList(BaseModel):
    default: str
    models: list[str]

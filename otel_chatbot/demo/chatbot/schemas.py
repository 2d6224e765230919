"""Request and response bodies of the chatbot API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    model: str | None = Field(default=None, description="Bedrock model id; the service default if unset.")
    handbook: bool = Field(
        default=False, description="Answer from the shop handbook (a long system prompt Bedrock caches)."
    )


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class ChatReply(BaseModel):
    session_id: str
    model: str
    reply: str
    stop_reason: str | None = None
    usage: Usage


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


class ModelList(BaseModel):
    default: str
    models: list[str]

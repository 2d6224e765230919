"""The benchmark apps' request and reply bodies: the pydantic validation every chat endpoint does."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=4000)
    conversation_id: str | None = None


class ChatResponse(BaseModel):
    """A provider's reply with its token usage (the minimal app answers without a provider: its own reply)."""

    reply: str
    conversation_id: str
    input_tokens: int
    output_tokens: int

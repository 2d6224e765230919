"""The example chatbot service: FastAPI in front of Bedrock, OpenAI, Anthropic and Ollama.

Each provider is called through its own client (boto3, the ``openai`` and ``anthropic`` SDKs,
httpx for Ollama's native API; :mod:`otel_chatbot.demo.chatbot.providers`). It is
instrumented from the outside, either with
``opentelemetry-instrument uvicorn otel_chatbot.demo.chatbot.app:app`` or by the demo calling
``configure(app)``; ``CHATBOT_CONFIGURE_IN_CODE=1`` switches on the one-line in-code path.
What only the app knows it tells through the distro's helpers: its semantic cache's lookups
and its provider failover (``service.py``), and its users' feedback (``record_feedback``);
they record nothing when the app runs without the distro.

Routes (``{session_id}`` is a Bedrock-style session id):

* ``GET  /health``                          liveness, excluded from telemetry by default
* ``POST /chat/{session_id}``               one chat turn (body: ``message``, optional ``provider``,
  ``model``, ``handbook``)
* ``POST /chat/{session_id}/stream``        the same, streamed as server-sent events
* ``POST /chat/{session_id}/fail``          raises, for error telemetry (500)
* ``WS   /ws/chat/{session_id}``            chat over a WebSocket, streamed
* ``POST /agents/{session_id}``             Bedrock InvokeAgent, the streamed completion assembled
* ``POST /feedback``                        a user's score of an answer, by its ``X-Trace-Id``
* ``GET  /sessions/{session_id}/history``   (an ``APIRouter`` with a prefix)
* ``POST /v1/chat/{session_id}``, ``GET /v1/models``  (a mounted sub-application)

Environment (:class:`~otel_chatbot.demo.chatbot.config.ChatbotConfig`): ``CHATBOT_PROVIDER``
(``bedrock``, ``openai``, ``anthropic``, ``ollama``; default ``bedrock``); Bedrock:
``BEDROCK_ENDPOINT_URL`` (unset: real AWS), ``AWS_REGION``, ``CHATBOT_MODEL_ID``,
``BEDROCK_AGENT_ID``, ``BEDROCK_AGENT_ALIAS_ID``; OpenAI or an OpenAI-compatible server:
``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``CHATBOT_OPENAI_MODEL``; Anthropic:
``ANTHROPIC_BASE_URL``, ``ANTHROPIC_API_KEY``, ``CHATBOT_ANTHROPIC_MODEL``; Ollama:
``OLLAMA_HOST``, ``CHATBOT_OLLAMA_MODEL``; failover: ``CHATBOT_FALLBACK_PROVIDER``,
``CHATBOT_FALLBACK_MODEL_ID`` (both unset: no failover); ``CHATBOT_SEMANTIC_CACHE`` (``1``: on).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.requests import HTTPConnection

from otel_chatbot import record_feedback
from otel_chatbot.demo.chatbot.config import ChatbotConfig
from otel_chatbot.demo.chatbot.providers import Delta, ProviderError
from otel_chatbot.demo.chatbot.schemas import (
    AgentReply,
    AgentRequest,
    ChatReply,
    ChatRequest,
    FeedbackRequest,
    Health,
    History,
    ModelList,
)
from otel_chatbot.demo.chatbot.service import ChatService, SimulatedFailure, StreamedTurn

SessionId = Annotated[str, Path(pattern=r"^[0-9A-Za-z._:-]{1,100}$", description="Conversation id")]


def get_service(connection: HTTPConnection) -> ChatService:
    service: ChatService = connection.app.state.chatbot
    return service


Service = Annotated[ChatService, Depends(get_service)]


async def provider_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProviderError)
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _sse_events(
    turn: StreamedTurn, first: Delta | None, rest: AsyncGenerator[Delta, None]
) -> AsyncIterator[bytes]:
    if first is not None and first.text:
        yield _sse({"text": first.text})
    try:
        async with aclosing(rest):  # a client that leaves closes the provider's stream at once
            async for delta in rest:
                if delta.text:
                    yield _sse({"text": delta.text})
    except ProviderError as exc:  # the status line is already sent: report in-band
        yield _sse({"error": exc.code, "message": exc.message}, event="error")
        return
    yield _sse(turn.result().model_dump(), event="done")


async def _open_stream(service: ChatService, session_id: str, body: ChatRequest) -> StreamingResponse:
    """Wait for the first delta before answering, so a refused call still gets a proper status."""
    turn, deltas = service.stream(session_id, body.message, body.model, body.handbook, body.provider)
    first = await anext(deltas, None)
    return StreamingResponse(
        _sse_events(turn, first, deltas),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def chat_router() -> APIRouter:
    """Chat routes, shared by the root app and the ``/v1`` sub-application."""
    router = APIRouter(tags=["chat"])

    @router.post("/chat/{session_id}")
    async def chat(session_id: SessionId, body: ChatRequest, service: Service) -> ChatReply:
        return await service.chat(session_id, body.message, body.model, body.handbook, body.provider)

    return router


def sessions_router() -> APIRouter:
    router = APIRouter(prefix="/sessions", tags=["sessions"])

    @router.get("/{session_id}/history")
    async def history(session_id: SessionId, service: Service) -> History:
        turns = service.history.turns(session_id)
        if not turns:
            raise HTTPException(status_code=404, detail=f"no conversation {session_id}")
        return History(session_id=session_id, turns=turns)

    return router


def v1_app(service: ChatService) -> FastAPI:
    """A versioned API mounted under ``/v1``: its routes are templated relative to the mount."""
    v1 = FastAPI(title="Chatbot API v1")
    v1.state.chatbot = service
    v1.add_exception_handler(ProviderError, provider_error)
    v1.include_router(chat_router())

    @v1.get("/models")
    async def models() -> ModelList:
        default = service.provider().model
        return ModelList(default=default, models=[provider.model for provider in service.providers.values()])

    return v1


def create_app(config: ChatbotConfig | None = None) -> FastAPI:
    """Build the service; ``config`` defaults to the environment (the demo passes its own)."""
    shared = ChatService(config or ChatbotConfig.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Creating clients takes tens of ms; do it before the first request, not during it.
        await shared.start()
        yield
        await shared.close()

    app = FastAPI(title="Example chatbot", lifespan=lifespan)
    app.state.chatbot = shared
    app.add_exception_handler(ProviderError, provider_error)
    app.include_router(chat_router())
    app.include_router(sessions_router())
    app.mount("/v1", v1_app(shared))

    @app.get("/health")
    async def health(service: Service) -> Health:
        bedrock = service.config.endpoint_url or f"aws:{service.config.region}"
        return Health(bedrock=bedrock, provider=service.config.provider)

    @app.post("/chat/{session_id}/stream", response_class=StreamingResponse)
    async def chat_stream(session_id: SessionId, body: ChatRequest, service: Service) -> StreamingResponse:
        return await _open_stream(service, session_id, body)

    @app.post("/chat/{session_id}/fail")
    async def chat_fail(session_id: SessionId, body: ChatRequest) -> None:
        # Reads the body like a real handler: an unread body at close would reset the connection.
        raise SimulatedFailure(f"simulated failure in session {session_id} ({len(body.message)} chars)")

    @app.post("/feedback", status_code=204)
    async def feedback(body: FeedbackRequest) -> None:
        try:
            record_feedback(body.trace_id, body.score, label=body.label, comment=body.comment)
        except ValueError as exc:  # a malformed trace id
            raise HTTPException(status_code=400, detail=str(exc)) from None

    @app.post("/agents/{session_id}")
    async def agent(session_id: SessionId, body: AgentRequest, service: Service) -> AgentReply:
        return await service.ask_agent(session_id, body.message)

    @app.websocket("/ws/chat/{session_id}")
    async def ws_chat(websocket: WebSocket, session_id: SessionId, service: Service) -> None:
        await websocket.accept()
        try:
            while True:
                await _ws_turn(websocket, service, session_id)
        except WebSocketDisconnect:
            return

    return app


async def _ws_turn(websocket: WebSocket, service: ChatService, session_id: str) -> None:
    """One message in, ``chunk`` frames and a ``done`` (or ``error``) frame out."""
    try:
        body = ChatRequest.model_validate_json(await websocket.receive_text())
    except ValidationError as exc:
        await websocket.send_json({"type": "error", "error": "ValidationError", "message": str(exc)})
        return
    try:
        turn, deltas = service.stream(session_id, body.message, body.model, body.handbook, body.provider)
        async with aclosing(deltas):
            async for delta in deltas:
                if delta.text:
                    await websocket.send_json({"type": "chunk", "text": delta.text})
    except ProviderError as exc:
        await websocket.send_json({"type": "error", "error": exc.code, "message": exc.message})
        return
    await websocket.send_json({"type": "done", **turn.result().model_dump()})


app = create_app()

if os.environ.get("CHATBOT_CONFIGURE_IN_CODE") == "1":
    from otel_chatbot import configure

    configure(app)

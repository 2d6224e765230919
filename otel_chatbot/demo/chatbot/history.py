"""In-memory conversation history, bounded per session and in the number of sessions.

A real service would keep this in a database; here it gives the multi-turn shape that
makes prompts (and so input tokens) grow turn after turn, which is what the telemetry shows.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from otel_chatbot.demo.chatbot.schemas import Turn

MAX_SESSIONS = 1000


class ConversationStore:
    """Oldest sessions are evicted first; only the event loop touches it, so no lock."""

    def __init__(self, max_messages: int, max_sessions: int = MAX_SESSIONS) -> None:
        # Even, so the kept history always starts with a user message, as Converse and Messages require.
        self._max_messages = max(2, max_messages - max_messages % 2)
        self._max_sessions = max_sessions
        self._sessions: OrderedDict[str, deque[Turn]] = OrderedDict()

    def turns(self, session_id: str) -> list[Turn]:
        return list(self._sessions.get(session_id, ()))

    def add(self, session_id: str, user_text: str, assistant_text: str) -> None:
        turns = self._sessions.get(session_id)
        if turns is None:
            turns = self._sessions[session_id] = deque(maxlen=self._max_messages)
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(session_id)
        turns.append(Turn(role="user", text=user_text))
        turns.append(Turn(role="assistant", text=assistant_text))

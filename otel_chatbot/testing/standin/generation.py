"""Deterministic "model": the reply text and token counts as pure functions of the prompt.

Tests, benchmarks and dashboards built on the fake server need numbers they can predict, so
there is no randomness here. The rules, which consumers may rely on:

* a token is a whitespace-separated word (``len(text.split())``);
* input tokens = tokens of all input text (tool specs, system prompt, every message)
  + ``INPUT_TOKEN_OVERHEAD``, minus the tokens of a cached prefix (which are reported as
  cache read or cache write tokens instead, see ``cache.PromptCache``);
* the reply is ``REPLY_PREFIX`` followed by the last ``TAIL_WORDS`` words of the last user
  message, cut to the request's max tokens (stop reason then becomes "max tokens");
* output tokens = words of the reply;
* tool calls follow ``tools.pick_tool_call``; their output tokens are the words of the short
  preamble text (``I will use the <name> tool.``, which some wire formats do not show) plus
  the words of the compact JSON arguments (``separators=(",", ":")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otel_chatbot.testing.standin.cache import PromptCache
from otel_chatbot.testing.standin.tools import AUTO, ToolCall, ToolSpec, pick_tool_call
from otel_chatbot.testing.standin.usage import Usage

INPUT_TOKEN_OVERHEAD = 3
REPLY_PREFIX = "Hello! This is a deterministic reply to:"
EMPTY_PROMPT_TAIL = "(empty prompt)"
TAIL_WORDS = 8
WORDS_PER_CHUNK = 2
JSON_PIECE_CHARS = 12


def count_tokens(text: str) -> int:
    """The documented token rule: whitespace-separated words."""
    return len(text.split())


def reply_text(last_user_text: str) -> str:
    """Canned answer that mentions the user's last words, so replies are recognisable."""
    tail = last_user_text.split()[-TAIL_WORDS:] or [EMPTY_PROMPT_TAIL]
    return " ".join([REPLY_PREFIX, *tail])


def split_chunks(text: str, words_per_chunk: int = WORDS_PER_CHUNK) -> list[str]:
    """Split text into stream deltas whose concatenation is exactly ``text``."""
    words = text.split(" ")
    chunks = []
    for start in range(0, len(words), words_per_chunk):
        piece = " ".join(words[start : start + words_per_chunk])
        chunks.append(piece if start == 0 else " " + piece)
    return chunks


def json_pieces(text: str, size: int = JSON_PIECE_CHARS) -> list[str]:
    """Split JSON text into stream deltas (tool arguments arrive in pieces); they join to ``text``."""
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


@dataclass(frozen=True)
class Prompt:
    """Model-independent view of a request: all input text plus where caching was asked for."""

    parts: tuple[str, ...]
    last_user_text: str
    cached_parts: int = 0
    cache_requested: bool = False
    max_tokens: int | None = None
    tools: tuple[ToolSpec, ...] = ()
    awaiting_answer: bool = True
    tool_choice: str = AUTO


class PromptBuilder:
    """Collects input text in model order while request parsers walk a body."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._cached_parts = 0
        self._cache_requested = False
        self._tools: list[ToolSpec] = []
        self._tool_choice = AUTO
        self.last_user_text = ""
        # True when the conversation ends with a plain user turn (no tool results in it).
        self.awaiting_answer = False

    def user_turn(self, text: str, has_tool_result: bool) -> None:
        """Record a user message; the last one decides the reply and whether to call a tool."""
        self.last_user_text = text
        self.awaiting_answer = not has_tool_result

    def other_turn(self) -> None:
        """Record a non-user message (e.g. an assistant prefill): no tool call follows it."""
        self.awaiting_answer = False

    def add_tool(self, name: str, schema: Any, spec_text: str) -> None:
        """Offer a tool; its spec text counts as input."""
        self.add(spec_text)
        self._tools.append(ToolSpec(name, schema if isinstance(schema, dict) else {}))

    def choose_tool(self, choice: str) -> None:
        """Set the request's tool choice (``tools.AUTO`` unless the request says otherwise)."""
        self._tool_choice = choice

    def add(self, text: str) -> None:
        """Append input text (empty strings are ignored; they have no tokens)."""
        if text:
            self._parts.append(text)

    def token_count(self) -> int:
        """Tokens of the input collected so far (overhead excluded)."""
        return sum(count_tokens(part) for part in self._parts)

    def cache_point(self) -> None:
        """Mark that everything added so far is the cacheable prefix."""
        self._cache_requested = True
        self._cached_parts = len(self._parts)

    def build(self, max_tokens: int | None) -> Prompt:
        """Freeze the collected text into a ``Prompt``."""
        return Prompt(
            parts=tuple(self._parts),
            last_user_text=self.last_user_text,
            cached_parts=self._cached_parts,
            cache_requested=self._cache_requested,
            max_tokens=max_tokens,
            tools=tuple(self._tools),
            awaiting_answer=self.awaiting_answer,
            tool_choice=self._tool_choice,
        )


@dataclass(frozen=True)
class Completion:
    """What the fake model produced for one request."""

    text: str
    truncated: bool
    usage: Usage
    cache_requested: bool
    last_user_text: str
    tool_call: ToolCall | None = None


def complete(prompt: Prompt, cache: PromptCache, scope: str) -> Completion:
    """Run the deterministic model; ``scope`` (the model) keeps caches of models apart."""
    total_input = sum(count_tokens(part) for part in prompt.parts) + INPUT_TOKEN_OVERHEAD
    prefix = prompt.parts[: prompt.cached_parts]
    cached = sum(count_tokens(part) for part in prefix)
    cache_read = cache_write = 0
    if cached:
        if cache.hit_or_store(scope, prefix):
            cache_read = cached
        else:
            cache_write = cached
    tool_call = pick_tool_call(prompt.tools, prompt.tool_choice, prompt.last_user_text, prompt.awaiting_answer)
    if tool_call is not None:
        words = f"I will use the {tool_call.name} tool.".split(" ")
        output_tokens = len(words) + count_tokens(tool_call.input_json)
        truncated = False
    else:
        words = reply_text(prompt.last_user_text).split(" ")
        truncated = prompt.max_tokens is not None and prompt.max_tokens < len(words)
        if prompt.max_tokens is not None:
            words = words[: max(prompt.max_tokens, 1)]
        output_tokens = len(words)
    usage = Usage(
        input_tokens=total_input - cached,
        output_tokens=output_tokens,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=cache_write,
    )
    return Completion(" ".join(words), truncated, usage, prompt.cache_requested, prompt.last_user_text, tool_call)

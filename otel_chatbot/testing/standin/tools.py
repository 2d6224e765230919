"""Deterministic tool calling, so tool-use telemetry (spans, events, stop reasons) can be tested.

Rule: when a request offers tools, its last message is a plain user turn (no tool results)
and that text names one of the tools, the model calls the first such tool instead of
answering. Arguments are filled from the tool's JSON schema: string properties get the user's
last words, numbers 1, booleans true. After the tool result comes back, the model answers
normally (the reply then quotes the tool result). A request's tool choice overrides the rule:
``none`` never calls, ``required`` (OpenAI) / ``any`` (Anthropic) calls the first tool, a named
choice calls that tool -- whatever the user wrote, as the real APIs force it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_TAIL_WORDS = 8

AUTO = "auto"
NONE = "none"
REQUIRED = "required"


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered in the request: its name and JSON schema of the input."""

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """The model's request to run a tool; ``digest`` makes stable per-family ids."""

    name: str
    input: dict[str, Any]
    digest: str

    def id(self, prefix: str, length: int = 24) -> str:
        """A stable tool-use id in a family's style (``tooluse_...``, ``toolu_bdrk_...``)."""
        return prefix + self.digest[:length]

    @property
    def input_json(self) -> str:
        return json.dumps(self.input, separators=(",", ":"), sort_keys=True)


def _arguments(schema: Mapping[str, Any], user_text: str) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    tail = " ".join(user_text.split()[-_TAIL_WORDS:])
    arguments: dict[str, Any] = {}
    for key, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        if kind == "string":
            arguments[key] = tail
        elif kind in ("integer", "number"):
            arguments[key] = 1
        elif kind == "boolean":
            arguments[key] = True
    return arguments


def call_tool(tool: ToolSpec, user_text: str) -> ToolCall:
    """A call of ``tool`` with schema-shaped arguments taken from the user's text."""
    digest = hashlib.sha256(f"{tool.name}\x00{user_text}".encode()).hexdigest()
    return ToolCall(tool.name, _arguments(tool.schema, user_text), digest)


def choose_tool_call(tools: Sequence[ToolSpec], user_text: str) -> ToolCall | None:
    """The first tool whose name appears in the user's text, with schema-shaped arguments."""
    lowered = user_text.lower()
    for tool in tools:
        if tool.name and tool.name.lower() in lowered:
            return call_tool(tool, user_text)
    return None


def pick_tool_call(tools: Sequence[ToolSpec], choice: str, user_text: str, awaiting_answer: bool) -> ToolCall | None:
    """The call the model makes under a tool choice: ``AUTO``, ``NONE``, ``REQUIRED`` or a tool name."""
    if not tools or choice == NONE:
        return None
    if choice == AUTO:
        return choose_tool_call(tools, user_text) if awaiting_answer else None
    forced = tools[0] if choice == REQUIRED else next((tool for tool in tools if tool.name == choice), None)
    return None if forced is None else call_tool(forced, user_text)

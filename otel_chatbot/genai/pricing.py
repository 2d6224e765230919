"""USD cost of GenAI calls from a per-model price table.

The bundled ``pricing.json`` holds on-demand list prices (per 1M tokens) with their
sources; users extend or override it with a file of the same shape. A model the table
does not know costs ``None`` - never a wrong 0 - and the metrics wiring logs it once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .models import base_model_id
from .types import TokenUsage

_PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens; ``None`` where the price list has no such rate."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None


@dataclass(frozen=True)
class Cost:
    """USD cost of one call, per token type."""

    input: float
    output: float
    cache_read: float
    cache_write: float

    @property
    def total(self) -> float:
        return self.input + self.output + self.cache_read + self.cache_write

    def by_type(self) -> dict[str, float]:
        """Non-zero parts keyed by ``gen_ai.token.type`` value, for the ``gen_ai.client.cost`` counter."""
        parts = {
            "input": self.input,
            "output": self.output,
            "cache_read": self.cache_read,
            "cache_write": self.cache_write,
        }
        return {k: v for k, v in parts.items() if v}


def _fail(source: str, problem: str) -> ValueError:
    return ValueError(f"price file {source}: {problem}")


def _rate(source: str, model: str, entry: Mapping[str, Any], key: str, required: bool) -> float | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise _fail(source, f"models[{model!r}].{key} must be a non-negative number, got {value!r}")
    return float(value)


def _parse(document: object, source: str) -> tuple[dict[str, ModelPrice], dict[str, str]]:
    """Validate a price document; every problem names the file and the offending key."""
    if not isinstance(document, Mapping):
        raise _fail(source, "top level must be a JSON object")
    raw_models = document.get("models", {})
    raw_aliases = document.get("aliases", {})
    if not isinstance(raw_models, Mapping):
        raise _fail(source, "'models' must be an object mapping model ids to prices")
    if not isinstance(raw_aliases, Mapping):
        raise _fail(source, "'aliases' must be an object mapping model ids or ARNs to model ids")
    unit = document.get("unit", "per 1M tokens")
    if unit != "per 1M tokens":
        raise _fail(source, f"'unit' must be 'per 1M tokens', got {unit!r}")
    models: dict[str, ModelPrice] = {}
    for model, entry in raw_models.items():
        if not isinstance(model, str) or not model:
            raise _fail(source, f"model id {model!r} must be a non-empty string")
        if not isinstance(entry, Mapping):
            raise _fail(source, f"models[{model!r}] must be an object with input/output prices")
        models[model] = ModelPrice(
            input=_rate(source, model, entry, "input", True) or 0.0,
            output=_rate(source, model, entry, "output", True) or 0.0,
            cache_read=_rate(source, model, entry, "cache_read", False),
            cache_write=_rate(source, model, entry, "cache_write", False),
        )
    aliases: dict[str, str] = {}
    for alias, target in raw_aliases.items():
        if not isinstance(alias, str) or not isinstance(target, str) or not alias or not target:
            raise _fail(source, f"aliases[{alias!r}] must map a non-empty string to a model id")
        aliases[alias] = target
    return models, aliases


class PriceTable:
    """Model prices plus aliases; resolves any Bedrock model id form to a priced model."""

    def __init__(self, models: Mapping[str, ModelPrice], aliases: Mapping[str, str] | None = None) -> None:
        self._models = dict(models)
        self._aliases = dict(aliases or {})

    @classmethod
    def default(cls) -> PriceTable:
        """The bundled table (read on each call; keep the instance)."""
        text = resources.files(__package__).joinpath("pricing.json").read_text(encoding="utf-8")
        models, aliases = _parse(json.loads(text), "otel_chatbot/genai/pricing.json")
        return cls(models, aliases)

    @classmethod
    def from_file(cls, path: str | Path, *, include_default: bool = True) -> PriceTable:
        """The default table overridden and extended by the user's file at ``path``.

        The file has the bundled file's shape: ``{"models": {id: {"input", "output",
        "cache_read", "cache_write"}}, "aliases": {id_or_arn: model_id}}``, prices in
        USD per 1M tokens. Any problem (unreadable, not JSON, wrong types) raises
        ``ValueError`` naming the file and the problem.
        """
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(source, f"cannot be read ({exc})") from exc
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise _fail(source, f"is not valid JSON ({exc})") from exc
        models, aliases = _parse(document, source)
        if not include_default:
            return cls(models, aliases)
        base = cls.default()
        return cls({**base._models, **models}, {**base._aliases, **aliases})

    def resolve(self, model_id: str) -> str | None:
        """The price-table key for ``model_id``, or ``None``.

        Tried in order: a user alias (the way to price application inference profile
        ARNs), the id exactly as given (so a file can price ``global.``/``us.`` profiles
        differently), then the base model id with profile prefixes and ARN parts removed.
        """
        if not isinstance(model_id, str) or not model_id:
            return None
        seen: set[str] = set()
        while model_id in self._aliases and model_id not in seen:
            seen.add(model_id)
            model_id = self._aliases[model_id]
        if model_id in self._models:
            return model_id
        base = base_model_id(model_id)
        if base is not None and base in self._models:
            return base
        return None

    def price(self, model_id: str) -> ModelPrice | None:
        key = self.resolve(model_id)
        return self._models[key] if key is not None else None

    def cost(self, model_id: str, usage: TokenUsage) -> Cost | None:
        """USD cost of ``usage`` on ``model_id``, or ``None`` when it cannot be exact.

        ``None`` when the model is unknown, when the uncached input or output count is
        unknown, or when cache tokens were used on a model whose cache rate is not in the
        table.
        """
        price = self.price(model_id)
        if price is None:
            return None
        if usage.uncached_input_tokens is None or usage.output_tokens is None:
            return None
        cache_read = usage.cache_read_input_tokens or 0
        cache_write = usage.cache_creation_input_tokens or 0
        if (cache_read and price.cache_read is None) or (cache_write and price.cache_write is None):
            return None
        return Cost(
            input=usage.uncached_input_tokens * price.input / _PER_TOKENS,
            output=usage.output_tokens * price.output / _PER_TOKENS,
            cache_read=cache_read * (price.cache_read or 0.0) / _PER_TOKENS,
            cache_write=cache_write * (price.cache_write or 0.0) / _PER_TOKENS,
        )

"""USD cost of GenAI calls from a per-provider, per-model price table.

The bundled ``pricing.json`` holds on-demand list prices (per 1M tokens) with their
sources; users extend or override it with a file of the same shape. A model the table
does not know costs ``None`` - never a wrong 0 - and the metrics wiring logs it once.

Prices belong to a provider: Claude on Bedrock and Claude from Anthropic are billed by
different companies, at prices that need not agree. The top-level ``models`` and
``aliases`` are Bedrock's (``aws.bedrock``, the file's original shape); ``providers``
holds the others by ``gen_ai.provider.name``, each with its own ``models`` and
``aliases``, or ``"prices_of": "<provider>"`` to share another provider's (Azure OpenAI
bills OpenAI's list prices). A model key ``"*"`` prices every model of its provider
(Ollama runs on your own hardware: the shipped table prices its tokens at 0).
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
        raise _fail(source, f"{model}.{key} must be a non-negative number, got {value!r}")
    return float(value)


BEDROCK = "aws.bedrock"
"""The provider of the price file's top-level ``models`` and ``aliases``."""

WILDCARD = "*"

_Prices = tuple[dict[str, ModelPrice], dict[str, str]]


def _parse(document: object, source: str) -> tuple[dict[str, _Prices], dict[str, str]]:
    """Validate a price document: prices by provider, and which providers share another's prices.

    Every problem names the file and the offending key.
    """
    if not isinstance(document, Mapping):
        raise _fail(source, "top level must be a JSON object")
    unit = document.get("unit", "per 1M tokens")
    if unit != "per 1M tokens":
        raise _fail(source, f"'unit' must be 'per 1M tokens', got {unit!r}")
    prices = {BEDROCK: _parse_models(document, source, "")}
    shared: dict[str, str] = {}
    providers = document.get("providers", {})
    if not isinstance(providers, Mapping):
        raise _fail(source, "'providers' must be an object mapping provider names to their prices")
    for provider, entry in providers.items():
        where = f"providers[{provider!r}]."
        if not isinstance(provider, str) or not provider or not isinstance(entry, Mapping):
            raise _fail(source, f"{where[:-1]} must be an object with models (or prices_of)")
        same_as = entry.get("prices_of")
        if same_as is not None:
            if not isinstance(same_as, str) or not same_as:
                raise _fail(source, f"{where}prices_of must name another provider")
            shared[provider] = same_as
            continue
        prices[provider] = _parse_models(entry, source, where)
    return prices, shared


def _parse_models(document: Mapping[str, Any], source: str, where: str) -> _Prices:
    raw_models = document.get("models", {})
    raw_aliases = document.get("aliases", {})
    if not isinstance(raw_models, Mapping):
        raise _fail(source, f"'{where}models' must be an object mapping model ids to prices")
    if not isinstance(raw_aliases, Mapping):
        raise _fail(source, f"'{where}aliases' must be an object mapping model ids or ARNs to model ids")
    models: dict[str, ModelPrice] = {}
    for model, entry in raw_models.items():
        if not isinstance(model, str) or not model:
            raise _fail(source, f"{where}model id {model!r} must be a non-empty string")
        if not isinstance(entry, Mapping):
            raise _fail(source, f"{where}models[{model!r}] must be an object with input/output prices")
        named = f"{where}models[{model!r}]"
        models[model] = ModelPrice(
            input=_rate(source, named, entry, "input", True) or 0.0,
            output=_rate(source, named, entry, "output", True) or 0.0,
            cache_read=_rate(source, named, entry, "cache_read", False),
            cache_write=_rate(source, named, entry, "cache_write", False),
        )
    aliases: dict[str, str] = {}
    for alias, target in raw_aliases.items():
        if not isinstance(alias, str) or not isinstance(target, str) or not alias or not target:
            raise _fail(source, f"{where}aliases[{alias!r}] must map a non-empty string to a model id")
        aliases[alias] = target
    return models, aliases


class PriceTable:
    """Prices by provider; resolves the model ids each provider's calls carry to a priced model."""

    def __init__(
        self,
        models: Mapping[str, ModelPrice],
        aliases: Mapping[str, str] | None = None,
        *,
        providers: Mapping[str, tuple[Mapping[str, ModelPrice], Mapping[str, str]]] | None = None,
        shared: Mapping[str, str] | None = None,
    ) -> None:
        self._prices: dict[str, _Prices] = {BEDROCK: (dict(models), dict(aliases or {}))}
        for provider, (provider_models, provider_aliases) in (providers or {}).items():
            self._prices[provider] = (dict(provider_models), dict(provider_aliases))
        self._shared = dict(shared or {})

    @classmethod
    def _of(cls, prices: Mapping[str, _Prices], shared: Mapping[str, str]) -> PriceTable:
        models, aliases = prices.get(BEDROCK, ({}, {}))
        others = {p: v for p, v in prices.items() if p != BEDROCK}
        return cls(models, aliases, providers=others, shared=shared)

    @classmethod
    def default(cls) -> PriceTable:
        """The bundled table (read on each call; keep the instance)."""
        text = resources.files(__package__).joinpath("pricing.json").read_text(encoding="utf-8")
        return cls._of(*_parse(json.loads(text), "otel_chatbot/genai/pricing.json"))

    @classmethod
    def from_file(cls, path: str | Path, *, include_default: bool = True) -> PriceTable:
        """The default table overridden and extended by the user's file at ``path``.

        The file has the bundled file's shape: ``{"models": {id: {"input", "output",
        "cache_read", "cache_write"}}, "aliases": {id_or_arn: model_id}, "providers":
        {provider: {"models": ..., "aliases": ...}}}``, prices in USD per 1M tokens. Any
        problem (unreadable, not JSON, wrong types) raises ``ValueError`` naming the file
        and the problem.
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
        except RecursionError:
            raise _fail(source, "is nested too deeply to be a price table") from None
        prices, shared = _parse(document, source)
        if not include_default:
            return cls._of(prices, shared)
        base = cls.default()
        merged = dict(base._prices)
        for provider, (models, aliases) in prices.items():
            old_models, old_aliases = merged.get(provider, ({}, {}))
            merged[provider] = ({**old_models, **models}, {**old_aliases, **aliases})
        return cls._of(merged, {**base._shared, **shared})

    def _table(self, provider: str) -> _Prices | None:
        return self._prices.get(self._shared.get(provider, provider))

    def resolve(self, model_id: str, provider: str = BEDROCK) -> str | None:
        """The price-table key for ``model_id`` of ``provider``, or ``None``.

        Tried in order: a user alias (the way to price application inference profile
        ARNs, or dated snapshots), the id exactly as given (so a file can price
        ``global.``/``us.`` profiles differently), for Bedrock the base model id with
        profile prefixes and ARN parts removed, and last the provider's ``"*"``.
        """
        table = self._table(provider)
        if table is None or not isinstance(model_id, str) or not model_id:
            return None
        models, aliases = table
        seen: set[str] = set()
        while model_id in aliases and model_id not in seen:
            seen.add(model_id)
            model_id = aliases[model_id]
        if model_id in models:
            return model_id
        if provider == BEDROCK:
            base = base_model_id(model_id)
            if base is not None and base in models:
                return base
        return WILDCARD if WILDCARD in models else None

    def price(self, model_id: str, provider: str = BEDROCK) -> ModelPrice | None:
        key = self.resolve(model_id, provider)
        table = self._table(provider)
        return table[0][key] if key is not None and table is not None else None

    def cost(
        self, model_id: str, usage: TokenUsage, provider: str = BEDROCK, *, output_expected: bool = True
    ) -> Cost | None:
        """USD cost of ``usage`` on ``model_id`` of ``provider``, or ``None`` when it cannot be exact.

        ``None`` when the model is unknown, when the uncached input count is unknown or
        the output count is (where the operation has output: embeddings have none), or
        when cache tokens were used on a model whose cache rate is not in the table.
        """
        price = self.price(model_id, provider)
        return None if price is None else cost_at(price, usage, output_expected=output_expected)


def cost_at(price: ModelPrice, usage: TokenUsage, *, output_expected: bool = True) -> Cost | None:
    """USD cost of ``usage`` at ``price`` (a row of the table), or ``None``: see :meth:`PriceTable.cost`."""
    output = usage.output_tokens
    if output is None and not output_expected:
        output = 0
    if usage.uncached_input_tokens is None or output is None:
        return None
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    if (cache_read and price.cache_read is None) or (cache_write and price.cache_write is None):
        return None
    return Cost(
        input=usage.uncached_input_tokens * price.input / _PER_TOKENS,
        output=output * price.output / _PER_TOKENS,
        cache_read=cache_read * (price.cache_read or 0.0) / _PER_TOKENS,
        cache_write=cache_write * (price.cache_write or 0.0) / _PER_TOKENS,
    )

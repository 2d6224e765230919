"""The GenAI metric instruments and what one finished call records into them, for any provider.

Metric attributes are the convention's low-cardinality ones (operation, provider,
request and response model, token type, error type); never the conversation id. The
provider comes from the call's :class:`~otel_chatbot.genai.GenAIRequest`, so every
provider's calls share the instruments and the panels built on them.

Models and error types come from the app and the provider, so each is a budget
(:mod:`otel_chatbot.cardinality`): past ``OTEL_CHATBOT_MAX_MODELS`` distinct model ids (100)
and :data:`ERROR_TYPES_LIMIT` error types, new ones are recorded as ``_OTHER``. 1,000
distinct model ids made 1,000 series per instrument and token type before (up to the
SDK's 2,000 + overflow); now 101.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

from opentelemetry.metrics import Meter

from otel_chatbot.cardinality import FirstSeen
from otel_chatbot.compat import RecordedTogether
from otel_chatbot.genai import Cost, GenAIRequest, GenAIResponse, PriceTable, names
from otel_chatbot.genai.pricing import ModelPrice, cost_at
from otel_chatbot.guard import BoundedOnce
from otel_chatbot.instrumentation.prebound import Bindings

_log = logging.getLogger("otel_chatbot.genai")

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
TOKEN_TYPE = "gen_ai.token.type"
ERROR_TYPE = "error.type"

UNKNOWN_MODELS_LOGGED = 32
"""Unknown (provider, model) pairs logged before the log falls silent: model names come from outside."""

MODELS_LIMIT = 100
"""Distinct model ids kept as metric attributes by default (``OTEL_CHATBOT_MAX_MODELS``)."""

ERROR_TYPES_LIMIT = 50
"""Distinct ``error.type`` values kept: AWS codes, HTTP statuses, exception classes, a stream's error types."""

PRICE_ROWS_KEPT = 512
"""(model, provider) pairs whose price row is kept; later pairs are looked up in the table each time."""


def model_budget(limit: int = MODELS_LIMIT) -> FirstSeen:
    """The fold of model ids; one per configuration, shared by all its GenAI scopes and helpers."""
    return FirstSeen("model (OTEL_CHATBOT_MAX_MODELS)", limit)


class GenAIMetrics:
    """The GenAI instruments of one meter; one instance per instrumentation scope."""

    def __init__(self, meter: Meter, prices: PriceTable, models: FirstSeen | None = None) -> None:
        self.prices = prices
        self._models = models if models is not None else model_budget()
        self._error_types = FirstSeen("GenAI error.type", ERROR_TYPES_LIMIT)
        # Each instrument bound per attribute set, keyed by (operation, provider,
        # request model, response model, extra key, extra value): see genai_attributes.
        self._token_usage = Bindings(
            meter.create_histogram(
                "gen_ai.client.token.usage",
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=list(names.TOKEN_USAGE_BUCKETS),
            ),
            genai_attributes,
        )
        self._duration = Bindings(
            meter.create_histogram(
                "gen_ai.client.operation.duration",
                unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=list(names.OPERATION_DURATION_BUCKETS),
            ),
            genai_attributes,
        )
        self._time_to_first_chunk = Bindings(
            meter.create_histogram(
                "gen_ai.client.operation.time_to_first_chunk",
                unit="s",
                description="Time from the request to the first chunk of a streamed response.",
                explicit_bucket_boundaries_advisory=list(names.TIME_TO_FIRST_CHUNK_BUCKETS),
            ),
            genai_attributes,
        )
        self._time_per_chunk = Bindings(
            meter.create_histogram(
                "gen_ai.client.operation.time_per_output_chunk",
                unit="s",
                description="Time between chunks of a streamed response, after the first.",
                explicit_bucket_boundaries_advisory=list(names.TIME_PER_OUTPUT_CHUNK_BUCKETS),
            ),
            genai_attributes,
        )
        self._cost = Bindings(
            meter.create_counter(
                names.METRIC_GEN_AI_CLIENT_COST,
                unit=names.METRIC_GEN_AI_CLIENT_COST_UNIT,
                description="Estimated cost of GenAI calls from the price table, by token type.",
            ),
            genai_attributes,
        )
        self._throttles = Bindings(
            meter.create_counter(
                names.METRIC_GEN_AI_CLIENT_THROTTLES,
                unit=names.METRIC_GEN_AI_CLIENT_THROTTLES_UNIT,
                description="GenAI calls rejected by throttling.",
            ),
            genai_attributes,
        )
        self._unpriced = BoundedOnce(_log, "models without a price", limit=UNKNOWN_MODELS_LOGGED)
        self._price_rows: dict[tuple[str, str], ModelPrice | None] = {}

    def compute_cost(self, request: GenAIRequest, response: GenAIResponse) -> Cost | None:
        """Cost from the price table; an unknown model is logged once and costs nothing (None).

        The model the provider says answered (a dated snapshot, the model behind an Azure
        deployment or a Bedrock prompt router) is priced first, else the model asked for.
        At most :data:`UNKNOWN_MODELS_LOGGED` unknown models are logged in all.
        """
        if not response.usage.known:
            return None
        provider = request.provider_name
        output_expected = request.operation_name != names.OPERATION_EMBEDDINGS
        for model in (response.response_model, request.model):
            if model:
                price = self._price_row(model, provider)
                if price is not None:
                    return cost_at(price, response.usage, output_expected=output_expected)
        model = request.model or response.response_model
        if model:
            self._warn_unknown(provider, model)
        return None

    def _price_row(self, model: str, provider: str) -> ModelPrice | None:
        """The table's row for ``model`` of ``provider`` (``prices.price``), kept per pair: models are few."""
        key = (model, provider)
        rows = self._price_rows
        try:
            return rows[key]
        except KeyError:
            pass
        price = self.prices.price(model, provider)
        if len(rows) < PRICE_ROWS_KEPT:
            rows[key] = price
        return price

    def _warn_unknown(self, provider: str, model: str) -> None:
        self._unpriced.warning(
            (provider, model),
            "otel_chatbot: no price known for model %r (%s); its calls get no cost. Add it with "
            "OTEL_CHATBOT_PRICING_FILE.",
            model,
            provider,
        )

    def record(
        self,
        request: GenAIRequest,
        response: GenAIResponse,
        duration_s: float,
        error_type: str | None,
        cost: Cost | None,
    ) -> None:
        operation, provider = request.operation_name, request.provider_name
        model, response_model = self._model(request.model), self._model(response.response_model)
        together = RecordedTogether()  # one call's records: one context, one exemplar decision
        if error_type:
            error_type = self._error_types(error_type)
            duration = self._duration.get(operation, provider, model, response_model, ERROR_TYPE, error_type)
        else:
            duration = self._duration.get(operation, provider, model, response_model, None, None)
        duration.record_together(duration_s, together)
        usage = response.usage
        tokens = self._token_usage
        if usage.input_tokens is not None:
            tokens.get(operation, provider, model, response_model, TOKEN_TYPE, "input").record_together(
                usage.input_tokens, together
            )
        if usage.output_tokens is not None:
            tokens.get(operation, provider, model, response_model, TOKEN_TYPE, "output").record_together(
                usage.output_tokens, together
            )
        if cost is not None:
            for token_type, usd in cost.by_type().items():
                self._cost.get(operation, provider, model, response_model, TOKEN_TYPE, token_type).record_together(
                    usd, together
                )

    def record_chunk_times(
        self, request: GenAIRequest, response: GenAIResponse, first_chunk_s: float, chunk_times: list[float]
    ) -> None:
        """A stream's time to first chunk, and one record per later chunk (as the convention asks)."""
        model, response_model = self._model(request.model), self._model(response.response_model)
        key = (request.operation_name, request.provider_name, model, response_model, None, None)
        self._time_to_first_chunk.get(*key).record(first_chunk_s)
        gaps = [later - earlier for earlier, later in itertools.pairwise(chunk_times)]
        if gaps:
            self._time_per_chunk.get(*key).record_many(gaps)

    def record_throttle(self, request: GenAIRequest) -> None:
        model = self._model(request.model)
        self._throttles.get(request.operation_name, request.provider_name, model, None, None, None).add(1)

    def _model(self, model: str | None) -> str | None:
        return self._models(model) if model else model


def genai_attributes(
    operation: str,
    provider: str,
    model: str | None,
    response_model: str | None,
    extra_key: str | None,
    extra_value: Any,
) -> dict[str, Any]:
    """The convention's low-cardinality GenAI metric attributes, plus the token or error type."""
    attrs: dict[str, Any] = {OPERATION: operation, PROVIDER: provider}
    if model:
        attrs[REQUEST_MODEL] = model
    if response_model:
        attrs[RESPONSE_MODEL] = response_model
    if extra_key:
        attrs[extra_key] = extra_value
    return attrs

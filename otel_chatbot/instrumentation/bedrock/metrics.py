"""The GenAI metric instruments and what one finished call records into them.

Metric attributes are the convention's low-cardinality ones (operation, provider,
request and response model, token type, error type); never the conversation id.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

from opentelemetry.metrics import MeterProvider

from otel_chatbot.genai import GenAIRequest, GenAIResponse, PriceTable, names
from otel_chatbot.genai.pricing import Cost
from otel_chatbot.instrumentation.prebound import Bindings
from otel_chatbot.version import __version__

_log = logging.getLogger("otel_chatbot.bedrock")

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
TOKEN_TYPE = "gen_ai.token.type"
ERROR_TYPE = "error.type"


class GenAIMetrics:
    def __init__(self, meter_provider: MeterProvider, prices: PriceTable) -> None:
        meter = meter_provider.get_meter("otel_chatbot.bedrock", __version__)
        self.prices = prices
        # Each instrument bound per attribute set, keyed by
        # (operation, request model, response model, extra key, extra value): see genai_attributes.
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
        self._unknown_lock = threading.Lock()
        self._unknown_logged: set[str] = set()

    def compute_cost(self, request: GenAIRequest, response: GenAIResponse) -> Cost | None:
        """Cost from the price table; an unknown model is logged once and costs nothing (None)."""
        model = request.model
        if not model or not response.usage.known:
            return None
        cost = self.prices.cost(model, response.usage)
        if cost is None and self.prices.resolve(model) is None:
            with self._unknown_lock:
                first = model not in self._unknown_logged
                self._unknown_logged.add(model)
            if first:
                _log.warning(
                    "otel_chatbot: no price known for Bedrock model %r; its calls get no cost. Add it with "
                    "OTEL_CHATBOT_PRICING_FILE.",
                    model,
                )
        return cost

    def record(
        self,
        request: GenAIRequest,
        response: GenAIResponse,
        duration_s: float,
        error_type: str | None,
        cost: Cost | None,
    ) -> None:
        operation, model, response_model = request.operation_name, request.model, response.response_model
        if error_type:
            self._duration.get(operation, model, response_model, ERROR_TYPE, error_type).record(duration_s)
        else:
            self._duration.get(operation, model, response_model, None, None).record(duration_s)
        usage = response.usage
        if usage.input_tokens is not None:
            self._token_usage.get(operation, model, response_model, TOKEN_TYPE, "input").record(usage.input_tokens)
        if usage.output_tokens is not None:
            self._token_usage.get(operation, model, response_model, TOKEN_TYPE, "output").record(usage.output_tokens)
        if cost is not None:
            for token_type, usd in cost.by_type().items():
                if usd:
                    self._cost.get(operation, model, response_model, TOKEN_TYPE, token_type).add(usd)

    def record_chunk_times(
        self, request: GenAIRequest, response: GenAIResponse, first_chunk_s: float, chunk_times: list[float]
    ) -> None:
        """A stream's time to first chunk, and one record per later chunk (as the convention asks)."""
        key = (request.operation_name, request.model, response.response_model, None, None)
        self._time_to_first_chunk.get(*key).record(first_chunk_s)
        per_chunk = self._time_per_chunk.get(*key)
        for earlier, later in itertools.pairwise(chunk_times):
            per_chunk.record(later - earlier)

    def record_throttle(self, request: GenAIRequest) -> None:
        self._throttles.get(request.operation_name, request.model, None, None, None).add(1)


def genai_attributes(
    operation: str, model: str | None, response_model: str | None, extra_key: str | None, extra_value: Any
) -> dict[str, Any]:
    """The convention's low-cardinality GenAI metric attributes, plus the token or error type."""
    attrs: dict[str, Any] = {OPERATION: operation, PROVIDER: names.PROVIDER_AWS_BEDROCK}
    if model:
        attrs[REQUEST_MODEL] = model
    if response_model:
        attrs[RESPONSE_MODEL] = response_model
    if extra_key:
        attrs[extra_key] = extra_value
    return attrs

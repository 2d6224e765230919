"""cache_lookup(): the span, the exact metric points, the rules of a lookup's verdict."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from otel_chatbot import CacheLookup, cache_lookup
from otel_chatbot.genai.pricing import PriceTable
from otel_chatbot.helpers.cache import UNPRICED_LOGGED, saved_cost
from tests.unit.helpers.helper_kit import Configured

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"  # $0.80 in, $4.00 out per 1M tokens (bundled table)
Configure = Callable[..., Configured]


def test_a_hit_gives_the_span_and_every_metric(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    with cache_lookup("semantic", model=MODEL) as lookup:
        lookup.hit(similarity=0.93, input_tokens=1000, output_tokens=500)
    (span,) = kit.finished()
    assert span.name == "cache_lookup semantic" and span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        "chatbot.cache.name": "semantic",
        "gen_ai.request.model": MODEL,
        "chatbot.cache.result": "hit",
        "chatbot.cache.similarity": 0.93,
        "chatbot.cache.saved.input_tokens": 1000,
        "chatbot.cache.saved.output_tokens": 500,
        "chatbot.cache.saved.cost": pytest.approx(1000 * 0.8 / 1e6 + 500 * 4.0 / 1e6),
    }
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.name", "chatbot.cache.result") == {("semantic", "hit"): 1}
    (duration,) = kit.points("chatbot.cache.lookup.duration")
    assert duration.count == 1 and 0 <= duration.sum < 1
    (similarity,) = kit.points("chatbot.cache.similarity")
    assert similarity.count == 1 and similarity.sum == pytest.approx(0.93)
    assert list(similarity.explicit_bounds) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]
    keys = ("chatbot.cache.name", "gen_ai.token.type", "gen_ai.request.model")
    assert kit.values("chatbot.cache.saved.tokens", *keys) == {
        ("semantic", "input", MODEL): 1000,
        ("semantic", "output", MODEL): 500,
    }
    assert kit.values("chatbot.cache.saved.cost", *keys) == {
        ("semantic", "input", MODEL): pytest.approx(0.0008),
        ("semantic", "output", MODEL): pytest.approx(0.002),
    }
    assert kit.unit("chatbot.cache.saved.cost") == "USD"
    assert kit.unit("chatbot.cache.lookup.duration") == "s"
    assert kit.unit("chatbot.cache.similarity") == "1"


def test_misses_count_with_their_similarity_and_save_nothing(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    for score in (0.41, 0.62):
        with cache_lookup("semantic", model=MODEL) as lookup:
            lookup.miss(similarity=score)
    with cache_lookup("semantic", model=MODEL) as lookup:
        lookup.hit(similarity=0.9, input_tokens=10, output_tokens=10)
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("miss",): 2, ("hit",): 1}
    by_result = {p.attributes["chatbot.cache.result"]: p for p in kit.points("chatbot.cache.similarity")}
    assert by_result["miss"].count == 2 and by_result["miss"].sum == pytest.approx(1.03)
    assert by_result["hit"].count == 1
    assert sum(p.value for p in kit.points("chatbot.cache.saved.tokens")) == 20
    assert [s.attributes["chatbot.cache.result"] for s in kit.finished()] == ["miss", "miss", "hit"]


def test_an_exception_in_the_block_records_error_and_passes_through_unchanged(configure_helpers: Configure) -> None:
    kit = configure_helpers()

    class CacheDown(Exception):
        pass

    raised = CacheDown("redis is gone")
    with pytest.raises(CacheDown) as caught, cache_lookup("semantic", model=MODEL) as lookup:
        lookup.hit(similarity=0.99, input_tokens=5, output_tokens=5)  # a verdict before the failure does not count
        raise raised
    assert caught.value is raised
    (span,) = kit.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["chatbot.cache.result"] == "error"
    assert (
        span.attributes["error.type"] == "test_an_exception_in_the_block_records_error_and_passes_through_"
        "unchanged.<locals>.CacheDown"
    )
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("error",): 1}
    assert kit.points("chatbot.cache.saved.tokens") == [] and kit.points("chatbot.cache.similarity") == []
    assert lookup.result == "error"


def test_a_block_without_a_verdict_counts_as_a_miss_without_similarity(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    with cache_lookup("exact") as lookup:
        pass
    assert lookup.result == "miss"
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.name", "chatbot.cache.result") == {("exact", "miss"): 1}
    assert kit.points("chatbot.cache.similarity") == []
    (span,) = kit.finished()
    assert "chatbot.cache.similarity" not in (span.attributes or {})


def test_calls_inside_the_block_nest_under_the_lookup_span(configure_helpers: Configure) -> None:
    kit = configure_helpers()
    provider = kit.telemetry.tracer_provider
    assert provider is not None
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("request"), cache_lookup("semantic") as lookup:
        with tracer.start_as_current_span("embeddings titan"):
            pass
        lookup.miss(similarity=0.2)
    assert trace.get_current_span() is trace.INVALID_SPAN  # context restored
    spans = {s.name: s for s in kit.finished()}
    assert spans["embeddings titan"].parent.span_id == spans["cache_lookup semantic"].context.span_id  # type: ignore[union-attr]
    assert spans["cache_lookup semantic"].parent.span_id == spans["request"].context.span_id  # type: ignore[union-attr]


def test_async_with_and_with_inside_a_coroutine_work_the_same(configure_helpers: Configure) -> None:
    kit = configure_helpers()

    async def lookups() -> None:
        async with cache_lookup("semantic", model=MODEL) as lookup:
            await asyncio.sleep(0)
            lookup.hit(similarity=1.0, input_tokens=3, output_tokens=4)
        with cache_lookup("semantic", model=MODEL) as lookup:
            await asyncio.sleep(0)
            lookup.miss(similarity=0.0)

    async def both() -> None:
        await asyncio.gather(lookups(), lookups())

    asyncio.run(both())
    assert kit.values("chatbot.cache.lookups", "chatbot.cache.result") == {("hit",): 2, ("miss",): 2}
    assert all(s.parent is None for s in kit.finished()), "concurrent tasks' lookups do not nest in each other"


@pytest.mark.parametrize(
    ("misuse", "error", "message"),
    [
        (lambda lookup: (lookup.hit(), lookup.miss()), ValueError, r"miss\(\) called after hit\(\); call one, once"),
        (lambda lookup: (lookup.miss(), lookup.miss()), ValueError, r"miss\(\) called after miss\(\)"),
        (lambda lookup: lookup.hit(similarity=1.2), ValueError, "similarity must be between 0 and 1, got 1.2"),
        (lambda lookup: lookup.miss(similarity=-0.1), ValueError, "similarity must be between 0 and 1"),
        (lambda lookup: lookup.miss(similarity=float("nan")), ValueError, "similarity must be between 0 and 1"),
        (lambda lookup: lookup.hit(similarity="0.9"), TypeError, "similarity must be a number between 0 and 1"),
        (lambda lookup: lookup.hit(input_tokens=-1), ValueError, "input_tokens must not be negative"),
        (lambda lookup: lookup.hit(output_tokens=2.5), TypeError, "output_tokens must be a non-negative int"),
    ],
)
@pytest.mark.parametrize("configured", [True, False], ids=["configured", "not-configured"])
def test_misuse_raises_at_the_call_site(
    configure_helpers: Configure,
    misuse: Callable[[CacheLookup], object],
    error: type[Exception],
    message: str,
    configured: bool,
) -> None:
    if configured:
        configure_helpers()
    with pytest.raises(error, match=message), cache_lookup("semantic") as lookup:
        misuse(lookup)


def test_a_verdict_outside_the_block_and_a_reused_lookup_are_refused(configure_helpers: Configure) -> None:
    configure_helpers()
    lookup = cache_lookup("semantic")
    with pytest.raises(ValueError, match=r"cache_lookup semantic: hit\(\) called before its block"):
        lookup.hit()
    with lookup:
        lookup.miss()
    with pytest.raises(ValueError, match=r"miss\(\) called after its block"):
        lookup.miss()
    with pytest.raises(ValueError, match="a lookup is used for one block only"), lookup:
        pass
    with pytest.raises(TypeError, match="cache_lookup: name must be a string"):
        cache_lookup(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cache_lookup: name must not be empty"):
        cache_lookup(" ")
    with pytest.raises(TypeError, match="cache_lookup semantic: model must be a string"):
        cache_lookup("semantic", model=3)  # type: ignore[arg-type]


def test_without_configure_nothing_is_recorded_and_the_block_runs() -> None:
    with cache_lookup("semantic", model=MODEL) as lookup:
        lookup.hit(similarity=0.9, input_tokens=1, output_tokens=1)
    assert lookup.result == "hit"


def test_cache_names_past_the_limit_fold_to_other(
    configure_helpers: Configure, caplog: pytest.LogCaptureFixture
) -> None:
    kit = configure_helpers()
    with caplog.at_level(logging.WARNING, "otel_chatbot"):
        for index in range(25):
            with cache_lookup(f"cache-{index}") as lookup:
                lookup.miss()
    counts = kit.values("chatbot.cache.lookups", "chatbot.cache.name")
    assert len(counts) == 21 and counts[("_OTHER",)] == 5
    assert sum("more than 20 distinct chatbot.cache.name values" in r.getMessage() for r in caplog.records) == 1
    assert {s.name for s in kit.finished()} >= {"cache_lookup cache-0", "cache_lookup _OTHER"}


def test_an_unpriced_model_saves_tokens_but_no_cost_and_says_so_once(
    configure_helpers: Configure, caplog: pytest.LogCaptureFixture
) -> None:
    kit = configure_helpers()
    with caplog.at_level(logging.WARNING, "otel_chatbot"):
        for _ in range(2):
            with cache_lookup("semantic", model="acme.unknown-model-v1") as lookup:
                lookup.hit(input_tokens=10, output_tokens=10)
    assert sum(p.value for p in kit.points("chatbot.cache.saved.tokens")) == 40
    assert kit.points("chatbot.cache.saved.cost") == []
    assert sum("no price known for the model" in r.getMessage() for r in caplog.records) == 1


def test_unpriced_models_are_logged_a_bounded_number_of_times(
    configure_helpers: Configure, caplog: pytest.LogCaptureFixture
) -> None:
    configure_helpers()
    with caplog.at_level(logging.WARNING, "otel_chatbot"):
        for n in range(UNPRICED_LOGGED + 20):  # model names from the app, each new
            with cache_lookup("semantic", model=f"acme.model-{n}") as lookup:
                lookup.hit(input_tokens=1)
    said = [r.getMessage() for r in caplog.records]
    assert sum("no price known for the model" in m for m in said) == UNPRICED_LOGGED
    assert sum("further ones are not logged" in m for m in said) == 1


def test_the_saving_is_priced_with_the_configurations_price_file(
    configure_helpers: Configure, tmp_path: object
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"acme.small-v1": {"input": 2.0, "output": 6.0}}}))
    kit = configure_helpers(pricing_file=str(prices))
    with cache_lookup("semantic", model="acme.small-v1") as lookup:
        lookup.hit(input_tokens=1_000_000)
    assert kit.values("chatbot.cache.saved.cost", "gen_ai.token.type") == {("input",): pytest.approx(2.0)}


@pytest.mark.parametrize(
    ("input_tokens", "output_tokens", "expected"),
    [
        (1_000_000, 1_000_000, {"input": 0.8, "output": 4.0}),
        (None, 250_000, {"output": 1.0}),
        (0, 0, {}),
    ],
)
def test_saved_cost_is_per_token_type_at_the_models_prices(
    input_tokens: int | None, output_tokens: int | None, expected: dict[str, float]
) -> None:
    assert saved_cost(PriceTable.default(), MODEL, input_tokens, output_tokens) == pytest.approx(expected)
    assert saved_cost(PriceTable.default(), "acme.unknown", 10, 10) == {}

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_chatbot.genai.pricing import Cost, PriceTable
from otel_chatbot.genai.types import TokenUsage

SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.default()


def test_default_table_records_its_sources() -> None:
    from importlib import resources

    document = json.loads(resources.files("otel_chatbot.genai").joinpath("pricing.json").read_text())
    assert document["unit"] == "per 1M tokens"
    assert document["currency"] == "USD"
    assert document["sources"] and all(s["url"] for s in document["sources"])
    source_ids = {s["id"] for s in document["sources"]}
    for model, entry in document["models"].items():
        assert entry["sources"], model
        assert set(entry["sources"]) <= source_ids, model


@pytest.mark.parametrize(
    ("model_id", "key"),
    [
        (SONNET_4, SONNET_4),
        (f"us.{SONNET_4}", SONNET_4),
        (f"eu.{SONNET_4}", SONNET_4),
        (f"apac.{SONNET_4}", SONNET_4),
        (f"global.{SONNET_4}", SONNET_4),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_4}", SONNET_4),
        (f"arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.{SONNET_4}", SONNET_4),
        ("us.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"),
        ("us.meta.llama3-3-70b-instruct-v1:0", "meta.llama3-3-70b-instruct-v1:0"),
        ("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123", None),
        ("anthropic.claude-imaginary-v9:0", None),
        ("", None),
    ],
)
def test_resolve(table: PriceTable, model_id: str, key: str | None) -> None:
    assert table.resolve(model_id) == key


def test_cost_with_cache(table: PriceTable) -> None:
    usage = TokenUsage(
        uncached_input_tokens=1_000,
        output_tokens=500,
        cache_read_input_tokens=10_000,
        cache_creation_input_tokens=2_000,
    )
    cost = table.cost(f"us.{SONNET_4}", usage)
    assert cost is not None
    # Sonnet 4: $3 in, $15 out, $0.30 cache read, $3.75 cache write per 1M tokens.
    assert cost.input == pytest.approx(0.003)
    assert cost.output == pytest.approx(0.0075)
    assert cost.cache_read == pytest.approx(0.003)
    assert cost.cache_write == pytest.approx(0.0075)
    assert cost.total == pytest.approx(0.021)
    assert set(cost.by_type()) == {"input", "output", "cache_read", "cache_write"}


def test_unknown_model_costs_nothing_rather_than_a_wrong_zero(table: PriceTable) -> None:
    assert table.resolve("acme.mystery-model-v1") is None
    assert table.cost("acme.mystery-model-v1", TokenUsage(10, 10)) is None


@pytest.mark.parametrize(
    "usage",
    [TokenUsage(None, 10), TokenUsage(10, None), TokenUsage()],
)
def test_unknown_counts_give_no_cost(table: PriceTable, usage: TokenUsage) -> None:
    assert table.cost(SONNET_4, usage) is None


def test_cache_use_without_cache_rate_gives_no_cost(table: PriceTable) -> None:
    haiku_3 = "anthropic.claude-3-haiku-20240307-v1:0"  # listed without cache prices
    assert table.cost(haiku_3, TokenUsage(100, 10)) == Cost(
        input=pytest.approx(0.000025), output=pytest.approx(0.0000125), cache_read=0.0, cache_write=0.0
    )
    assert table.cost(haiku_3, TokenUsage(100, 10, cache_read_input_tokens=50)) is None
    assert table.cost(haiku_3, TokenUsage(100, 10, cache_read_input_tokens=0)) is not None


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_user_file_overrides_and_extends(tmp_path: Path) -> None:
    profile_arn = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/chatbot-prod"
    path = _write(
        tmp_path,
        {
            "models": {
                SONNET_4: {"input": 2.0, "output": 10.0, "cache_read": 0.2, "cache_write": 2.5},
                "acme.house-model-v1": {"input": 1, "output": 2},
                f"global.{SONNET_4}": {"input": 1.0, "output": 5.0},
            },
            "aliases": {profile_arn: f"us.{SONNET_4}"},
        },
    )
    table = PriceTable.from_file(path)
    assert table.price(SONNET_4) is not None and table.price(SONNET_4).input == 2.0  # type: ignore[union-attr]
    assert table.resolve("acme.house-model-v1") == "acme.house-model-v1"
    assert table.resolve(profile_arn) == SONNET_4
    # An exact profile id beats the stripped base id.
    assert table.resolve(f"global.{SONNET_4}") == f"global.{SONNET_4}"
    assert table.resolve(f"us.{SONNET_4}") == SONNET_4
    # Defaults the file did not touch are still there.
    assert table.resolve("amazon.nova-pro-v1:0") == "amazon.nova-pro-v1:0"
    only_user = PriceTable.from_file(path, include_default=False)
    assert only_user.resolve("amazon.nova-pro-v1:0") is None


def test_alias_cycles_do_not_hang(tmp_path: Path) -> None:
    path = _write(tmp_path, {"models": {}, "aliases": {"a": "b", "b": "a"}})
    assert PriceTable.from_file(path, include_default=False).resolve("a") is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "top level must be a JSON object"),
        ({"models": []}, "'models' must be an object"),
        ({"aliases": ["x"]}, "'aliases' must be an object"),
        ({"models": {"m": 3}}, "models['m'] must be an object"),
        ({"models": {"m": {"input": 1}}}, "models['m'].output must be a non-negative number"),
        ({"models": {"m": {"input": "1", "output": 1}}}, "models['m'].input must be a non-negative number"),
        ({"models": {"m": {"input": -1, "output": 1}}}, "models['m'].input must be a non-negative number"),
        ({"models": {"m": {"input": 1, "output": 1, "cache_read": True}}}, "cache_read must be"),
        ({"aliases": {"x": 5}}, "aliases['x']"),
        ({"unit": "per 1K tokens", "models": {}}, "'unit' must be 'per 1M tokens'"),
    ],
)
def test_bad_file_raises_clear_value_error(tmp_path: Path, document: Any, problem: str) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(ValueError, match="price file") as excinfo:
        PriceTable.from_file(path)
    assert str(path) in str(excinfo.value)
    assert problem in str(excinfo.value)


def test_missing_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        PriceTable.from_file(tmp_path / "nope.json")


def test_a_file_nested_too_deeply_is_a_value_error(tmp_path: Path) -> None:
    """json.loads raises RecursionError, not ValueError, on deep nesting (found by fuzzing the pricing file)."""
    path = tmp_path / "prices.json"
    path.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(ValueError, match="nested too deeply"):
        PriceTable.from_file(path)

"""Fuzzed configuration: every setting's value and the pricing file, as start-up reads them.

The promise: a bad value fails start-up with :class:`ConfigError` naming the variable (or,
for a ``configure()`` keyword of the wrong Python type, a TypeError naming the keyword);
never another exception, never a setting silently read from garbage. Values are drawn
near what the parsers expect (numbers at and past their bounds, lists with empty items,
regexes that do not compile, URLs without a scheme) and far from it (control characters,
lone surrogates as ``os.environ`` holds undecodable bytes, huge strings). The pricing file
is the bundled table broken by :func:`~tests.fuzz.strategies.shaped_like`, or not JSON at
all; a file that loads must then price any model and usage without raising.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_chatbot.config import ConfigError, load_settings
from otel_chatbot.config.table import SETTINGS, Setting
from otel_chatbot.genai.types import TokenUsage
from otel_chatbot.wiring import load_price_table
from tests.fuzz.strategies import HOSTILE_LEAF, SURROGATE_TEXT, as_json_bytes, shaped_like

NEAR_VALID = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0", "-1", "1e3", "0.5", "nan", "inf", "-inf", " 1", "1 ", "0x10", "true", "TRUE", "yes", "off"]),
    st.sampled_from(["", " ", ",", ",,", "a,", "=", "a=", "=b", "a=b,c", "a:b", "header:", ":x", "body:a.b"]),
    st.sampled_from(["(", "[a-", "*", "(?P<x", "\\", "^/health$,(", "http://", "ftp://x", "http://[::1", "//x"]),
    st.sampled_from(["otlp", "none", "console", "prometheus", "http/protobuf", "grpc", "http/json", "always_on"]),
)
TEXT_VALUES = st.one_of(
    NEAR_VALID,
    st.lists(NEAR_VALID, max_size=4).map(",".join),
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=["Cc"]), max_size=6),
    SURROGATE_TEXT,
    st.builds(lambda n: "9" * n, st.integers(100, 5000)),
)


def _names(setting: Setting, message: str) -> bool:
    return setting.env in message or setting.name in message


@given(setting=st.sampled_from(SETTINGS), raw=TEXT_VALUES)
def test_an_environment_value_loads_or_fails_naming_its_variable(setting: Setting, raw: str) -> None:
    try:
        load_settings(environ={setting.env: raw})
    except ConfigError as exc:
        assert _names(setting, str(exc)), (setting.env, str(exc))


@given(setting=st.sampled_from(SETTINGS), value=st.one_of(TEXT_VALUES, HOSTILE_LEAF, st.floats(), st.just(Path("x"))))
def test_a_keyword_loads_or_fails_naming_it(setting: Setting, value: Any) -> None:
    try:
        load_settings({setting.name: value}, environ={})
    except (ConfigError, TypeError) as exc:
        assert _names(setting, str(exc)), (setting.name, str(exc))


@given(values=st.dictionaries(st.sampled_from(SETTINGS), TEXT_VALUES, min_size=2, max_size=6))
def test_several_bad_values_fail_naming_one_of_them(values: dict[Setting, str]) -> None:
    try:
        load_settings(environ={setting.env: raw for setting, raw in values.items()})
    except ConfigError as exc:
        assert any(_names(setting, str(exc)) for setting in values), str(exc)


BUNDLED = json.loads((Path(__file__).parents[2] / "otel_chatbot" / "genai" / "pricing.json").read_text())
SMALL_TABLE = {
    "models": {"m.one": {"input": 1.0, "output": 2.0, "cache_read": 0.1, "cache_write": 1.25}},
    "aliases": {"arn:aws:bedrock:us-east-1:1:application-inference-profile/p": "m.one"},
    "providers": {"openai": {"models": {"gpt-x": {"input": 0.15, "output": 0.6}}, "aliases": {"gpt-x-1": "gpt-x"}}},
}
PRICE_FILES = st.one_of(
    shaped_like(SMALL_TABLE).map(as_json_bytes),
    shaped_like({key: BUNDLED[key] for key in ("models", "aliases")}).map(as_json_bytes),
    st.binary(max_size=100),
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(500, 5000)),  # nested past the recursion limit
    st.sampled_from([b"", b"null", b"[]", b"{}", b'{"models": null}', b"\xff\xfe{}", b'{"models": {"a": NaN}}']),
)
USAGE = st.builds(
    TokenUsage,
    st.none() | st.integers(0, 10**12),
    st.none() | st.integers(0, 10**12),
    st.none() | st.integers(0, 10**9),
    st.none() | st.integers(0, 10**9),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=PRICE_FILES,
    model=st.sampled_from(["m.one", "gpt-x", "gpt-x-1", "arn:aws:bedrock:us-east-1:1:application-inference-profile/p"])
    | st.text(max_size=20),
    provider=st.sampled_from(["aws.bedrock", "openai", "azure.ai.openai", "anthropic", "x"]),
    usage=USAGE,
)
def test_a_pricing_file_loads_or_fails_start_up_naming_the_setting(
    tmp_path: Path, data: bytes, model: str, provider: str, usage: TokenUsage
) -> None:
    path = tmp_path / "prices.json"
    path.write_bytes(data)
    try:
        table = load_price_table(load_settings(environ={"OTEL_CHATBOT_PRICING_FILE": str(path)}))
    except ConfigError as exc:
        assert "OTEL_CHATBOT_PRICING_FILE" in str(exc)
        return
    cost = table.cost(model, usage, provider)
    if cost is not None:
        assert math.isfinite(cost.total()) and cost.total() >= 0, cost


def test_a_missing_pricing_file_fails_start_up_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OTEL_CHATBOT_PRICING_FILE"):
        load_price_table(load_settings(environ={"OTEL_CHATBOT_PRICING_FILE": str(tmp_path / "absent.json")}))

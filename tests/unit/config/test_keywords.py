"""configure()'s keyword types: equal to the table's, never wider than the parsers, checked at run time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, get_args, get_origin, get_type_hints

import pytest

from otel_chatbot.config import SETTINGS, ConfigError, Setting, SettingsKeywords, load_settings
from otel_chatbot.config.keywords import IdSources, OptionalPath, Patterns, conforms, describe


def test_the_typed_dict_lists_every_setting_with_the_table_s_type_in_table_order() -> None:
    hints = get_type_hints(SettingsKeywords)
    assert list(hints) == [s.name for s in SETTINGS]
    mismatched = {s.name: (hints[s.name], s.accepts) for s in SETTINGS if hints[s.name] != s.accepts}
    assert mismatched == {}
    assert SettingsKeywords.__required_keys__ == frozenset()


def literal_values(form: object) -> list[str]:
    """The strings a ``Literal`` (alone, in a union or in a sequence) allows for the whole value."""
    if get_origin(form) is Literal:
        return [str(v) for v in get_args(form)]
    if get_origin(form) is tuple:
        return []
    return [value for arm in get_args(form) for value in literal_values(arm)]


@pytest.mark.parametrize("setting", [s for s in SETTINGS if literal_values(s.accepts)], ids=lambda s: s.name)
def test_every_choice_the_type_allows_starts_and_no_other(setting: Setting) -> None:
    """A value that type-checks must not fail at start-up (and the reverse, by construction)."""
    values = literal_values(setting.accepts)
    for value in values:
        load_settings({setting.name: value}, environ={})
    assert "jaeger" not in values
    with pytest.raises(ConfigError, match=setting.env):
        load_settings({setting.name: "jaeger"}, environ={})


def test_every_conversation_id_source_kind_the_type_allows_starts() -> None:
    (kind_form, _) = get_args(get_args(IdSources)[0])
    pairs = [(kind, "session_id") for kind in get_args(kind_form)]
    settings = load_settings({"conversation_id_sources": pairs}, environ={})
    assert settings.conversation_id_sources == tuple(pairs)


@pytest.mark.parametrize(
    ("value", "form", "expected"),
    [
        (True, bool, True),
        (1, bool, False),
        (5, int, True),
        (True, int, False),
        (1.5, int, False),
        (1, float, True),
        (0.5, float, True),
        ("x", str, True),
        (None, str, False),
        (None, str | None, True),
        ("otlp", get_args(Patterns)[0], True),
        (("a", "b"), Patterns, True),
        (["a", 3], Patterns, False),
        ({"a"}, Patterns, False),
        ({"k": "v"}, Mapping[str, str], True),
        ({"k": 1}, Mapping[str, str], False),
        ([("k", "v")], Mapping[str, str], False),
        ([("header", "x-session-id")], IdSources, True),
        ([("header",)], IdSources, False),
        (("header", "x"), IdSources, False),
        (Path("prices.json"), OptionalPath, True),
        (b"prices.json", OptionalPath, False),
        ("otlp", Literal["otlp", "none"], True),
        (3, Literal["otlp", "none"], False),
        (["otlp", "console"], Literal["otlp"] | Sequence[Literal["otlp"]], True),
    ],
)
def test_conforms_checks_the_shape_of_a_value(value: object, form: object, expected: bool) -> None:
    assert conforms(value, form) is expected


def test_describe_renders_types_as_a_user_reads_them() -> None:
    by_name = {s.name: s.accepts for s in SETTINGS}
    assert describe(by_name["traces_exporter"]) == "'otlp' | 'console' | 'none' | Sequence['otlp' | 'console' | 'none']"
    assert describe(by_name["otlp_headers"]) == "Mapping[str, str]"
    assert describe(by_name["pricing_file"]) == "str | PathLike[str] | None"
    assert describe(by_name["conversation_id_sources"]) == "Sequence[tuple['header' | 'path' | 'body', str]]"
    assert describe(by_name["gc_freeze"]) == "bool"

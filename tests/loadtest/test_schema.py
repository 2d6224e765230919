"""The result file: what ``run`` writes must load, and a damaged file must be refused by name."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.loadtest import SCHEMA
from bench.loadtest.schema import SchemaError, dump, dumps, load, run_from_dict
from tests.loadtest.builders import endpoint, latency, level, run


def test_round_trip_through_json_is_lossless(tmp_path: Path) -> None:
    first = endpoint(first_event=latency(3.0))
    original = run(level(10, (first,)), level(50, (endpoint(failures=30),)), label="before")
    path = tmp_path / "r.json"
    dump(original, path)
    assert load(path) == original
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA
    assert [lv["users"] for lv in data["levels"]] == [10, 50]
    assert data["levels"][0]["endpoints"][0]["latency_ms"]["p95"] == pytest.approx(11.0)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return mutate


_DELETE = object()

BAD_FILES = [
    ("schema", "otel_chatbot.loadtest/0", "$.schema: expected"),
    ("levels", [], "$.levels: no user level"),
    ("levels", "10", "$.levels: expected a list"),
    ("host", _DELETE, "$.host: missing"),
    ("levels.0.users", 0, "$.levels[0].users: must be >= 1"),
    ("levels.0.users", 1.5, "$.levels[0].users: expected a non-negative integer"),
    ("levels.0.endpoints.0.failures", 5000, "$.levels[0].endpoints[0].failures: 5000 > requests"),
    ("levels.0.endpoints.0.error_rate", 1.5, "error_rate: 1.5 is not in [0, 1]"),
    ("levels.0.endpoints.0.throughput_rps", -1, "throughput_rps: expected a finite non-negative number"),
    ("levels.0.endpoints.0.throughput_rps", True, "throughput_rps: expected a finite non-negative number"),
    ("levels.0.endpoints.0.latency_ms.p95", 1000.0, "min <= p50 <= p90 <= p95 <= p99 <= max does not hold"),
    ("levels.0.endpoints.0.latency_ms.mean", 999.0, "latency_ms.mean: 999.0 is outside [min, max]"),
    ("levels.0.endpoints.0.latency_ms.p99", _DELETE, "latency_ms.p99: missing"),
    ("levels.0.endpoints.0.histogram", 7, "histogram: expected a string or null"),
    ("levels.0.total.requests", 1, "$.levels[0].total: requests/failures are not the sum"),
    ("levels.0.generator_cpu_warning", "no", "generator_cpu_warning: expected true or false"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_FILES, ids=[f"{f}={v!r}" for f, v, _ in BAD_FILES])
def test_damaged_files_are_refused_naming_the_field(field: str, value: Any, message: str) -> None:
    data = json.loads(dumps(run()))
    _set(field, value)(data)
    with pytest.raises(SchemaError, match=re.escape(message)):
        run_from_dict(data)


def test_repeated_levels_and_endpoints_are_refused() -> None:
    data = json.loads(dumps(run(level(10), level(50))))
    twice = copy.deepcopy(data)
    twice["levels"][1]["users"] = 10
    with pytest.raises(SchemaError, match="user levels repeat"):
        run_from_dict(twice)
    doubled = copy.deepcopy(data)
    doubled["levels"][0]["endpoints"].append(doubled["levels"][0]["endpoints"][0])
    with pytest.raises(SchemaError, match="keys repeat"):
        run_from_dict(doubled)


def test_optional_fields_may_be_absent() -> None:
    data = json.loads(dumps(run()))
    for key in ("label", "created", "settings", "tool"):
        del data[key]
    for key in ("generator_cpu_percent", "generator_cpu_warning", "user_errors"):
        del data["levels"][0][key]
    del data["levels"][0]["endpoints"][0]["errors"]
    loaded = run_from_dict(data)
    assert loaded.label == "" and loaded.levels[0].user_errors == 0


def test_a_file_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"schema": ')
    with pytest.raises(SchemaError, match=r"broken\.json: not JSON"):
        load(path)


def test_nan_is_never_written() -> None:
    bad = run(level(10, (endpoint(rps=float("nan")),)))
    with pytest.raises(ValueError):
        dumps(bad)

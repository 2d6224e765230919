"""The result file: what one ``run`` measured, as plain dataclasses and validated JSON.

The file is the contract between ``run`` and ``compare`` (and any dashboard or CI job a user
writes), so it is validated on both ends: ``run`` never writes a file ``compare`` would
reject, and ``compare`` refuses a hand-edited or truncated file with the path of the first
bad field instead of a ``KeyError`` deep in the report. Latencies are milliseconds; each
endpoint also carries its HdrHistogram (base64, microseconds) so percentiles can be
recomputed or merged later without re-running the load.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.loadtest import SCHEMA

TOTAL_KEY = "Aggregated"
"""The ``key`` of a level's all-endpoints row (Locust's own name for it)."""

PERCENTILES = ("p50", "p90", "p95", "p99")


class SchemaError(ValueError):
    """A result file that is not what ``run`` writes; the message names the offending field."""


@dataclass(frozen=True)
class Latency:
    """Summary of one latency histogram, in milliseconds."""

    count: int
    min: float
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float

    def percentile(self, name: str) -> float:
        value: float = getattr(self, name)
        return value


@dataclass(frozen=True)
class Endpoint:
    """One request kind at one user level (``key`` is ``METHOD name``, or ``Aggregated``)."""

    key: str
    requests: int
    failures: int
    throughput_rps: float
    """Completed requests (successful or not) per second of the measurement window."""
    error_rate: float
    """``failures / requests`` (0 when there were no requests)."""
    latency_ms: Latency | None
    """Successful requests only: fast failures must not make latency look better."""
    first_event_ms: Latency | None = None
    """Streams only: time to the first SSE event or WebSocket chunk."""
    errors: dict[str, int] = field(default_factory=dict)
    """Failure message -> count."""
    histogram: str | None = None
    """HdrHistogram of ``latency_ms`` in microseconds, base64 (``HdrHistogram.decode``)."""


@dataclass(frozen=True)
class Level:
    """One user level: ramp up to ``users``, then measure for ``duration_s``."""

    users: int
    spawn_rate: float
    ramp_s: float
    """Time the ramp-up took; requests during ramp-up are not in the numbers."""
    duration_s: float
    """The measurement window (steady state, all users running)."""
    endpoints: tuple[Endpoint, ...]
    total: Endpoint
    generator_cpu_percent: float = 0.0
    """The load generator's mean CPU over the window (one core = 100 %). Locust runs on one
    core: near 100 % means the generator, not the app, set the pace."""
    generator_cpu_warning: bool = False
    """Locust's own warning (its CPU sampled above 90 %) fired during the level."""
    user_errors: int = 0
    """Exceptions raised inside Locust users (bugs or crashes, not failed requests)."""


@dataclass(frozen=True)
class Run:
    """A whole result file: one scenario against one host at one or more user levels."""

    host: str
    scenario: str
    levels: tuple[Level, ...]
    created: str = ""
    label: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    tool: dict[str, str] = field(default_factory=dict)
    schema: str = SCHEMA

    def level(self, users: int) -> Level | None:
        return next((lv for lv in self.levels if lv.users == users), None)


# -- JSON -----------------------------------------------------------------------------------


def to_dict(run: Run) -> dict[str, Any]:
    return asdict(run)


def dumps(run: Run) -> str:
    text = json.dumps(to_dict(run), indent=2, allow_nan=False) + "\n"
    run_from_dict(json.loads(text))  # never write what compare would refuse
    return text


def dump(run: Run, path: Path) -> None:
    path.write_text(dumps(run), encoding="utf-8")


def load(path: Path) -> Run:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: not JSON ({exc})") from exc
    try:
        return run_from_dict(data)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from exc


def run_from_dict(data: Any) -> Run:
    """Validate and convert parsed JSON; raises ``SchemaError`` naming the first bad field."""
    obj = _mapping(data, "$")
    schema = _str(obj, "schema", "$")
    if schema != SCHEMA:
        raise SchemaError(f"$.schema: expected {SCHEMA!r}, got {schema!r}")
    raw_levels = _list(obj, "levels", "$")
    if not raw_levels:
        raise SchemaError("$.levels: no user level")
    levels = tuple(_level(item, f"$.levels[{i}]") for i, item in enumerate(raw_levels))
    users = [lv.users for lv in levels]
    if len(set(users)) != len(users):
        raise SchemaError(f"$.levels: user levels repeat: {users}")
    return Run(
        schema=schema,
        host=_str(obj, "host", "$"),
        scenario=_str(obj, "scenario", "$"),
        levels=levels,
        created=_str(obj, "created", "$", default=""),
        label=_str(obj, "label", "$", default=""),
        settings=dict(_mapping(obj.get("settings", {}), "$.settings")),
        tool={str(k): str(v) for k, v in _mapping(obj.get("tool", {}), "$.tool").items()},
    )


def _level(data: Any, path: str) -> Level:
    obj = _mapping(data, path)
    endpoints = tuple(_endpoint(item, f"{path}.endpoints[{i}]") for i, item in enumerate(_list(obj, "endpoints", path)))
    keys = [e.key for e in endpoints]
    if len(set(keys)) != len(keys):
        raise SchemaError(f"{path}.endpoints: keys repeat: {keys}")
    total = _endpoint(obj.get("total"), f"{path}.total")
    if total.requests != sum(e.requests for e in endpoints) or total.failures != sum(e.failures for e in endpoints):
        raise SchemaError(f"{path}.total: requests/failures are not the sum of the endpoints'")
    users = _int(obj, "users", path)
    if users < 1:
        raise SchemaError(f"{path}.users: must be >= 1, got {users}")
    return Level(
        users=users,
        spawn_rate=_num(obj, "spawn_rate", path),
        ramp_s=_num(obj, "ramp_s", path),
        duration_s=_num(obj, "duration_s", path),
        endpoints=endpoints,
        total=total,
        generator_cpu_percent=_num(obj, "generator_cpu_percent", path, default=0.0),
        generator_cpu_warning=_bool(obj, "generator_cpu_warning", path, default=False),
        user_errors=_int(obj, "user_errors", path, default=0),
    )


def _endpoint(data: Any, path: str) -> Endpoint:
    obj = _mapping(data, path)
    requests = _int(obj, "requests", path)
    failures = _int(obj, "failures", path)
    if failures > requests:
        raise SchemaError(f"{path}.failures: {failures} > requests {requests}")
    error_rate = _num(obj, "error_rate", path)
    if not 0.0 <= error_rate <= 1.0:
        raise SchemaError(f"{path}.error_rate: {error_rate} is not in [0, 1]")
    errors = _mapping(obj.get("errors", {}), f"{path}.errors")
    histogram = obj.get("histogram")
    if histogram is not None and not isinstance(histogram, str):
        raise SchemaError(f"{path}.histogram: expected a string or null")
    return Endpoint(
        key=_str(obj, "key", path),
        requests=requests,
        failures=failures,
        throughput_rps=_num(obj, "throughput_rps", path),
        error_rate=error_rate,
        latency_ms=_latency(obj.get("latency_ms"), f"{path}.latency_ms"),
        first_event_ms=_latency(obj.get("first_event_ms"), f"{path}.first_event_ms"),
        errors={str(k): _int(errors, str(k), f"{path}.errors") for k in errors},
        histogram=histogram,
    )


def _latency(data: Any, path: str) -> Latency | None:
    if data is None:
        return None
    obj = _mapping(data, path)
    latency = Latency(
        count=_int(obj, "count", path),
        **{name: _num(obj, name, path) for name in ("min", "mean", *PERCENTILES, "max")},
    )
    ordered = [latency.min, *(latency.percentile(p) for p in PERCENTILES), latency.max]
    if any(a > b for a, b in itertools.pairwise(ordered)):
        raise SchemaError(f"{path}: min <= p50 <= p90 <= p95 <= p99 <= max does not hold: {ordered}")
    if not latency.min <= latency.mean <= latency.max:
        raise SchemaError(f"{path}.mean: {latency.mean} is outside [min, max]")
    return latency


# -- typed field access ---------------------------------------------------------------------

_MISSING: Any = object()


def _mapping(data: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise SchemaError(f"{path}: expected an object, got {type(data).__name__}")
    return data


def _field(obj: Mapping[str, Any], key: str, path: str, default: Any) -> Any:
    if key in obj:
        return obj[key]
    if default is _MISSING:
        raise SchemaError(f"{path}.{key}: missing")
    return default


def _list(obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = _field(obj, key, path, _MISSING)
    if not isinstance(value, list):
        raise SchemaError(f"{path}.{key}: expected a list, got {type(value).__name__}")
    return value


def _str(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> str:
    value = _field(obj, key, path, default)
    if not isinstance(value, str):
        raise SchemaError(f"{path}.{key}: expected a string, got {type(value).__name__}")
    return value


def _bool(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> bool:
    value = _field(obj, key, path, default)
    if not isinstance(value, bool):
        raise SchemaError(f"{path}.{key}: expected true or false, got {value!r}")
    return value


def _int(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> int:
    value = _field(obj, key, path, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SchemaError(f"{path}.{key}: expected a non-negative integer, got {value!r}")
    return value


def _num(obj: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> float:
    value = _field(obj, key, path, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise SchemaError(f"{path}.{key}: expected a finite non-negative number, got {value!r}")
    return float(value)

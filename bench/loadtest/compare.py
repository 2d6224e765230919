"""Before/after comparison of two result files, with a verdict against thresholds.

Two kinds of check, reported separately because they answer different questions:

* **SLO** (absolute, on the *after* run): p95 < 200 ms and p99 < 500 ms -- the source
  documents' targets -- and an error rate of at most 1 %. For streaming endpoints (SSE,
  WebSocket) the latency SLO is on the time to the first event: a streamed answer is meant
  to take longer in total, and what a user waits for is the first token.
* **Regression** (relative, after vs before, same user level and endpoint): throughput down
  by more than 10 %, p95 or p99 (total, and first event for streams) up by more than 20 %
  *and* by more than 2 ms (loopback jitter makes a 1 ms rise on a 3 ms p95 look like +33 %),
  or the error rate up by more than half a percentage point. An endpoint or level that the
  after run lacks is a failure too: a surface that stopped answering must not pass.

Everything here is pure, so the report is unit-tested on tables of made-up runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.loadtest.schema import Endpoint, Latency, Level, Run


@dataclass(frozen=True)
class Thresholds:
    p95_ms: float = 200.0
    p99_ms: float = 500.0
    max_error_rate: float = 0.01
    max_throughput_drop: float = 0.10
    max_latency_increase: float = 0.20
    min_latency_increase_ms: float = 2.0
    max_error_rate_increase: float = 0.005


@dataclass(frozen=True)
class Pair:
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def ratio(self) -> float | None:
        """Relative change (0.1 is +10 %); ``None`` when there is nothing to compare to."""
        if self.before is None or self.after is None or self.before == 0:
            return None
        return (self.after - self.before) / self.before


PASS, REGRESSION, SLO, MISSING, NEW = "PASS", "REGRESSION", "SLO BREACH", "MISSING", "NEW"


@dataclass(frozen=True)
class Row:
    users: int
    key: str
    throughput: Pair
    latency: dict[str, Pair]
    """``p50``..``p99`` of the whole request, ms."""
    first_event_p95: Pair
    error_rate: Pair
    regressions: tuple[str, ...]
    breaches: tuple[str, ...]
    status: str
    """``PASS``, ``NEW`` (passing, only in after), or why it fails."""

    @property
    def failed(self) -> bool:
        return self.status not in (PASS, NEW)


@dataclass(frozen=True)
class Comparison:
    before: Run
    after: Run
    thresholds: Thresholds
    rows: tuple[Row, ...]
    notes: tuple[str, ...]

    @property
    def regressions(self) -> int:
        return sum(1 for r in self.rows if r.regressions or r.status == MISSING)

    @property
    def breaches(self) -> int:
        return sum(1 for r in self.rows if r.breaches)

    @property
    def passed(self) -> bool:
        return not any(r.failed for r in self.rows)


def _percentiles(lat: Latency | None) -> dict[str, float | None]:
    return {p: (lat.percentile(p) if lat else None) for p in ("p50", "p90", "p95", "p99")}


def _slo_latency(e: Endpoint) -> tuple[Latency | None, str]:
    if e.first_event_ms is not None:
        return e.first_event_ms, "first event "
    return e.latency_ms, ""


def breaches(e: Endpoint, t: Thresholds, check_latency: bool = True) -> list[str]:
    """Absolute SLO failures of one endpoint (of the *after* run)."""
    found: list[str] = []
    lat, what = _slo_latency(e)
    if check_latency and lat is not None:
        if lat.p95 >= t.p95_ms:
            found.append(f"{what}p95 {lat.p95:.1f} ms >= {t.p95_ms:g} ms")
        if lat.p99 >= t.p99_ms:
            found.append(f"{what}p99 {lat.p99:.1f} ms >= {t.p99_ms:g} ms")
    if e.error_rate > t.max_error_rate:
        found.append(f"error rate {100 * e.error_rate:.2f} % > {100 * t.max_error_rate:g} %")
    if e.requests == 0:
        found.append("no requests completed")
    return found


def _latency_regression(name: str, pair: Pair, t: Thresholds) -> str | None:
    ratio, delta = pair.ratio, pair.delta
    if ratio is None or delta is None:
        return None
    if ratio > t.max_latency_increase and delta > t.min_latency_increase_ms:
        return f"{name} {pair.before:.1f} -> {pair.after:.1f} ms ({100 * ratio:+.0f} %)"
    return None


def regressions(before: Endpoint, after: Endpoint, t: Thresholds, check_latency: bool = True) -> list[str]:
    """Relative worsening of one endpoint from before to after."""
    found: list[str] = []
    rps = Pair(before.throughput_rps, after.throughput_rps)
    if rps.ratio is not None and -rps.ratio > t.max_throughput_drop:
        found.append(f"throughput {rps.before:.1f} -> {rps.after:.1f} req/s ({100 * rps.ratio:+.0f} %)")
    if check_latency:
        b, a = _percentiles(before.latency_ms), _percentiles(after.latency_ms)
        for p in ("p95", "p99"):
            found.extend(filter(None, [_latency_regression(p, Pair(b[p], a[p]), t)]))
        if before.first_event_ms and after.first_event_ms:
            pair = Pair(before.first_event_ms.p95, after.first_event_ms.p95)
            found.extend(filter(None, [_latency_regression("first event p95", pair, t)]))
    errors = Pair(before.error_rate, after.error_rate)
    if errors.delta is not None and errors.delta > t.max_error_rate_increase:
        found.append(f"error rate {100 * before.error_rate:.2f} -> {100 * after.error_rate:.2f} %")
    return found


def _row(users: int, key: str, before: Endpoint | None, after: Endpoint | None, t: Thresholds, total: bool) -> Row:
    b_lat = _percentiles(before.latency_ms if before else None)
    a_lat = _percentiles(after.latency_ms if after else None)
    check_latency = not total  # a mixed aggregate blends REST with whole streams: the endpoint rows carry latency
    found_regressions = regressions(before, after, t, check_latency) if before and after else []
    found_breaches = breaches(after, t, check_latency) if after else []
    if after is None:
        status = MISSING
    elif found_regressions and found_breaches:
        status = f"{REGRESSION} + {SLO}"
    elif found_regressions:
        status = REGRESSION
    elif found_breaches:
        status = SLO
    else:
        status = NEW if before is None else PASS
    return Row(
        users=users,
        key=key,
        throughput=Pair(before.throughput_rps if before else None, after.throughput_rps if after else None),
        latency={p: Pair(b_lat[p], a_lat[p]) for p in b_lat},
        first_event_p95=Pair(
            before.first_event_ms.p95 if before and before.first_event_ms else None,
            after.first_event_ms.p95 if after and after.first_event_ms else None,
        ),
        error_rate=Pair(before.error_rate if before else None, after.error_rate if after else None),
        regressions=tuple(found_regressions),
        breaches=tuple(found_breaches),
        status=status,
    )


def _level_rows(users: int, before: Level | None, after: Level | None, t: Thresholds) -> list[Row]:
    b = {e.key: e for e in before.endpoints} if before else {}
    a = {e.key: e for e in after.endpoints} if after else {}
    keys = [*b, *(k for k in a if k not in b)]
    rows = [_row(users, key, b.get(key), a.get(key), t, total=False) for key in keys]
    several = len(b) > 1 or len(a) > 1
    if several:
        rows.append(
            _row(users, "Aggregated", before.total if before else None, after.total if after else None, t, total=True)
        )
    return rows


def compare(before: Run, after: Run, thresholds: Thresholds | None = None) -> Comparison:
    t = thresholds or Thresholds()
    users = [lv.users for lv in before.levels] + [lv.users for lv in after.levels if before.level(lv.users) is None]
    rows: list[Row] = []
    for n in users:
        rows.extend(_level_rows(n, before.level(n), after.level(n), t))
    return Comparison(before, after, t, tuple(rows), tuple(_notes(before, after)))


def _notes(before: Run, after: Run) -> list[str]:
    notes: list[str] = []
    if before.scenario != after.scenario:
        notes.append(f"scenarios differ: {before.scenario} vs {after.scenario}")
    if before.host != after.host:
        notes.append(f"hosts differ: {before.host} vs {after.host}")
    for key in ("spawn_rate", "duration_s", "think_time_s", "message"):
        if before.settings.get(key) != after.settings.get(key):
            notes.append(f"setting {key} differs: {before.settings.get(key)!r} vs {after.settings.get(key)!r}")
    for name, run in (("before", before), ("after", after)):
        for level in run.levels:
            if level.generator_cpu_warning or level.generator_cpu_percent >= 90:
                notes.append(
                    f"{name}, {level.users} users: load generator at {level.generator_cpu_percent:.0f} % CPU "
                    "-- throughput there may measure the generator, not the app"
                )
    return notes


# -- markdown ------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cell(pair: Pair, digits: int = 1, scale: float = 1.0) -> str:
    before = None if pair.before is None else pair.before * scale
    after = None if pair.after is None else pair.after * scale
    text = f"{_num(before, digits)} → {_num(after, digits)}"
    ratio = pair.ratio
    if ratio is not None and pair.delta:
        text += f" ({100 * ratio:+.1f} %)"
    return text


def _describe(name: str, path: str, run: Run) -> str:
    label = f" ({run.label})" if run.label else ""
    return f"- **{name}**: `{path}`{label} — {run.scenario} against {run.host}, {run.created}"


def render_markdown(result: Comparison, before_path: str = "before", after_path: str = "after") -> str:
    t = result.thresholds
    lines = [
        "## Load test comparison",
        "",
        _describe("before", before_path, result.before),
        _describe("after", after_path, result.after),
        "",
        f"SLO: p95 < {t.p95_ms:g} ms, p99 < {t.p99_ms:g} ms (first event for streams), "
        f"error rate <= {100 * t.max_error_rate:g} %. "
        f"Regression: throughput -{100 * t.max_throughput_drop:g} %, "
        f"p95/p99 +{100 * t.max_latency_increase:g} % and +{t.min_latency_increase_ms:g} ms, "
        f"error rate +{100 * t.max_error_rate_increase:g} points.",
        "",
        "| users | endpoint | req/s | p50 ms | p90 ms | p95 ms | p99 ms | first event p95 ms | errors % | verdict |",
        "|---:|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result.rows:
        cells = [
            str(r.users),
            r.key,
            _cell(r.throughput),
            *(_cell(r.latency[p]) for p in ("p50", "p90", "p95", "p99")),
            _cell(r.first_event_p95) if r.first_event_p95.before or r.first_event_p95.after else "-",
            _cell(r.error_rate, 2, 100.0),
            f"**{r.status}**" if r.failed else r.status,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    problems = [
        f"- {r.users} users, {r.key}: " + "; ".join([*r.regressions, *r.breaches] or ["missing from the after run"])
        for r in result.rows
        if r.failed
    ]
    if problems:
        lines += ["", "Problems:", *problems]
    if result.notes:
        lines += ["", "Notes:", *(f"- {n}" for n in result.notes)]
    verdict = "PASS" if result.passed else "FAIL"
    lines += [
        "",
        f"**Verdict: {verdict}** — {len(result.rows)} rows compared, {_count(result.regressions, 'regression')}, "
        f"{_count(result.breaches, 'SLO breach', 'SLO breaches')}.",
    ]
    return "\n".join(lines) + "\n"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def exit_code(result: Comparison) -> int:
    return 0 if result.passed else 1

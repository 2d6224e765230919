"""One table of every overhead scenario (bare, stock, ours) at the top of ``bench/README.md``.

    .venv/bin/python bench/summary_table.py            # rewrite the block in bench/README.md and README.md
    .venv/bin/python bench/summary_table.py --print    # print it only
    .venv/bin/python bench/summary_table.py --check    # exit 1 if the README's block is stale
    .venv/bin/python bench/summary_table.py --run      # run every scenario (quick) and the collector first, ~25 min

Reads the latest result of each scenario ``bench/overhead.py`` wrote (``overhead-latest.json``
for the minimal endpoint, ``overhead-<scenario>-latest.json`` for the others: any scenario
present gets its rows, known ones first), and writes the rows between the
``<!-- summary-table -->`` markers of ``bench/README.md`` and of the README's performance
section. The collector's rows live in their own marked block (``<!-- collector-rows -->``),
written by the collector benchmark and left as they are here.
The table is built by pure functions (tested in ``tests/bench/test_summary_table.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
READMES = (ROOT / "bench" / "README.md", ROOT / "README.md")  # the bench's own and the performance section
BEGIN, END = "<!-- summary-table -->", "<!-- /summary-table -->"
CONFIGS = ("bare", "stock", "ours")
TABLE_CONNS = 32
P99_CONNS = 1


@dataclass(frozen=True)
class Scenario:
    label: str
    target_added_us: float | None  # issue 16's bar for ours' added CPU per request


KNOWN: dict[str, Scenario] = {
    "minimal": Scenario("minimal endpoint", 40),
    "bedrock": Scenario("Converse through boto3", 150),
    "sse": Scenario("ConverseStream relayed as SSE", 250),
    "openai": Scenario("openai SDK, OpenAI-compatible call", 150),
    "openai-stream": Scenario("openai SDK, streamed", 250),
}


def scenario_of(path: Path, data: Mapping[str, Any]) -> str:
    """The scenario a results file holds: its own ``scenario`` field, else its file name."""
    named = data.get("scenario")
    if isinstance(named, str) and named:
        return named
    stem = path.name.removesuffix("-latest.json").removeprefix("overhead")
    return stem.removeprefix("-") or "minimal"


def load_latest(results: Path) -> dict[str, dict[str, Any]]:
    """Every ``overhead*-latest.json`` under ``results`` by scenario."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(results.glob("overhead*-latest.json")):
        data = json.loads(path.read_text())
        found[scenario_of(path, data)] = data
    return found


def _ordered(scenarios: Sequence[str]) -> list[str]:
    known = [s for s in KNOWN if s in scenarios]
    return known + sorted(s for s in scenarios if s not in KNOWN)


def _row(summary: Sequence[Mapping[str, Any]], config: str, conns: int) -> Mapping[str, Any] | None:
    for row in summary:
        if row.get("config") == config and row.get("conns") == conns:
            return row
    return None


def _spread(value: Sequence[float] | None, digits: int = 0, scale: float = 1.0, suffix: str = "") -> str:
    """``median (min-max)`` of a summary triple (an en dash between), or a dash."""
    if not value:
        return "—"
    median, low, high = (v * scale for v in value)
    f = f"{{:,.{digits}f}}"
    return f"{f.format(median)}{suffix} ({f.format(low)}–{f.format(high)})"  # noqa: RUF001


def _verdict(added: Sequence[float] | None, target: float | None) -> str:
    if target is None:
        return "—"
    bar = f"≤ +{target:g}"
    if not added:
        return bar
    return f"{bar}: {'met' if added[0] <= target else 'not met'}"


def _telemetry(row: Mapping[str, Any]) -> str:
    per_request = row.get("spans_per_request")
    spans = f"{per_request:.2f}" if isinstance(per_request, (int, float)) else "—"
    return f"{spans} spans/req, {row.get('log_records', 0):,} logs"


def _source(scenario: str, data: Mapping[str, Any]) -> str:
    versions = data.get("versions") or {}
    commit = str(versions.get("package_last_commit") or "").split(" ", 1)[0] or "?"
    return f"`{scenario}`: {data.get('started_utc', '?')}, package {commit}, `{data.get('command', '?')}`"


def build_table(results: Mapping[str, Mapping[str, Any]], conns: int = TABLE_CONNS) -> str:
    """The markdown block: one row per scenario and configuration, then where each scenario's figures come from."""
    head = (
        f"| scenario | config | req/s ({conns} conns) | share of bare | server CPU µs/req | added CPU µs/req "
        f"| target (added) | p99 ms, {P99_CONNS} conn | p99 added, {P99_CONNS} conn | telemetry | other load % |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines: list[str] = []
    sources: list[str] = []
    for scenario in _ordered(list(results)):
        data = results[scenario]
        summary = data.get("summary") or []
        known = KNOWN.get(scenario, Scenario(scenario, None))
        bare_p99 = _row(summary, "bare", P99_CONNS)
        for config in CONFIGS:
            row = _row(summary, config, conns)
            if row is None:
                continue
            one = _row(summary, config, P99_CONNS)
            p99 = _spread(one["p99_ms"], 2) if one else "—"
            p99_added = (
                f"{one['p99_ms'][0] - bare_p99['p99_ms'][0]:+.2f} ms" if one and bare_p99 and config != "bare" else "—"
            )
            share = _spread(row.get("share_of_bare"), 0, 100, " %") if config != "bare" else "100 %"
            added = row.get("added_cpu_us_per_req")
            lines.append(
                f"| {known.label} | {config} | {_spread(row.get('rps'))} | {share} "
                f"| {_spread(row.get('cpu_us_per_req'))} | {_spread(added) if config != 'bare' else '—'} "
                f"| {_verdict(added, known.target_added_us) if config == 'ours' else '—'} "
                f"| {p99} | {p99_added} | {_telemetry(row) if config != 'bare' else '—'} "
                f"| {_spread(row.get('foreign_cpu_pct'))} |"
            )
        sources.append(_source(scenario, data))
    if not lines:
        return "No results yet: run `bench/overhead.py` for each scenario, then this script.\n"
    note = (
        "\nMedian (min\N{EN DASH}max) over repetitions; added CPU and share of bare are paired with the bare run of "
        "the same repetition (`bench/overhead.py`). Other load: CPU used by other processes during the timed "
        "runs, as a share of the machine; far from 0, the row's throughput and latency are contaminated. "
        "Figures from:\n\n" + "\n".join(f"- {s}" for s in sources) + "\n"
    )
    return head + "\n".join(lines) + "\n" + note


def replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with the block between ``begin`` and ``end`` replaced (else put after the first heading)."""
    wrapped = f"{begin}\n{block.rstrip()}\n{end}"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        return before + wrapped + rest.split(end, 1)[1]
    first, sep, rest = text.partition("\n")
    return f"{first}{sep}\n{wrapped}\n{rest}"


def run_commands(collector_quick: bool = False) -> list[list[str]]:
    """What ``--run`` runs, in order: each known scenario's quick overhead run, then the collector's ladder."""
    bench = ROOT / "bench"
    overhead = [[sys.executable, str(bench / "overhead.py"), "--quick", "--scenario", name] for name in KNOWN]
    collector = [sys.executable, str(bench / "collector_throughput.py"), *(["--quick"] if collector_quick else [])]
    return [*overhead, collector]


def run_all(collector_quick: bool) -> int:
    """Run every benchmark the table reads; the first that fails stops the run (its exit code is returned)."""
    for command in run_commands(collector_quick):
        print("$", " ".join(command), flush=True)
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        if code:
            print(f"stopped: exit code {code}", file=sys.stderr)
            return code
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, action="append", help="file(s) to write (default: both READMEs)")
    parser.add_argument("--conns", type=int, default=TABLE_CONNS)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--print", action="store_true", help="print the block, change nothing")
    mode.add_argument("--check", action="store_true", help="exit 1 if the README's block differs")
    mode.add_argument("--run", action="store_true", help="run every scenario (quick) and the collector, then write")
    parser.add_argument("--collector-quick", action="store_true", help="with --run: the collector's quick ladder")
    args = parser.parse_args(argv)
    if args.run and (code := run_all(args.collector_quick)):
        return code
    block = build_table(load_latest(args.results), args.conns)
    if args.print:
        print(block)
        return 0
    stale = 0
    for readme in args.readme or READMES:
        text = readme.read_text()
        updated = replace_block(text, block)
        if args.check:
            stale += updated != text
            continue
        readme.write_text(updated)
        print(f"wrote the summary table into {readme}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

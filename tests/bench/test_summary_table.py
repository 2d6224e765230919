"""The summary table of bench/README.md: rows per scenario and configuration, built from results files."""
# ruff: noqa: RUF001

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import summary_table
from bench.summary_table import BEGIN, END, build_table, load_latest, replace_block, scenario_of


def _row(config: str, conns: int, cpu: float, rps: float, p99: float, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "config": config,
        "conns": conns,
        "rps": [rps, rps - 10, rps + 10],
        "cpu_us_per_req": [cpu, cpu - 1, cpu + 1],
        "p99_ms": [p99, p99, p99 + 0.1],
        "spans_per_request": None if config == "bare" else 1.0,
        "log_records": 0,
        "foreign_cpu_pct": [2.0, 1.0, 3.0],
    }
    row.update(extra)
    return row


def _result(scenario: str, ours_added: float) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "started_utc": "20261207T200000Z",
        "command": f".venv/bin/python bench/overhead.py --scenario {scenario}",
        "versions": {"package_last_commit": "abc1234 some change"},
        "summary": [
            _row("bare", 1, 100, 5000, 1.0),
            _row("ours", 1, 100 + ours_added, 4000, 1.3, share_of_bare=[0.8, 0.79, 0.81]),
            _row("bare", 32, 120, 8000, 9.0),
            _row("stock", 32, 600, 2000, 30.0, share_of_bare=[0.25, 0.24, 0.26], added_cpu_us_per_req=[480, 470, 490]),
            _row(
                "ours",
                32,
                120 + ours_added,
                6000,
                12.0,
                share_of_bare=[0.75, 0.74, 0.76],
                added_cpu_us_per_req=[ours_added, ours_added - 2, ours_added + 2],
            ),
        ],
    }


def test_rows_for_every_scenario_known_ones_first_then_others() -> None:
    table = build_table({"zeta": _result("zeta", 10), "sse": _result("sse", 300), "minimal": _result("minimal", 35)})
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| scenario")]
    assert [r.split(" | ")[0:2] for r in rows] == [
        ["| minimal endpoint", "bare"],
        ["| minimal endpoint", "stock"],
        ["| minimal endpoint", "ours"],
        ["| ConverseStream relayed as SSE", "bare"],
        ["| ConverseStream relayed as SSE", "stock"],
        ["| ConverseStream relayed as SSE", "ours"],
        ["| zeta", "bare"],
        ["| zeta", "stock"],
        ["| zeta", "ours"],
    ]


def test_ours_row_carries_added_cpu_target_verdict_and_p99_against_bare() -> None:
    table = build_table({"minimal": _result("minimal", 35), "sse": _result("sse", 300)})
    minimal_ours = next(line for line in table.splitlines() if line.startswith("| minimal endpoint | ours"))
    cells = [c.strip() for c in minimal_ours.strip("|").split("|")]
    assert cells == [
        "minimal endpoint",
        "ours",
        "6,000 (5,990–6,010)",
        "75 % (74–76)",
        "155 (154–156)",
        "35 (33–37)",
        "≤ +40: met",
        "1.30 (1.30–1.40)",
        "+0.30 ms",
        "1.00 spans/req, 0 logs",
        "2 (1–3)",
    ]
    sse_ours = next(line for line in table.splitlines() if line.startswith("| ConverseStream relayed as SSE | ours"))
    assert "≤ +250: not met" in sse_ours
    stock = next(line for line in table.splitlines() if line.startswith("| minimal endpoint | stock"))
    assert "| 480 (470–490) | — |" in stock
    assert (
        "- `minimal`: 20261207T200000Z, package abc1234, `.venv/bin/python bench/overhead.py --scenario minimal`"
        in table
    )


def test_no_results_says_how_to_get_them() -> None:
    assert "run `bench/overhead.py`" in build_table({})


def test_block_replaced_between_markers_and_collector_block_kept() -> None:
    collector = "<!-- collector-rows -->\ncollector\n<!-- /collector-rows -->\n"
    readme = f"# bench\n\nintro\n{BEGIN}\nold table\n{END}\n{collector}rest\n"
    updated = replace_block(readme, "new table\n")
    assert updated == (f"# bench\n\nintro\n{BEGIN}\nnew table\n{END}\n{collector}rest\n")
    assert replace_block(updated, "new table\n") == updated


def test_block_put_after_the_title_when_missing() -> None:
    assert replace_block("# bench\nbody\n", "t") == f"# bench\n\n{BEGIN}\nt\n{END}\nbody\n"


def test_latest_files_found_by_scenario(tmp_path: Path) -> None:
    (tmp_path / "overhead-latest.json").write_text(json.dumps({"summary": []}))
    (tmp_path / "overhead-openai-stream-latest.json").write_text(json.dumps({"summary": []}))
    (tmp_path / "overhead-bedrock-latest.json").write_text(json.dumps({"scenario": "bedrock", "summary": []}))
    (tmp_path / "overhead-20261207T200000Z.json").write_text("not read")
    assert sorted(load_latest(tmp_path)) == ["bedrock", "minimal", "openai-stream"]
    assert scenario_of(Path("overhead-sse-latest.json"), {}) == "sse"


def test_run_runs_every_known_scenario_quick_then_the_collector() -> None:
    commands = summary_table.run_commands()
    scenarios = [c[c.index("--scenario") + 1] for c in commands[:-1]]
    assert scenarios == list(summary_table.KNOWN)
    assert all(c[1].endswith("bench/overhead.py") and "--quick" in c for c in commands[:-1])
    assert commands[-1][1].endswith("bench/collector_throughput.py") and "--quick" not in commands[-1]
    assert "--quick" in summary_table.run_commands(collector_quick=True)[-1]

"""Collector throughput: otelcol-chatbot with the bundled config, driven at rising rates until it saturates.

Run from the repository root::

    .venv/bin/python bench/collector_throughput.py --quick   # ~3 min
    .venv/bin/python bench/collector_throughput.py           # ~6-15 min (ladders stop after two misses)

It builds (or takes from the cache) otelcol-chatbot and telemetrygen, starts the stand-in
backends once (the OTLP sink for Tempo and the log backend, counting stand-ins for
Prometheus remote write and CloudWatch Logs), then for each signal runs a ladder of rates,
each step against a fresh collector with ``collector/config.yaml`` (tail sampling,
persistent queues, memory_limiter) as shipped: the generator sends spans, metric points or
log records at the step's rate, the collector's CPU and RSS are sampled, the queues drain,
and every item is accounted for (bench/collector/steps.py).  A step is *sustained* when the
rate was held, nothing was lost or refused, and the queues were empty within 5 s of the end.

Then one step above saturation with a smaller memory limit shows what memory_limiter does
(refusals the generator retries, bounded memory, nothing lost), and telemetrygen drives one
step as a cross-check of the generator.  The machine's other load is recorded per step.

Output: a markdown table on stdout and ``bench/results/collector-<UTC timestamp>.{json,md}``
(plus ``collector-latest.*``).  See bench/README.md, "Collector throughput".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.collector.generators import Replay, Telemetrygen  # noqa: E402
from bench.collector.stack import Backends  # noqa: E402
from bench.collector.steps import Step, measure  # noqa: E402
from bench.summary_table import replace_block  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BUNDLED = (ROOT / "collector" / "config.yaml",)
PPROF = ROOT / "collector" / "pprof.yaml"
LADDERS = {
    "quick": {"traces": [20_000, 50_000], "metrics": [10_000], "logs": [10_000]},
    "full": {
        "traces": [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 85_000, 100_000],
        "metrics": [5_000, 10_000, 20_000, 30_000, 50_000, 75_000, 100_000],
        "logs": [5_000, 10_000, 20_000, 30_000, 50_000, 75_000, 100_000],
    },
}
ITEM = {"traces": "spans", "metrics": "metric points", "logs": "log records"}
README_MARKS = ("<!-- collector-rows -->", "<!-- /collector-rows -->")  # bench/summary_table.py leaves them


def build(script: str) -> Path:
    out = subprocess.run(["bash", str(ROOT / "scripts" / script)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"scripts/{script} failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


def container_memory(mib: int) -> dict[str, str]:
    """memory_limiter as in a container of ``mib`` MiB (the bundled 75 % / 20 % of it), and GOMEMLIMIT at 80 %.

    80 %: memory_limiter's README advice, which collector/README.md ("Capacity") repeats for containers.
    """
    return {
        "OTELCOL_MEMORY_LIMIT_MIB": str(mib * 75 // 100),
        "OTELCOL_MEMORY_SPIKE_LIMIT_MIB": str(mib * 20 // 100),
        "GOMEMLIMIT": f"{mib * 80 // 100}MiB",
    }


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set wants KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def fmt_rate(v: float) -> str:
    return f"{v:,.0f}"


def table(records: Sequence[dict[str, Any]]) -> str:
    head = (
        "| signal | config | generator | target /s | sent /s | lost | refused (retried) | sustained | collector cores "
        "| collector µs/item | RSS peak MiB | heap peak MiB | queue peak | drain s | generator cores | backends cores "
        "| other load cores |\n" + "|---" * 17 + "|\n"
    )
    rows = []
    for r in records:
        a = r["accounting"]
        rows.append(
            f"| {r['signal']} | {r['label']} | {r['generator_name']} | {fmt_rate(r['target_rate'])} "
            f"| {fmt_rate(r['achieved_rate'])} | {a['lost']} | {a['refused_then_retried']} "
            f"| {'yes' if r['sustained'] else 'NO'} | {r['collector_cores']:.2f} "
            f"| {r['collector_cpu_us_per_item']:.1f} "
            f"| {r['rss_peak_mib']} | {r['heap_peak_mib']} | {r['queue_peak']} | {r['drain_s']} "
            f"| {r['generator_cores']:.2f} | {r['backends_cores']:.2f} | {r['other_load_cores']:.2f} |"
        )
    return head + "\n".join(rows) + "\n"


def summary(records: Sequence[dict[str, Any]]) -> str:
    """The collector rows of bench/README.md's one table: the highest sustained rate per signal."""
    lines = [
        "| collector (otelcol-chatbot, bundled config, 2 cores) | sustained, zero loss | collector CPU there "
        "| µs/item there | RSS peak there | first rate not sustained | other load cores there |",
        "|---|---|---|---|---|---|---|",
    ]
    for signal in ("traces", "metrics", "logs"):
        ladder = [r for r in records if r["signal"] == signal and r["kind"] == "ladder"]
        if not ladder:
            continue
        ok = [r for r in ladder if r["sustained"]]
        best = max(ok, key=lambda r: float(r["target_rate"])) if ok else None
        top = best["target_rate"] if best else 0
        above = sorted(r["target_rate"] for r in ladder if not r["sustained"] and r["target_rate"] > top)
        what = ITEM[signal] + ("/s, tail sampling on" if signal == "traces" else "/s")
        if best is None:
            lines.append(f"| {what} | none | — | — | — | {fmt_rate(above[0])} | — |")
            continue
        first_miss = fmt_rate(above[0]) if above else "not reached"
        lines.append(
            f"| {what} | {fmt_rate(top)} | {best['collector_cores']:.2f} cores "
            f"| {best['collector_cpu_us_per_item']:.0f} | {best['rss_peak_mib']} MiB | {first_miss} "
            f"| {best['other_load_cores']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def readme_rows(records: Sequence[dict[str, Any]], info: dict[str, str], when: str) -> str:
    """The collector rows of bench/README.md's one table, with where and how they were measured."""
    others = [r["other_load_cores"] for r in records]
    load = f"{min(others):.2f}-{max(others):.2f}" if others else "?"
    lines = [
        f"Collector throughput (issue 16 item 4), {when}, git {info['git_head']}, "
        f"`.venv/bin/python bench/collector_throughput.py`; other load on the machine {load} cores "
        '(bench/README.md, "Collector throughput", has the ladder and the method).',
        "",
        summary(records).rstrip(),
    ]
    for r in records:
        if r["kind"] == "overload":
            a, limit = r["accounting"], r["overrides"].get("OTELCOL_MEMORY_LIMIT_MIB", "?")
            gomemlimit = r["overrides"].get("GOMEMLIMIT", "unset")
            lines.append(
                f"| above saturation: {fmt_rate(r['target_rate'])} spans/s offered, memory_limiter {limit} MiB, "
                f"GOMEMLIMIT {gomemlimit} "
                f"| {a['lost']} lost, {a['refused_then_retried']:,} span attempts refused and retried "
                f"| {r['collector_cores']:.2f} cores | — | {r['rss_peak_mib']} MiB "
                f"| {fmt_rate(r['achieved_rate'])} taken | {r['other_load_cores']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def versions(binary: Path, tg: Path | None) -> dict[str, str]:
    def run(*argv: str) -> str:
        try:
            return subprocess.run(list(argv), capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()
        except OSError:
            return "?"

    return {
        "otelcol-chatbot": run(str(binary), "--version"),
        "telemetrygen": str(tg) if tg else "not used",
        "git_head": run("git", "rev-parse", "--short", "HEAD"),
        "collector_last_commit": run("git", "log", "-1", "--format=%h %s", "--", "collector")[:120],
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().strip(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="short ladders, 8 s steps (~3 min)")
    p.add_argument("--signals", default="traces,metrics,logs")
    p.add_argument("--rates", action="append", default=[], metavar="SIGNAL=R1,R2", help="a ladder of your own")
    p.add_argument("--duration", type=float, help="seconds per step (default 8 quick, 15 full)")
    p.add_argument("--reps", type=int, default=1, help="repeat every step (the table lists each)")
    p.add_argument("--config", action="append", type=Path, help="collector config(s) instead of the bundled one")
    p.add_argument("--set", action="append", default=[], metavar="VAR=VALUE", help="collector env (config knobs)")
    p.add_argument("--label", default="bundled")
    p.add_argument("--memory-mib", type=int, default=2048, help="memory_limiter, GOMEMLIMIT as in a container this big")
    p.add_argument("--overload-memory-mib", type=int, default=256, help="the same for the step above saturation")
    p.add_argument("--overload-rate", type=float, default=120_000, help="spans/s of the step above saturation")
    p.add_argument("--no-overload", action="store_true")
    p.add_argument("--no-telemetrygen", action="store_true")
    p.add_argument("--profile", type=float, default=0.0, metavar="S", help="CPU-profile each trace step for S s")
    p.add_argument("--keep-going", action="store_true", help="climb the whole ladder even after it stops keeping up")
    p.add_argument(
        "--readme",
        choices=("auto", "yes", "no"),
        default="auto",
        help="write the collector rows into bench/README.md and README.md (auto: full default runs)",
    )
    a = p.parse_args(argv)

    mode = "quick" if a.quick else "full"
    duration = a.duration or (8.0 if a.quick else 15.0)
    ladders: dict[str, list[float]] = {k: [float(r) for r in v] for k, v in LADDERS[mode].items()}
    for spec in a.rates:
        signal, _, rates = spec.partition("=")
        ladders[signal] = [float(x) for x in rates.split(",") if x]
    signals = [s for s in a.signals.split(",") if s]
    configs = tuple(c.resolve() for c in a.config) if a.config else BUNDLED
    if a.profile:
        configs += (PPROF,)
    env = {**container_memory(a.memory_mib), **_overrides(a.set)}

    binary = build("build_collector.sh")
    tg = None if a.no_telemetrygen else build("build_telemetrygen.sh")
    info = versions(binary, tg)
    print(f"otelcol-chatbot: {binary}\nload average at start: {info['loadavg_at_start']}", flush=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    records: list[dict[str, Any]] = []
    replay = Replay()
    started = time.monotonic()
    backends = Backends()
    try:
        with tempfile.TemporaryDirectory(prefix="collector-bench-") as tmp:
            work = Path(tmp)

            def run(step: Step, kind: str, generator: Any = replay) -> dict[str, Any]:
                record = measure(
                    step,
                    binary,
                    backends,
                    work / f"step{len(records)}",
                    generator,
                    RESULTS / f"collector-{stamp}-profiles",
                )
                record |= {"kind": kind, "generator_name": generator.name}
                records.append(record)
                print(table([record]).splitlines()[-1], flush=True)
                return record

            print(table([]), end="", flush=True)
            for signal in signals:
                misses = 0
                for rate in ladders[signal]:
                    for _ in range(a.reps):
                        step = Step(
                            signal, rate, duration, a.label, configs, env, profile_s=a.profile * (signal == "traces")
                        )
                        ok = run(step, "ladder")["sustained"]
                    misses = 0 if ok else misses + 1
                    if misses >= 2 and not a.keep_going and not a.quick:
                        break
            if not a.no_overload and "traces" in signals:
                over_env = {**env, **container_memory(a.overload_memory_mib)}
                run(
                    Step(
                        "traces",
                        a.overload_rate,
                        duration * 1.5,
                        f"{a.label}, {a.overload_memory_mib} MiB",
                        configs,
                        over_env,
                        inflight=16,
                    ),
                    "overload",
                )
            if tg is not None and "traces" in signals:
                run(Step("traces", 5_000, duration, a.label, configs, env), "cross-check", Telemetrygen(tg))
    finally:
        backends.stop()

    elapsed = time.monotonic() - started
    md = (
        f"## Collector throughput ({mode}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{elapsed / 60:.1f} min, git {info['git_head']})\n\n" + summary(records) + "\n" + table(records)
    )
    print("\n" + md)
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"mode": mode, "duration_s": duration, "versions": info, "elapsed_s": round(elapsed), "records": records}
    for name in (f"collector-{stamp}", "collector-latest"):
        (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1))
        (RESULTS / f"{name}.md").write_text(md)
    print(f"results: bench/results/collector-{stamp}.json", flush=True)
    default_run = not (a.quick or a.config or a.set or a.rates or a.duration or a.signals != "traces,metrics,logs")
    if a.readme == "yes" or (a.readme == "auto" and default_run):
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()) + f" ({mode})"
        rows = readme_rows(records, info, when)
        for readme in (ROOT / "bench" / "README.md", ROOT / "README.md"):  # the README's performance section quotes it
            readme.write_text(replace_block(readme.read_text(), rows, *README_MARKS))
            print(f"{readme.relative_to(ROOT)}: collector rows rewritten", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

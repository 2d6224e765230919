"""Soak: one server under wrk until it served N requests (default 1,000,000), RSS sampled on the way.

Run from the repository root::

    .venv/bin/python bench/soak.py                      # otel_chatbot, 1 M requests at 32 connections
    .venv/bin/python bench/soak.py --config bare --requests 200000

Issue 5 asks that RSS stays flat (within 5 %) across 1 M requests with full telemetry
exported. One uvicorn process (same app, launch and environment as ``bench/overhead.py``)
is driven by back-to-back ``wrk`` segments; after each, ``VmRSS`` and the requests so far
are recorded. Growth is measured from the first sample (after the first segment, so
start-up allocation and warm caches are excluded) to the last, and the peak in between.
At the end the server is stopped with SIGINT and the spans and HTTP duration histogram
count the receiver got are compared with the requests the app served.

Writes ``bench/results/soak-<config>-<UTC timestamp>.{json,md}``; prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.overhead import (  # the repository root went on sys.path first
    APP,
    CONFIGS,
    RESULTS,
    WRK_LUA,
    Sink,
    cpu_seconds,
    rss_kib,
    run_wrk,
    server_env,
    start_server,
    versions,
)


def soak(args: argparse.Namespace) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    lua = RESULTS / "post.lua"
    lua.write_text(WRK_LUA)
    served_file = str(RESULTS / f"soak-served-{os.getpid()}")
    sink, msink = Sink(), Sink(keep=True)
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    try:
        with open(RESULTS / f"server-soak-{args.config}.log", "w", encoding="utf-8") as log:
            env = server_env(args.config, sink.http, msink.http, served_file)
            server = start_server(args.config, APP, env, log, served_file)
            proc, port = server.proc, server.port
            try:
                done, cpu0 = 0, cpu_seconds(proc.pid)
                while done < args.requests:
                    w = run_wrk(str(lua), port, args.conns, args.segment, 1)
                    done += w["requests"]
                    sample = {
                        "requests": done,
                        "rss_mib": rss_kib(proc.pid) / 1024,
                        "elapsed_s": time.monotonic() - started,
                        "cpu_us_per_req": (cpu_seconds(proc.pid) - cpu0) * 1e6 / max(done, 1),
                        "rps": w["requests"] / (w["duration_us"] / 1e6),
                        "p99_ms": w["p99_us"] / 1000,
                        "spans_so_far": sink.items()["traces"],
                    }
                    samples.append(sample)
                    print(
                        f"{done:>10,} requests  RSS {sample['rss_mib']:6.1f} MiB  {sample['rps']:6,.0f} req/s  "
                        f"p99 {sample['p99_ms']:6.2f} ms  spans so far {sample['spans_so_far']:,}",
                        flush=True,
                    )
            finally:
                proc.send_signal(signal.SIGINT)
                exit_code = proc.wait(timeout=30)
        after = sink.settle(max_wait=10.0)
        msink.settle(max_wait=3.0)
        histogram = msink.duration_count()
        served = int(Path(served_file).read_text())
        Path(served_file).unlink()
    finally:
        sink.stop()
        msink.stop()
    first, last = samples[0]["rss_mib"], samples[-1]["rss_mib"]
    peak = max(s["rss_mib"] for s in samples)
    return {
        "config": args.config,
        "conns": args.conns,
        "segment_s": args.segment,
        "target_requests": args.requests,
        "served": served,
        "spans": after["traces"],
        "duration_histogram_count": histogram[1] if histogram else None,
        "exit_code": exit_code,
        "rss_first_mib": first,
        "rss_last_mib": last,
        "rss_peak_mib": peak,
        "rss_growth_pct": 100 * (last - first) / first,
        "rss_peak_over_first_pct": 100 * (peak - first) / first,
        "samples": samples,
        "versions": versions(),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Soak, `{result['config']}`, {result['conns']} connections, wrk segments of {result['segment_s']} s",
        "",
        "| requests | RSS MiB | req/s (segment) | p99 ms (segment) | CPU µs/req (so far) |",
        "|---|---|---|---|---|",
    ]
    for s in result["samples"]:
        lines.append(
            f"| {s['requests']:,} | {s['rss_mib']:.1f} | {s['rps']:,.0f} | {s['p99_ms']:.2f} "
            f"| {s['cpu_us_per_req']:.0f} |"
        )
    lines += [
        "",
        f"RSS first sample {result['rss_first_mib']:.1f} MiB, last {result['rss_last_mib']:.1f} MiB "
        f"({result['rss_growth_pct']:+.1f} %), peak {result['rss_peak_mib']:.1f} MiB "
        f"({result['rss_peak_over_first_pct']:+.1f} % over the first).",
        f"Served {result['served']:,}; spans received {result['spans']:,}; duration histogram count "
        f"{result['duration_histogram_count']}; server exit code {result['exit_code']}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", choices=CONFIGS, default="ours")
    p.add_argument("--requests", type=int, default=1_000_000, help="stop once wrk completed this many")
    p.add_argument("--conns", type=int, default=32)
    p.add_argument("--segment", type=int, default=30, help="seconds per wrk run between RSS samples")
    args = p.parse_args(argv)
    result = soak(args)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    base = RESULTS / f"soak-{args.config}-{stamp}"
    base.with_suffix(".json").write_text(json.dumps(result, indent=2))
    table = markdown(result)
    base.with_suffix(".md").write_text(table)
    print()
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One measured step: a fresh collector, the generator at one rate, then drain and account for every item.

Accounting (every figure from the collector's own metrics or the backends' counters, read
after the queues drained):

* generated (the generator's first attempts) = accepted by the collector's OTLP receiver;
  refusals (memory_limiter) are retried by the generator and listed apart;
* traces: spans tail sampling kept = spans the Tempo exporter sent = spans the sink got;
  "overflow" = traces dropped before a decision because more than ``num_traces`` were
  pending.  With ``sampling_strategy: span-ingest`` the processor's
  ``sampling_trace_dropped_too_early`` also counts every trace it kept at ingest (it is gone
  from the map when its timer fires), so overflow = that counter - traces sampled, read once
  every trace of the step has passed ``decision_wait``;
* metrics: points accepted = sent by the Prometheus spool = sent by prometheus_remote_write;
  points out of cumulative_to_delta = sent by the CloudWatch spool = sent by awsemf;
* logs: records accepted = sent by the log exporter = records the sink got;
* and nothing failed to enqueue anywhere; for traces nothing failed to send either (metrics and
  logs compare what each exporter sent end to end, so a failed attempt a retry delivered is not
  a loss there).
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.collector import selfmetrics
from bench.collector.selfmetrics import Sample, total
from bench.collector.stack import IMAGE, Backends, Collector, cpu_seconds, image_env, rss_mib, system_busy_seconds

ITEM_METRIC = {"traces": "spans", "metrics": "metric_points", "logs": "log_records"}
APP_RECEIVER = "otlp"


@dataclass(frozen=True)
class Step:
    signal: str
    rate: float
    duration_s: float
    label: str = ""  # the config variant ("bundled", "tuned: ...")
    configs: tuple[Path, ...] = ()
    overrides: Mapping[str, str] = field(default_factory=dict)
    batch: int = 512
    inflight: int = 8
    instances: int = 50
    tail_wait_s: float = 11.5  # decision_wait (10 s) + a tick: every trace decided before accounting
    profile_s: float = 0.0  # > 0: take a CPU profile (collector/pprof.yaml) this long, mid-run


def _drained(samples: Sequence[Sample]) -> bool:
    return total(samples, "otelcol_exporter_queue_size") == 0


def account(signal: str, gen: Mapping[str, Any], s: Sequence[Sample], counts: Mapping[str, int]) -> dict[str, Any]:
    """Where every generated item went; ``lost`` must be 0 for a step to pass (pure)."""
    kind = ITEM_METRIC[signal]
    accepted = total(s, f"otelcol_receiver_accepted_{kind}", receiver=APP_RECEIVER)
    out: dict[str, Any] = {
        "generated": gen["items"],
        "accepted": int(accepted),
        "refused_then_retried": int(total(s, f"otelcol_receiver_refused_{kind}", receiver=APP_RECEIVER)),
        "generator_failed": gen["failed"] + gen["rejected"],
        "enqueue_failed": int(total(s, f"otelcol_exporter_enqueue_failed_{kind}")),
        "send_failed": int(total(s, f"otelcol_exporter_send_failed_{kind}")),
    }
    lost = out["generator_failed"] + abs(gen["items"] - accepted) + out["enqueue_failed"]
    if signal == "traces":
        # no count of the spans tail sampling kept to compare the Tempo exporter's with: a
        # failed send counts as lost even when a retry delivered it
        lost += out["send_failed"]
        sampled = total(s, "otelcol_processor_tail_sampling_global_count_traces_sampled", sampled="true")
        too_early = total(s, "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early")
        out |= {
            "traces": int(total(s, "otelcol_processor_tail_sampling_new_trace_id_received")),
            "traces_kept": int(sampled),
            "traces_not_kept": int(
                total(s, "otelcol_processor_tail_sampling_global_count_traces_sampled", sampled="false")
            ),
            "overflow_traces": int(max(0.0, too_early - sampled)),
            "spans_exported": int(total(s, "otelcol_exporter_sent_spans", exporter="otlp_grpc/tempo")),
            "spans_at_backend": counts["sink_spans"],
        }
        lost += out["overflow_traces"] + abs(out["spans_exported"] - out["spans_at_backend"])
        undecided = out["traces"] - out["traces_kept"] - out["traces_not_kept"] - out["overflow_traces"]
        lost += abs(undecided)
    elif signal == "metrics":
        spool_p = total(s, "otelcol_exporter_sent_metric_points", exporter="otlp_grpc/spool_prometheus")
        prw = total(s, "otelcol_exporter_sent_metric_points", exporter="prometheus_remote_write")
        deltas = total(s, "otelcol_processor_outgoing_items", processor="transform/cloudwatch_levels")
        spool_c = total(s, "otelcol_exporter_sent_metric_points", exporter="otlp_grpc/spool_cloudwatch")
        emf = total(s, "otelcol_exporter_sent_metric_points", exporter="awsemf")
        out |= {
            "to_prometheus": int(prw),
            "remote_write_requests": counts.get("remote_write_requests", 0),
            "to_cloudwatch": int(emf),
            "emf_events": counts.get("cloudwatch_log_events", 0),
        }
        lost += abs(accepted - spool_p) + abs(spool_p - prw) + abs(deltas - spool_c) + abs(spool_c - emf)
        # send_failed: failed attempts (e.g. a spool's first send before its loopback receiver
        # listened); what a retry delivered balances above, what none did does not
    else:
        sent = total(s, "otelcol_exporter_sent_log_records", exporter="otlp_grpc/logs")
        out |= {"records_exported": int(sent), "records_at_backend": counts["sink_log_records"]}
        lost += abs(accepted - sent) + abs(sent - counts["sink_log_records"])
    out["lost"] = int(lost)
    return out


def _delta(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items()}


def measure(
    step: Step, binary: Path, backends: Backends, workdir: Path, generator: Any, profile_dir: Path | None = None
) -> dict[str, Any]:
    """Run one step; the record has the rates, CPU, memory, queue peaks and the accounting."""
    counts_before = backends.counts()
    collector = Collector(binary, step.configs, workdir, backends, step.overrides)
    try:
        time.sleep(0.5)  # let start-up CPU (config, storage compaction) pass
        proc = generator.start(step, collector.grpc_endpoint)
        cpu0, busy0, side0 = cpu_seconds(collector.pid), system_busy_seconds(), _cpu_of(backends.pids)
        t0 = time.monotonic()
        peak_rss, peak_queue, peak_heap, refused_seen = 0.0, 0.0, 0.0, 0.0
        profile = None
        while proc.poll() is None:
            time.sleep(0.5)
            peak_rss = max(peak_rss, rss_mib(collector.pid))
            s = selfmetrics.scrape(collector.metrics_url)
            peak_queue = max(peak_queue, total(s, "otelcol_exporter_queue_size"))
            peak_heap = max(peak_heap, total(s, "otelcol_process_runtime_heap_alloc_bytes") / 2**20)
            refused_seen = total(s, f"otelcol_receiver_refused_{ITEM_METRIC[step.signal]}", receiver=APP_RECEIVER)
            if step.profile_s and profile_dir and profile is None and time.monotonic() - t0 > 2:
                name = re.sub(r"[^A-Za-z0-9]+", "-", f"{step.signal}-{step.rate:.0f}-{step.label}").strip("-")
                profile = _profile(collector.pprof_url, step.profile_s, profile_dir / f"{name}.pprof")
        gen = generator.result(proc)
        wall = time.monotonic() - t0
        cpu1, busy1, side1 = cpu_seconds(collector.pid), system_busy_seconds(), _cpu_of(backends.pids)
        rss_end = rss_mib(collector.pid)
        # drain: every queue empty, then (traces) every trace past decision_wait
        t_end = time.monotonic()
        drain_s = None
        while time.monotonic() - t_end < 120:
            s = selfmetrics.scrape(collector.metrics_url)
            if _drained(s):
                drain_s = round(time.monotonic() - t_end, 1)
                break
            time.sleep(0.25)
        if step.signal == "traces":
            time.sleep(max(0.0, step.tail_wait_s - (time.monotonic() - t_end)))
        time.sleep(1.0)  # the last exports reach the backends
        # every item's work done: drained, decided (tail sampling drops the traces it did not
        # keep at decision_wait, after the sending), exported
        cpu_all = cpu_seconds(collector.pid)
        s = selfmetrics.scrape(collector.metrics_url)
        counts = _delta(backends.counts(), counts_before)
        alive = collector.alive()
        warnings, warning_samples = collector.log_lines_matching(r"\t(warn|error)\t")
    finally:
        collector.stop()
    collector_cpu = cpu1 - cpu0
    side_cpu = side1 - side0
    gen_cpu = float(gen["cpu_s"])
    record: dict[str, Any] = {
        "signal": step.signal,
        "label": step.label,
        "target_rate": step.rate,
        "achieved_rate": round(gen["achieved_rate"]),
        "accepted_rate": round(gen["accepted"] / gen["send_s"]) if gen["send_s"] else 0,
        "max_behind_s": round(gen["max_behind_s"], 3),
        "retries": gen["retries"],
        "collector_cores": round(collector_cpu / wall, 3),
        # all of the step's CPU, drain and tail sampling's decisions after the sending included
        "collector_cpu_us_per_item": round((cpu_all - cpu0) / max(1, gen["items"]) * 1e6, 2),
        "generator_cores": round(gen_cpu / wall, 3),
        "backends_cores": round(side_cpu / wall, 3),
        "other_load_cores": round(max(0.0, (busy1 - busy0) - collector_cpu - gen_cpu - side_cpu) / wall, 3),
        "rss_peak_mib": round(peak_rss),
        "rss_end_mib": round(rss_end),
        "heap_peak_mib": round(peak_heap),
        "queue_peak": int(peak_queue),
        "refused_during_run": int(refused_seen),
        "drain_s": drain_s,
        "collector_alive": alive,
        "collector_warnings": warnings,
        "collector_warning_samples": warning_samples,
        "wall_s": round(wall, 1),
        "accounting": account(step.signal, gen, s, counts),
        "generator": gen,
        "overrides": dict(step.overrides),
        "image_env": image_env(IMAGE.read_text()),  # under the overrides
        "profile": profile,
    }
    record["zero_loss"] = record["accounting"]["lost"] == 0 and alive
    # keeps up: sent on schedule (within 2 %), nothing left queued for long after the end
    record["sustained"] = bool(
        record["zero_loss"]
        and gen["achieved_rate"] >= 0.98 * step.rate
        and gen["accepted"] >= 0.98 * gen["items"]
        and not gen["retries"]
        and drain_s is not None
        and drain_s <= 5
    )
    return record


def _cpu_of(pids: Sequence[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def _profile(pprof_url: str, seconds: float, path: Path) -> str:
    """A CPU profile of the collector (blocks ``seconds``), saved to ``path``; ``go tool pprof -top`` reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(f"{pprof_url}/debug/pprof/profile?seconds={int(seconds)}", timeout=seconds + 30) as r:
        path.write_bytes(r.read())
    return str(path)

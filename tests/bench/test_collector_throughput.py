"""The collector benchmark's summary rows and its block in bench/README.md; the accounting of one step."""

from __future__ import annotations

from typing import Any

import pytest

from bench.collector.selfmetrics import parse, total
from bench.collector.stack import image_env
from bench.collector.steps import account
from bench.collector_throughput import README_MARKS, container_memory, readme_rows, summary
from bench.summary_table import replace_block


def _record(signal: str, rate: float, sustained: bool, kind: str = "ladder", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "signal": signal,
        "kind": kind,
        "target_rate": rate,
        "achieved_rate": rate,
        "sustained": sustained,
        "collector_cores": 0.5,
        "collector_cpu_us_per_item": 33.3,
        "rss_peak_mib": 300,
        "other_load_cores": 1.0,
        "accounting": {"lost": 0, "refused_then_retried": 0},
        "overrides": {},
    }
    record.update(extra)
    return record


def test_summary_takes_the_highest_sustained_rate_and_the_first_miss_above_it() -> None:
    records = [_record("traces", 10_000, True), _record("traces", 20_000, True), _record("traces", 30_000, False)]
    records += [_record("logs", 5_000, False)]
    text = summary(records)
    assert "| spans/s, tail sampling on | 20,000 | 0.50 cores | 33 | 300 MiB | 30,000 | 1.00 |" in text
    assert "| log records/s | none | — | — | — | 5,000 | — |" in text
    assert "metric points" not in text


def test_readme_rows_replace_only_the_collector_block() -> None:
    overload = _record(
        "traces",
        120_000,
        False,
        kind="overload",
        overrides=container_memory(256),
        accounting={"lost": 0, "refused_then_retried": 2_000_000},
    )
    rows = readme_rows([_record("traces", 10_000, True), overload], {"git_head": "abc1234"}, "now")
    assert "memory_limiter 192 MiB, GOMEMLIMIT 204MiB | 0 lost, 2,000,000 span attempts refused and retried" in rows
    begin, end = README_MARKS
    readme = f"# bench\n\n<!-- summary-table -->\nx\n<!-- /summary-table -->\n\n{begin}\nold\n{end}\n\nrest\n"
    new = replace_block(readme, rows, begin, end)
    assert "old" not in new and "abc1234" in new
    assert new.startswith("# bench\n\n<!-- summary-table -->\nx\n<!-- /summary-table -->\n") and new.endswith(
        "\nrest\n"
    )


def test_logs_accounting_balances_end_to_end_and_counts_what_did_not_arrive() -> None:
    text = (
        'otelcol_receiver_accepted_log_records{receiver="otlp",transport="grpc"} 1000\n'
        'otelcol_exporter_sent_log_records{exporter="otlp_grpc/logs"} 1000\n'
        'otelcol_exporter_send_failed_log_records{exporter="otlp_grpc/logs"} 50\n'
    )
    gen = {"items": 1000, "failed": 0, "rejected": 0}
    samples = parse(text)
    assert total(samples, "otelcol_receiver_accepted_log_records", receiver="otlp") == 1000
    # a failed attempt that a retry delivered is not a loss when the sink has every record
    assert account("logs", gen, samples, {"sink_log_records": 1000})["lost"] == 0
    assert account("logs", gen, samples, {"sink_log_records": 990})["lost"] == 10


def test_traces_count_failed_sends_and_undecided_traces_as_lost() -> None:
    text = (
        'otelcol_receiver_accepted_spans{receiver="otlp"} 700\n'
        "otelcol_processor_tail_sampling_new_trace_id_received 100\n"
        'otelcol_processor_tail_sampling_global_count_traces_sampled{sampled="true"} 10\n'
        'otelcol_processor_tail_sampling_global_count_traces_sampled{sampled="false"} 90\n'
        "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early 10\n"
        'otelcol_exporter_sent_spans{exporter="otlp_grpc/tempo"} 70\n'
    )
    gen = {"items": 700, "failed": 0, "rejected": 0}
    assert account("traces", gen, parse(text), {"sink_spans": 70})["lost"] == 0
    undecided = text.replace('{sampled="false"} 90', '{sampled="false"} 80')
    assert account("traces", gen, parse(undecided), {"sink_spans": 70})["lost"] == 10
    failed = text + 'otelcol_exporter_send_failed_spans{exporter="otlp_grpc/tempo"} 7\n'
    assert account("traces", gen, parse(failed), {"sink_spans": 70})["lost"] == 7


def test_a_container_of_n_mib_gets_memory_limiter_at_75_20_and_gomemlimit_at_80_percent() -> None:
    assert container_memory(2048) == {
        "OTELCOL_MEMORY_LIMIT_MIB": "1536",
        "OTELCOL_MEMORY_SPIKE_LIMIT_MIB": "409",
        "GOMEMLIMIT": "1638MiB",
    }


def test_the_collector_runs_with_the_images_env_lines() -> None:
    dockerfile = "FROM alpine\n# ENV NOT=this\nENV GOGC=200\n  env A=1 B=2\nUSER 1\n"
    assert image_env(dockerfile) == {"GOGC": "200", "A": "1", "B": "2"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        image_env("ENV GOGC 200\n")

"""CloudWatch Embedded Metric Format (EMF): reading awsemf's log events back and checking them.

The rules are the EMF specification's
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
an ``_aws`` member with ``Timestamp`` (epoch milliseconds) and ``CloudWatchMetrics``, a list
of directives, each with a ``Namespace`` (1-255 characters), ``Dimensions`` (a list of
dimension sets, each at most 30 names of string members of the event) and ``Metrics`` (at
most 100 definitions, each naming a member of the event, with an optional CloudWatch unit
and a ``StorageResolution`` of 1 or 60).

One deviation is accepted on purpose: the spec says a metric's value is a number or a list
of numbers, and ``awsemf`` writes histograms as statistic sets
(``{"Max", "Min", "Count", "Sum"}``), which CloudWatch also ingests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The units CloudWatch PutMetricData / EMF accept (StandardUnit).
CLOUDWATCH_UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_EVENT_BYTES = 256 * 1024
_STATISTIC_SET = frozenset({"Max", "Min", "Count", "Sum"})


@dataclass(frozen=True)
class Declaration:
    """One awsemf ``metric_declarations`` entry."""

    dimensions: tuple[frozenset[str], ...]
    selectors: tuple[re.Pattern[str], ...]

    def selects(self, metric: str) -> bool:
        return any(s.search(metric) for s in self.selectors)


@dataclass(frozen=True)
class AwsEmfConfig:
    """What collector/config.yaml tells awsemf: declarations and units."""

    declarations: tuple[Declaration, ...]
    units: dict[str, str]
    rollup: str


def awsemf_config(config_path: Path) -> AwsEmfConfig:
    exporter = yaml.safe_load(config_path.read_text())["exporters"]["awsemf"]
    declarations = tuple(
        Declaration(
            tuple(frozenset(d) for d in entry["dimensions"]),
            tuple(re.compile(s) for s in entry["metric_name_selectors"]),
        )
        for entry in exporter["metric_declarations"]
    )
    units = {d["metric_name"]: d["unit"] for d in exporter.get("metric_descriptors", [])}
    return AwsEmfConfig(declarations, units, str(exporter.get("dimension_rollup_option", "")))


def read_events(logs_client: Any, group: str) -> list[dict[str, Any]]:
    """Every log event of ``group`` (all streams, all pages), oldest first, message parsed."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group}
    while True:
        page = logs_client.filter_log_events(**kwargs)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token or not page["events"]:
            break
        kwargs["nextToken"] = token
    events.sort(key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))
    return [{**e, "parsed": json.loads(e["message"])} for e in events]


def read_stream(logs_client: Any, group: str, stream: str) -> list[dict[str, Any]]:
    """``get_log_events`` over one stream (forward, all pages)."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    while True:
        page = logs_client.get_log_events(**kwargs)
        events.extend(page["events"])
        token = page.get("nextForwardToken")
        if not page["events"] or token == kwargs.get("nextToken"):
            break
        kwargs["nextToken"] = token
    return events


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def metric_value_problems(name: str, value: Any) -> list[str]:
    if _is_number(value):
        return []
    if isinstance(value, list):
        if not value or len(value) > MAX_VALUES_PER_METRIC or not all(_is_number(v) for v in value):
            return [f"metric {name}: list value must hold 1..{MAX_VALUES_PER_METRIC} numbers: {value!r}"]
        return []
    if isinstance(value, dict) and set(value) == _STATISTIC_SET and all(_is_number(v) for v in value.values()):
        if value["Count"] < 0 or value["Min"] > value["Max"]:
            return [f"metric {name}: inconsistent statistic set {value!r}"]
        return []
    return [f"metric {name}: value is neither a number, a list of numbers nor a statistic set: {value!r}"]


def emf_problems(event: Mapping[str, Any], raw_size: int) -> list[str]:
    """Everything in one EMF event that breaks the specification (empty list: valid)."""
    problems: list[str] = []
    if raw_size > MAX_EVENT_BYTES:
        problems.append(f"event is {raw_size} bytes (> {MAX_EVENT_BYTES})")
    aws = event.get("_aws")
    if not isinstance(aws, dict):
        return [*problems, "no _aws object"]
    timestamp = aws.get("Timestamp")
    if not (isinstance(timestamp, int) and not isinstance(timestamp, bool) and timestamp > 0):
        problems.append(f"_aws.Timestamp is not epoch milliseconds: {timestamp!r}")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, f"_aws.CloudWatchMetrics must be a non-empty list: {directives!r}"]
    for directive in directives:
        if not isinstance(directive, dict):
            problems.append(f"directive is not an object: {directive!r}")
            continue
        namespace = directive.get("Namespace")
        if not (isinstance(namespace, str) and 1 <= len(namespace) <= 255):
            problems.append(f"Namespace must be 1-255 characters: {namespace!r}")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(dimension_sets, list):
            problems.append(f"Dimensions must be a list: {dimension_sets!r}")
            dimension_sets = []
        for dimension_set in dimension_sets:
            if not isinstance(dimension_set, list) or not all(isinstance(d, str) for d in dimension_set):
                problems.append(f"a DimensionSet must be a list of names: {dimension_set!r}")
                continue
            if len(dimension_set) > MAX_DIMENSIONS_PER_SET:
                problems.append(f"DimensionSet has {len(dimension_set)} dimensions (> {MAX_DIMENSIONS_PER_SET})")
            if len(set(dimension_set)) != len(dimension_set):
                problems.append(f"DimensionSet repeats a name: {dimension_set}")
            for name in dimension_set:
                value = event.get(name)
                if not isinstance(value, str) or not value:
                    problems.append(f"dimension {name!r} must be a non-empty string member, is {value!r}")
                elif len(value) > 1024:
                    problems.append(f"dimension {name!r} value longer than 1024 characters")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list) or not metrics:
            problems.append(f"Metrics must be a non-empty list: {metrics!r}")
            continue
        if len(metrics) > MAX_METRICS_PER_DIRECTIVE:
            problems.append(f"{len(metrics)} metrics in one directive (> {MAX_METRICS_PER_DIRECTIVE})")
        for metric in metrics:
            name = metric.get("Name") if isinstance(metric, dict) else None
            if not isinstance(name, str) or not 1 <= len(name) <= 1024:
                problems.append(f"metric definition without a valid Name: {metric!r}")
                continue
            if "Unit" in metric and metric["Unit"] not in CLOUDWATCH_UNITS:
                problems.append(f"metric {name}: unit {metric['Unit']!r} is not a CloudWatch unit")
            if "StorageResolution" in metric and metric["StorageResolution"] not in (1, 60):
                problems.append(f"metric {name}: StorageResolution {metric['StorageResolution']!r} not 1 or 60")
            if name not in event:
                problems.append(f"metric {name}: no member of that name in the event")
            else:
                problems += metric_value_problems(name, event[name])
    return problems


def declaration_problems(event: Mapping[str, Any], config: AwsEmfConfig) -> list[str]:
    """Dimensions and units of an EMF event against the declarations it should follow.

    With NoDimensionRollup, a metric gets exactly the declared dimension sets whose
    dimensions all exist on its data point (awsemf drops the others), and nothing else.
    """
    problems: list[str] = []
    for directive in event["_aws"]["CloudWatchMetrics"]:
        got = {frozenset(d) for d in directive["Dimensions"]}
        for metric in directive["Metrics"]:
            name = metric["Name"]
            matching = [d for d in config.declarations if d.selects(name)]
            if not matching:
                problems.append(f"metric {name} is exported but no declaration selects it")
                continue
            expected = {dims for decl in matching for dims in decl.dimensions if all(k in event for k in dims)}
            if got != expected:
                got_sets, want_sets = sorted(map(sorted, got)), sorted(map(sorted, expected))
                problems.append(f"metric {name}: dimension sets {got_sets} != declared {want_sets}")
            unit = config.units.get(name)
            if unit is not None and metric.get("Unit") != unit:
                problems.append(f"metric {name}: unit {metric.get('Unit')!r} != descriptor's {unit!r}")
    return problems


def metric_names(events: Iterable[Mapping[str, Any]]) -> set[str]:
    return {m["Name"] for e in events if "_aws" in e for d in e["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}


def statistic_total(
    events: Iterable[Mapping[str, Any]], metric: str, stat: str, key: Sequence[str]
) -> dict[tuple[str, ...], float]:
    """Sum of ``stat`` (e.g. Count, Sum) of ``metric`` over events that CloudWatch turns into metrics.

    Each event is counted once (whatever the number of its dimension sets), grouped by the
    values of the members ``key`` ("" when absent). With awsemf's delta conversion (and
    retain_initial_value_of_delta_metric) the events of a series add up to its total.
    """
    totals: dict[tuple[str, ...], float] = {}
    for event in events:
        if "_aws" not in event or metric not in metric_names([event]):
            continue
        value = event[metric]
        amount = value[stat] if isinstance(value, dict) else value
        group = tuple(str(event.get(k, "")) for k in key)
        totals[group] = totals.get(group, 0) + amount
    return totals

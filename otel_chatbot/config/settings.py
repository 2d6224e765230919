"""Resolve the settings table into one frozen :class:`Settings`.

Precedence: keyword argument > environment variable > default. Parsing happens once,
at ``configure()`` time; a bad value raises :class:`ConfigError` naming the variable.
The environment is read, never written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote

from otel_chatbot.config.keywords import conforms, describe
from otel_chatbot.config.table import SETTINGS, Setting


class ConfigError(ValueError):
    """A setting has a value the distro cannot use; raised at start-up only."""


@dataclass(frozen=True)
class Settings:
    """Every setting, parsed. Field names are the ``name`` column of the table."""

    sdk_disabled: bool
    service_name: str
    service_version: str | None
    deployment_environment: str | None
    resource_attributes: tuple[tuple[str, str], ...]
    aws_detectors: tuple[str, ...]
    traces_exporter: tuple[str, ...]
    metrics_exporter: tuple[str, ...]
    logs_exporter: tuple[str, ...]
    otlp_protocol: str
    otlp_endpoint: str | None
    otlp_traces_endpoint: str | None
    otlp_metrics_endpoint: str | None
    otlp_logs_endpoint: str | None
    otlp_headers: tuple[tuple[str, str], ...]
    otlp_timeout_ms: int
    otlp_compression: str
    sampler: str
    sampler_arg: float
    propagators: tuple[str, ...]
    bsp_schedule_delay_ms: int
    bsp_max_queue_size: int
    bsp_max_export_batch_size: int
    blrp_schedule_delay_ms: int
    blrp_max_queue_size: int
    blrp_max_export_batch_size: int
    metric_export_interval_ms: int
    prometheus_host: str
    prometheus_port: int
    stats_host: str
    stats_port: int | None
    log_level: str
    excluded_urls: tuple[str, ...]
    disabled_instrumentations: tuple[str, ...]
    semconv_opt_in: tuple[str, ...]
    capture_message_content: bool
    content_max_bytes: int
    redact_patterns: tuple[str, ...]
    request_id_header: str
    response_headers: tuple[str, ...]
    conversation_id_sources: tuple[tuple[str, str], ...]
    genai_endpoints: tuple[tuple[str, str], ...]
    pricing_file: str | None
    max_models: int
    resolve_inference_profiles: bool
    gc_freeze: bool
    loop_lag_interval_ms: int
    process_metrics: tuple[str, ...]
    raise_internal_errors: bool

    def exports(self, signal: str, exporter: str) -> bool:
        """Whether ``signal`` ("traces", "metrics", "logs") goes to ``exporter``."""
        chosen: tuple[str, ...] = getattr(self, f"{signal}_exporter")
        return exporter in chosen

    def instrumentation_enabled(self, name: str) -> bool:
        return name not in self.disabled_instrumentations


_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def _as_raw(setting: Setting, value: object) -> str:
    """Render a keyword argument in the string form its parser reads.

    A string is taken as the environment variable's form; any other value must have the
    setting's Python type (``Setting.accepts``), else the call fails with a TypeError
    naming the keyword. Mapping keys and values are percent-encoded, so a header value
    holding ``,`` or ``=`` arrives intact.
    """
    if isinstance(value, str):
        return value
    if not conforms(value, setting.accepts):
        raise TypeError(
            f"configure({setting.name}=...) expects {describe(setting.accepts)} "
            f"(or the string form of {setting.env}), got {type(value).__name__} {value!r}"
        )
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ",".join(f"{quote(str(key), safe='')}={quote(str(val), safe='')}" for key, val in value.items())
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    if isinstance(value, Sequence):
        return ",".join(f"{item[0]}:{item[1]}" if isinstance(item, tuple) else str(item) for item in value)
    return str(value)


def load_settings(overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from keyword overrides, the environment and the defaults.

    Raises :class:`ConfigError` for an unknown keyword or a value its parser rejects, and
    TypeError for a keyword value of the wrong type.
    """
    overrides = dict(overrides or {})
    env = os.environ if environ is None else environ
    unknown = sorted(set(overrides) - set(_BY_NAME))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}; valid settings are: {', '.join(sorted(_BY_NAME))}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            source = f"configure({setting.name}=...) [{setting.env}]"
            raw = _as_raw(setting, overrides[setting.name])
        elif setting.env in env:
            source = setting.env
            raw = env[setting.env]
        else:
            source = f"default of {setting.env}"
            raw = setting.default
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return Settings(**values)


def setting_names() -> tuple[str, ...]:
    """Field names of :class:`Settings`, for the table/dataclass consistency test."""
    return tuple(field.name for field in fields(Settings))

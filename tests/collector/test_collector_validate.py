"""`otelcol-chatbot validate` accepts every shipped configuration and rejects broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from otelcol_harness import CONFIG_SETS, loopback_env, minimal_env, shipped_config_files, validate


def test_every_shipped_config_file_is_in_a_validated_set() -> None:
    covered = {name for configs, _ in CONFIG_SETS.values() for name in configs}
    assert covered == shipped_config_files()


@pytest.mark.parametrize("name", sorted(CONFIG_SETS))
def test_shipped_config_validates_with_its_defaults(otelcol_binary: Path, name: str) -> None:
    configs, env = CONFIG_SETS[name]
    result = validate(otelcol_binary, configs, minimal_env(**env))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(CONFIG_SETS))
def test_shipped_config_validates_with_the_test_environment(otelcol_binary: Path, name: str, tmp_path: Path) -> None:
    configs, env = CONFIG_SETS[name]
    result = validate(otelcol_binary, configs, loopback_env(tmp_path, **env))
    assert result.returncode == 0, result.stderr


def test_auth_overlay_without_a_token_is_rejected(otelcol_binary: Path) -> None:
    result = validate(otelcol_binary, ["config.yaml", "auth.yaml"], minimal_env())
    assert result.returncode != 0
    assert "bearertokenauth" in result.stderr
    assert "token" in result.stderr


def test_unknown_debug_switch_value_is_rejected(otelcol_binary: Path) -> None:
    result = validate(otelcol_binary, ["config.yaml"], minimal_env(OTELCOL_DEBUG_EXPORTER="stdout"))
    assert result.returncode != 0
    assert 'references exporter "stdout" which is not configured' in result.stderr


@pytest.mark.parametrize("choice", ["nop", "debug", "otlp_grpc/logs"])
def test_every_logs_exporter_choice_validates(otelcol_binary: Path, tmp_path: Path, choice: str) -> None:
    result = validate(otelcol_binary, ["config.yaml"], loopback_env(tmp_path, OTELCOL_LOGS_EXPORTER=choice))
    assert result.returncode == 0, result.stderr


BROKEN = {
    "unconfigured processor in a pipeline": (
        """
receivers: {otlp: {protocols: {grpc: {endpoint: "127.0.0.1:0"}}}}
exporters: {nop: {}}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [nop]}
""",
        'references processor "batch" which is not configured',
    ),
    "component type not in this distribution": (
        """
receivers: {otlp: {protocols: {grpc: {endpoint: "127.0.0.1:0"}}}}
exporters: {prometheus: {endpoint: "127.0.0.1:0"}}
service:
  pipelines:
    metrics: {receivers: [otlp], exporters: [prometheus]}
""",
        'unknown type: "prometheus"',
    ),
    "bad tail sampling policy": (
        """
receivers: {otlp: {protocols: {grpc: {endpoint: "127.0.0.1:0"}}}}
processors:
  tail_sampling:
    policies: [{name: slow, type: latency, latency: {threshold_ms: "not-a-number"}}]
exporters: {nop: {}}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [tail_sampling], exporters: [nop]}
""",
        "policies[0].latency.threshold_ms",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_fails_validation_with_a_message(otelcol_binary: Path, tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    result = validate(otelcol_binary, [path], minimal_env())
    assert result.returncode != 0
    assert "Error:" in result.stderr
    assert expected in result.stderr, result.stderr

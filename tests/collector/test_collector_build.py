"""scripts/build_collector.sh: cached by manifest hash, last stdout line is the binary, loud failures."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from otelcol_harness import BUILD_SCRIPT, find_go


def run_script(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_second_run_is_a_cache_hit_on_the_same_binary(otelcol_binary: Path) -> None:
    go = find_go()
    assert go is not None
    result = run_script(GO=go)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.splitlines()[-1]) == otelcol_binary
    assert "cached:" in result.stderr
    assert otelcol_binary.name == "otelcol-chatbot"
    assert otelcol_binary.parent.parent.name == "collector"


def test_missing_go_fails_with_a_clear_message(tmp_path: Path) -> None:
    result = run_script(GO=str(tmp_path / "no-such-go"), OTEL_CHATBOT_CACHE=str(tmp_path / "cache"))
    assert result.returncode != 0
    assert result.stdout == ""
    assert "ERROR: Go toolchain not found" in result.stderr
